package seed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

func TestStaffEmail(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"Lakeshore Toyota":       "staff.lakeshore-toyota@carlot.test",
		"Mont-Royal Volkswagen":  "staff.mont-royal-volkswagen@carlot.test",
		"  Cap--Rouge  Autos! ":  "staff.cap-rouge-autos@carlot.test",
		"Westboro Mercedes-Benz": "staff.westboro-mercedes-benz@carlot.test",
		"Lot 42":                 "staff.lot-42@carlot.test",
	} {
		t.Run(name, func(t *testing.T) {
			if got := seed.StaffEmail(name); got != want {
				t.Errorf("StaffEmail(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

// login fails the test unless email logs in with password, and returns the user.
func login(t *testing.T, db bun.IDB, email, password string) *models.User {
	t.Helper()
	u, err := models.Authenticate(context.Background(), db, email, password)
	if err != nil {
		t.Fatalf("log in as %s: %v", email, err)
	}
	return u
}

func TestAccountsGetTheGivenPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	res := run(t, db, seed.Options{Password: testPassword})
	if res.Users != wantUsers || res.GeneratedPassword != "" {
		t.Fatalf("Users = %d, GeneratedPassword = %q; want %d and none", res.Users, res.GeneratedPassword, wantUsers)
	}

	admin := login(t, db, seed.AdminEmail, testPassword)
	if admin.Role != models.RoleAdmin || admin.DealerID != nil {
		t.Fatalf("admin is %s of dealer %v", admin.Role, admin.DealerID)
	}
	if _, err := models.Authenticate(ctx, db, seed.AdminEmail, "not-the-password"); !models.IsBadCredentials(err) {
		t.Fatalf("wrong password: err = %v", err)
	}

	var dealerID int64
	must(t, db.NewRaw(`SELECT id FROM dealers WHERE name = 'Bayview Honda'`).Scan(ctx, &dealerID))
	staff := login(t, db, "STAFF.Bayview-Honda@carlot.test", testPassword)
	if staff.Role != models.RoleStaff || staff.DealerID == nil || *staff.DealerID != dealerID {
		t.Fatalf("staff.bayview-honda is %s of dealer %v, want STAFF of %d", staff.Role, staff.DealerID, dealerID)
	}

	// Every dealer has exactly one STAFF account, named after it.
	var mismatched int
	must(t, db.NewRaw(`
		SELECT count(*) FROM dealers d
		WHERE (SELECT count(*) FROM users u WHERE u.dealer_id = d.id AND u.role = 'STAFF') <> 1`).Scan(ctx, &mismatched))
	if mismatched != 0 {
		t.Fatalf("%d dealers do not have exactly one STAFF account", mismatched)
	}
	for _, u := range take(t, db).Users {
		if u.Role == "STAFF" && u.Email != seed.StaffEmail(*u.Dealer) {
			t.Errorf("the STAFF account of %s is %s, want %s", *u.Dealer, u.Email, seed.StaffEmail(*u.Dealer))
		}
	}
}

func TestRepeatRunCreatesNoAccounts(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	first := run(t, db, seed.Options{})
	if first.GeneratedPassword == "" {
		t.Fatal("no password was generated")
	}
	for _, opts := range []seed.Options{{}, {Password: testPassword}} {
		if res := run(t, db, opts); res.Users != 0 || res.GeneratedPassword != "" {
			t.Fatalf("repeat run with %+v: Users = %d, GeneratedPassword = %q; want none", opts, res.Users, res.GeneratedPassword)
		}
	}
	// The accounts kept the first run's password.
	login(t, db, seed.AdminEmail, first.GeneratedPassword)
}

func TestGeneratedPasswordWorks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	res := run(t, db, seed.Options{})
	if res.Users != wantUsers {
		t.Fatalf("Users = %d, want %d", res.Users, wantUsers)
	}
	if pw := res.GeneratedPassword; len(pw) < 16 || strings.ContainsAny(pw, " \n") {
		t.Fatalf("generated password %q is too short or awkward to type", pw)
	}
	login(t, db, seed.AdminEmail, res.GeneratedPassword)
	login(t, db, seed.StaffEmail("Atlantic Volvo"), res.GeneratedPassword)

	// Another database gets another password.
	other := run(t, testdb.New(t, testdb.Empty), seed.Options{})
	if other.GeneratedPassword == res.GeneratedPassword {
		t.Fatal("two seeds generated the same password")
	}

	// A run that recreates a deleted account gives it (only it) a new password.
	if _, err := db.ExecContext(ctx, "DELETE FROM users WHERE email = ?", seed.AdminEmail); err != nil {
		t.Fatal(err)
	}
	again := run(t, db, seed.Options{})
	if again.Users != 1 || again.GeneratedPassword == "" || again.GeneratedPassword == res.GeneratedPassword {
		t.Fatalf("recreating the admin: Users = %d, GeneratedPassword = %q", again.Users, again.GeneratedPassword)
	}
	login(t, db, seed.AdminEmail, again.GeneratedPassword)
	login(t, db, seed.StaffEmail("Atlantic Volvo"), res.GeneratedPassword)
}

func TestBadPasswordIsRefused(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	_, err := seed.Run(context.Background(), db, seed.Options{Password: "short"})
	if err == nil || !strings.Contains(err.Error(), "password must be at least 8 characters") {
		t.Fatalf("err = %v", err)
	}
}

func TestResetRecreatesAccountsAndEmptiesTheEventLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	run(t, db, seed.Options{Vehicles: 10, Password: testPassword})

	// An event, as a vehicle write would append it, and a login session.
	if _, err := db.ExecContext(ctx, `
		WITH n AS (UPDATE vehicle_event_sequence SET last = last + 1 RETURNING last)
		INSERT INTO vehicle_events (sequence, kind, vehicle_id, snapshot, actor_id)
		SELECT last, 'CREATED', 1, '{}', (SELECT id FROM users WHERE email = ?) FROM n`, seed.AdminEmail); err != nil {
		t.Fatal(err)
	}
	if _, err := models.StartSession(ctx, db, login(t, db, seed.AdminEmail, testPassword), time.Hour); err != nil {
		t.Fatal(err)
	}
	var lastBefore int64
	must(t, db.NewRaw(`SELECT last FROM vehicle_event_sequence`).Scan(ctx, &lastBefore))
	if lastBefore < 1 {
		t.Fatalf("vehicle_event_sequence.last = %d after an event", lastBefore)
	}

	const newPassword = "another-test-password"
	res := run(t, db, seed.Options{Vehicles: 10, Reset: true, Password: newPassword})
	if res.Users != wantUsers {
		t.Fatalf("reset recreated %d accounts, want %d", res.Users, wantUsers)
	}
	login(t, db, seed.AdminEmail, newPassword)
	login(t, db, seed.StaffEmail("Island Volvo"), newPassword)

	var events, tokens int
	var lastAfter int64
	must(t, db.NewRaw(`SELECT (SELECT count(*) FROM vehicle_events), (SELECT count(*) FROM refresh_tokens), (SELECT last FROM vehicle_event_sequence)`).
		Scan(ctx, &events, &tokens, &lastAfter))
	if events != 0 || tokens != 0 {
		t.Fatalf("after reset: %d events and %d refresh tokens, want none", events, tokens)
	}
	if lastAfter != lastBefore {
		t.Fatalf("reset moved vehicle_event_sequence.last from %d to %d; sequences must only grow", lastBefore, lastAfter)
	}
}
