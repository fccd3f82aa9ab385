package main

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

var demoAccountsRe = regexp.MustCompile(`demo accounts: admin@carlot\.test and staff\.<dealer-slug>@carlot\.test, password: (\S+) \(shown once; set SEED_PASSWORD to choose it\)`)

func TestDBSeedShowsTheGeneratedPasswordOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t, testdb.Empty)}
	out, err := runCmd(t, env, "db", "seed", "--vehicles", "0")
	if err != nil || !strings.Contains(out, ", 37 users") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	m := demoAccountsRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no demo accounts line:\n%s", out)
	}
	db := openPool(t, env["DATABASE_URL"])
	for _, email := range []string{seed.AdminEmail, seed.StaffEmail("Stonebridge Motors")} {
		if _, err := models.Authenticate(context.Background(), db, email, m[1]); err != nil {
			t.Fatalf("log in as %s with the printed password: %v", email, err)
		}
	}

	out, err = runCmd(t, env, "db", "seed", "--vehicles", "0")
	if err != nil || strings.Contains(out, "demo accounts") || !strings.Contains(out, ", 0 users") {
		t.Fatalf("repeat seed: %v\n%s", err, out)
	}
}

func TestDBSeedUsesSEED_PASSWORD(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t, testdb.Empty)
	env := map[string]string{"DATABASE_URL": url, "SEED_PASSWORD": "chosen-demo-password"}
	out, err := runCmd(t, env, "db", "seed", "--vehicles", "0")
	if err != nil || strings.Contains(out, "demo accounts") {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if _, err := models.Authenticate(context.Background(), openPool(t, url), seed.AdminEmail, "chosen-demo-password"); err != nil {
		t.Fatalf("log in with SEED_PASSWORD: %v", err)
	}

	env["SEED_PASSWORD"] = "short"
	_, err = runCmd(t, env, "db", "seed")
	if err == nil || err.Error() != "db seed: SEED_PASSWORD must be at least 8 characters" {
		t.Fatalf("short SEED_PASSWORD: %v", err)
	}
}

// A fresh embedded database is seeded at start, and the generated password
// logged once.
func TestFirstStartLogsTheDemoAccounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		wantLine       bool
	}{
		{"generated", "", true},
		{"SEED_PASSWORD", "chosen-demo-password", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &store{DB: testdb.New(t, testdb.Empty), Embedded: true}
			var logs apitest.LogBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			cfg := &config.Config{MediaDir: t.TempDir()}
			if err := prepareDatabase(t.Context(), cfg, st, log, tc.password); err != nil {
				t.Fatal(err)
			}
			var photoRows int
			if err := st.DB.NewRaw("SELECT count(*) FROM vehicle_photos").Scan(t.Context(), &photoRows); err != nil || photoRows != 2*seed.PhotoVehicles {
				t.Fatalf("%d demo photos (%v), want %d", photoRows, err, 2*seed.PhotoVehicles)
			}
			m := demoAccountsRe.FindAllStringSubmatch(logs.String(), -1)
			if got := len(m) == 1; got != tc.wantLine {
				t.Fatalf("demo accounts lines: %d, want line: %v\n%s", len(m), tc.wantLine, logs.String())
			}
			password := tc.password
			if tc.wantLine {
				password = m[0][1]
			}
			if _, err := models.Authenticate(context.Background(), st.DB, seed.AdminEmail, password); err != nil {
				t.Fatalf("log in: %v", err)
			}
			// The next start finds the data and logs nothing more.
			if err := prepareDatabase(t.Context(), cfg, st, log, tc.password); err != nil {
				t.Fatal(err)
			}
			if err := st.DB.NewRaw("SELECT count(*) FROM vehicle_photos").Scan(t.Context(), &photoRows); err != nil || photoRows != 2*seed.PhotoVehicles {
				t.Fatalf("%d demo photos (%v), want %d", photoRows, err, 2*seed.PhotoVehicles)
			}
			if n := len(demoAccountsRe.FindAllString(logs.String(), -1)); n != len(m) {
				t.Fatalf("a restart logged the demo accounts again")
			}
		})
	}
}

func TestDBSeedIsNotBoundByTheRequestTimeouts(t *testing.T) {
	t.Parallel()
	// A statement timeout far shorter than the seed's bulk insert: the
	// server would cancel such a statement, an admin command must not.
	env := map[string]string{
		"DATABASE_URL":         testdb.URL(t, testdb.Empty),
		"SEED_PASSWORD":        "chosen-demo-password",
		"REQUEST_TIMEOUT":      "1ms",
		"DB_STATEMENT_TIMEOUT": "1ms",
	}
	out, err := runCmd(t, env, "db", "seed", "--vehicles", "2000")
	if err != nil || !strings.Contains(out, ", 2000 vehicles") {
		t.Fatalf("seed under a 1 ms request timeout: %v\n%s", err, out)
	}
}
