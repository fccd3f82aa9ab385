package main

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// runWithStdin runs the program with stdin and returns stdout and the error.
func runWithStdin(t *testing.T, env map[string]string, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	var out, errOut apitest.LogBuffer
	err := run(t.Context(), append([]string{"server"}, args...), envOf(env), stdin, &out, &errOut)
	return out.String(), err
}

// userDB is a seeded database for user commands: its environment and a pool.
func userDB(t *testing.T) (map[string]string, *bun.DB) {
	t.Helper()
	url := testdb.URL(t, testdb.Seeded)
	return map[string]string{"DATABASE_URL": url}, openPool(t, url)
}

// openPool opens a small pool on url, closed when the test ends.
func openPool(t *testing.T, url string) *bun.DB {
	t.Helper()
	db, err := database.Open(url, database.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func dealerGlobalID(t *testing.T, db bun.IDB, name string) (string, int64) {
	t.Helper()
	var id int64
	if err := db.NewRaw("SELECT id FROM dealers WHERE name = ?", name).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return relay.NodeID(models.TypeDealer, id), id
}

func TestUserCreateEachRole(t *testing.T) {
	t.Parallel()
	env, db := userDB(t)
	dealer, dealerID := dealerGlobalID(t, db, "Foothills Ford")
	for _, tc := range []struct {
		args   []string
		role   models.Role
		dealer *int64
	}{
		{[]string{"--email", "Boss@Example.com", "--role", "admin"}, models.RoleAdmin, nil},
		{[]string{"--email", "seller@example.com", "--role", "Staff", "--dealer", dealer}, models.RoleStaff, &dealerID},
		{[]string{"--role", "VIEWER", "--email", "reader@example.com"}, models.RoleViewer, nil},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			password := "pass-for-" + strings.ToLower(string(tc.role))
			args := append([]string{"user", "create", "--password-stdin"}, tc.args...)
			out, err := runWithStdin(t, env, strings.NewReader(password+"\n"), args...)
			if err != nil {
				t.Fatal(err)
			}
			email := models.NormalizeEmail(tc.args[indexOf(tc.args, "--email")+1])
			u, err := models.Authenticate(context.Background(), db, email, password)
			if err != nil {
				t.Fatalf("log in as the new user: %v", err)
			}
			if want := "created " + string(tc.role) + " " + email + " (id " + graph.NodeID(u.Key()) + ")\n"; out != want {
				t.Fatalf("output %q, want %q", out, want)
			}
			if u.Role != tc.role || (u.DealerID == nil) != (tc.dealer == nil) || (u.DealerID != nil && *u.DealerID != *tc.dealer) {
				t.Fatalf("created %s of dealer %v, want %s of %v", u.Role, u.DealerID, tc.role, tc.dealer)
			}
		})
	}
}

func indexOf(args []string, s string) int {
	for i, a := range args {
		if a == s {
			return i
		}
	}
	return -1
}

