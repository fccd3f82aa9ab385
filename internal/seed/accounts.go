package seed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// AdminEmail is the demo ADMIN account's email.
const AdminEmail = "admin@carlot.test"

// StaffEmailPattern describes the demo STAFF accounts' emails, for people.
const StaffEmailPattern = "staff.<dealer-slug>@carlot.test"

// generatedPasswordBytes is the entropy of a generated demo password: 16
// random bytes are 22 base64url characters.
const generatedPasswordBytes = 16

// StaffEmail is the email of the demo STAFF account of the dealer named
// dealerName: staff.<slug>@carlot.test, the slug being the lower-cased name
// with every run of other characters than a-z and 0-9 turned into one dash.
func StaffEmail(dealerName string) string {
	return "staff." + slug(dealerName) + "@carlot.test"
}

func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// demoAccount is one account seedAccounts makes sure exists.
type demoAccount struct {
	email    string
	role     models.Role
	dealerID *int64
}

// demoAccounts lists the demo accounts: the ADMIN, then one STAFF account
// per demo dealer, in the dealers' order.
func demoAccounts(ids *catalogIDs) []demoAccount {
	accounts := []demoAccount{{email: AdminEmail, role: models.RoleAdmin}}
	for d, spec := range dealers {
		accounts = append(accounts, demoAccount{email: StaffEmail(spec.name), role: models.RoleStaff, dealerID: &ids.dealers[d]})
	}
	return accounts
}

// seedAccounts creates the demo accounts that do not exist yet (by email;
// an existing account is left alone whatever its role, dealer or password)
// with the given password, or when it is empty a random one, and returns how
// many it created and the password it generated. That is "" when nothing was
// created, so a repeat run never shows a password that opens nothing.
func seedAccounts(ctx context.Context, tx bun.Tx, ids *catalogIDs, password string) (created int, generated string, err error) {
	accounts := demoAccounts(ids)
	emails := make([]string, len(accounts))
	roles := make([]string, len(accounts))
	dealerIDs := make([]*int64, len(accounts))
	for i, a := range accounts {
		emails[i], roles[i], dealerIDs[i] = a.email, string(a.role), a.dealerID
	}

	// Skip the hashing below entirely on a repeat run.
	var missing int
	if err := tx.NewRaw(`SELECT count(*) FROM unnest(?::text[]) AS t(email) WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.email = t.email)`,
		pgdialect.Array(emails)).Scan(ctx, &missing); err != nil {
		return 0, "", fmt.Errorf("count missing accounts: %w", err)
	}
	if missing == 0 {
		return 0, "", nil
	}

	if password == "" {
		raw := make([]byte, generatedPasswordBytes)
		if _, err := rand.Read(raw); err != nil {
			return 0, "", fmt.Errorf("generate a password: %w", err)
		}
		password = base64.RawURLEncoding.EncodeToString(raw)
		generated = password
	}
	// One hash for every account of the run: argon2id is deliberately slow
	// (tens of milliseconds and 19 MiB per hash, to make guessing expensive),
	// so a hash per account would add seconds to every fresh seed. The demo
	// accounts share their password anyway, so sharing its salt tells an
	// attacker nothing more.
	hash, err := models.HashPassword(password)
	if err != nil {
		return 0, "", fmt.Errorf("hash the password: %w", err)
	}
	// WHERE NOT EXISTS keeps a partial repeat run from consuming identity
	// values; ON CONFLICT covers accounts committed meanwhile by something
	// other than a seed (such as `server user create`).
	created, err = affected(tx.ExecContext(ctx, `
		INSERT INTO users (email, password_hash, role, dealer_id)
		SELECT t.email, ?, t.role, t.dealer_id
		FROM unnest(?::text[], ?::text[], ?::bigint[]) WITH ORDINALITY AS t(email, role, dealer_id, ord)
		WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.email = t.email)
		ORDER BY t.ord
		ON CONFLICT (email) DO NOTHING`,
		hash, pgdialect.Array(emails), pgdialect.Array(roles), pgdialect.Array(dealerIDs)))
	if err != nil {
		return 0, "", fmt.Errorf("insert accounts: %w", err)
	}
	if created == 0 {
		return 0, "", nil
	}
	return created, generated, nil
}