func TestUserCreateRefusals(t *testing.T) {
	t.Parallel()
	env, db := userDB(t)
	dealer, _ := dealerGlobalID(t, db, "Rideau BMW")
	vehicle := relay.NodeID("Vehicle", 1)
	missingDealer := relay.NodeID(models.TypeDealer, 999999)
	if out, err := runWithStdin(t, env, strings.NewReader("first-password\n"),
		"user", "create", "--email", "taken@example.com", "--role", "VIEWER", "--password-stdin"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	for _, tc := range []struct {
		name  string
		stdin io.Reader
		args  []string
		want  string
	}{
		{"STAFF without a dealer", nil, []string{"--email", "s@example.com", "--role", "STAFF"},
			"user create: dealer: is required for STAFF"},
		{"ADMIN with a dealer", nil, []string{"--email", "a@example.com", "--role", "ADMIN", "--dealer", dealer},
			"user create: dealer: only STAFF belong to a dealer"},
		{"malformed dealer ID", nil, []string{"--email", "s@example.com", "--role", "STAFF", "--dealer", "Rideau BMW"},
			`user create: --dealer "Rideau BMW" is not a dealer ID`},
		{"another type's ID", nil, []string{"--email", "s@example.com", "--role", "STAFF", "--dealer", vehicle},
			"is the ID of a Vehicle, not of a Dealer"},
		{"unknown dealer", nil, []string{"--email", "s@example.com", "--role", "STAFF", "--dealer", missingDealer},
			"user create: dealer: no such dealer"},
		{"unknown role", nil, []string{"--email", "s@example.com", "--role", "OWNER"},
			"user create: role: must be VIEWER, STAFF or ADMIN"},
		{"duplicate email in another case", nil, []string{"--email", " TAKEN@Example.COM ", "--role", "VIEWER"},
			"user create: a user with that email already exists"},
		{"short password", strings.NewReader("short\n"), []string{"--email", "p@example.com", "--role", "VIEWER"},
			"user create: password: must be at least 8 characters"},
		{"several problems at once", strings.NewReader("short"), []string{"--email", "nobody", "--role", "STAFF"},
			"user create: email: must be an email address; password: must be at least 8 characters; dealer: is required for STAFF"},
		{"bad email", nil, []string{"--email", "@example.com", "--role", "VIEWER"},
			"user create: email: must be an email address"},
		{"no email", nil, []string{"--role", "VIEWER"}, "user create: --email is required"},
		{"no role", nil, []string{"--email", "r@example.com"}, "user create: --role is required"},
		{"empty stdin", strings.NewReader(""), []string{"--email", "e@example.com", "--role", "VIEWER"},
			"user create: --password-stdin: stdin is empty"},
		{"unknown flag", nil, []string{"--email", "e@example.com", "--role", "VIEWER", "--admin"},
			"user create: flag provided but not defined: -admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := tc.stdin
			if stdin == nil {
				stdin = strings.NewReader("long-enough-password\n")
			}
			out, err := runWithStdin(t, env, stdin, append([]string{"user", "create", "--password-stdin"}, tc.args...)...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line containing %q", msg, tc.want)
			}
		})
	}

	var n int
	if err := db.NewRaw("SELECT count(*) FROM users WHERE email NOT LIKE '%@carlot.test'").Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("refused commands left %d users besides the first (%v)", n-1, err)
	}
}

func TestUserCreateWithoutATerminalNeedsPasswordStdin(t *testing.T) {
	t.Parallel()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	// Neither a plain reader nor a file that is no terminal can be prompted;
	// no database is needed to find out.
	for _, stdin := range []io.Reader{strings.NewReader("password1\n"), devNull} {
		_, err := runWithStdin(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}, stdin,
			"user", "create", "--email", "x@example.com", "--role", "VIEWER")
		if err == nil || err.Error() != "user create: stdin is not a terminal: use --password-stdin" {
			t.Fatalf("stdin %T: err = %v", stdin, err)
		}
	}
}

func TestUserCommandErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"user"},
		{"user", "delete"},
		{"user", "create", "extra"},
		{"user", "create", "--email"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCmd(t, nil, args...)
			if err == nil || err.Error() == "" || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v: want a one-line error, got %q", args, err)
			}
		})
	}
}

func TestUserCreateRefusesPendingMigrations(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t, testdb.Empty)}
	if _, err := runCmd(t, env, "db", "rollback"); err != nil {
		t.Fatal(err)
	}
	_, err := runWithStdin(t, env, strings.NewReader("long-enough\n"),
		"user", "create", "--email", "x@example.com", "--role", "ADMIN", "--password-stdin")
	if err == nil || !regexp.MustCompile(`^user create: \d+ migrations are pending; run 'server db migrate' first$`).MatchString(err.Error()) {
		t.Fatalf("err = %v", err)
	}
}

func TestHelpNamesUserCreate(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "help")
	if err != nil || !strings.Contains(out, "server user create --email E --role ROLE [--dealer DEALER_ID] [--password-stdin]") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}
