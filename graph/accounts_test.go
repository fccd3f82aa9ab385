package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

const password = "correct horse battery"

// people are the accounts a test acts as.
type people struct {
	admin, staffA, staffB, viewer *models.User
	dealerA, dealerB              int64
}

// accounts creates an admin, a viewer, and staff of two dealers that both have vehicles.
func (a *api) accounts() people {
	a.T.Helper()
	var dealers []int64
	a.SQL(&dealers, "SELECT dealer_id FROM vehicles GROUP BY dealer_id ORDER BY dealer_id LIMIT 2")
	p := people{dealerA: dealers[0], dealerB: dealers[1]}
	mk := func(email string, role models.Role, dealer *int64) *models.User {
		u, err := models.CreateUser(context.Background(), a.DB, models.NewUser{Email: email, Password: password, Role: role, DealerID: dealer})
		if err != nil {
			a.T.Fatalf("create %s: %v", email, err)
		}
		return u
	}
	p.admin = mk("boss@example.test", models.RoleAdmin, nil)
	p.staffA = mk("alice@example.test", models.RoleStaff, &p.dealerA)
	p.staffB = mk("bob@example.test", models.RoleStaff, &p.dealerB)
	p.viewer = mk("vera@example.test", models.RoleViewer, nil)
	return p
}

type authPayload struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	User         struct {
		ID    string
		Email string
		Role  string
	}
}

// login returns "Bearer <access token>" for u.
func (a *api) login(u *models.User) string {
	a.T.Helper()
	return a.Login(u.Email, password)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()

	var out struct{ Login authPayload }
	a.Query(&out, apitest.LoginMutation, map[string]any{"email": "  ALICE@Example.TEST ", "password": password})
	l := out.Login
	if l.AccessToken == "" || l.RefreshToken == "" || l.User.Email != "alice@example.test" || l.User.Role != "STAFF" {
		t.Fatalf("login: %+v", l)
	}
	if d := time.Until(l.ExpiresAt); d < 14*time.Minute || d > 16*time.Minute {
		t.Fatalf("access token expires in %s, want about 15 minutes", d)
	}

	t.Run("the access token carries the documented claims", func(t *testing.T) {
		parts := strings.Split(l.AccessToken, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %q", l.AccessToken)
		}
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var h, c map[string]any
		_ = json.Unmarshal(header, &h)
		_ = json.Unmarshal(payload, &c)
		if h["alg"] != "HS256" {
			t.Fatalf("alg = %v", h["alg"])
		}
		for _, claim := range []string{"sub", "role", "dealer", "exp", "iat", "iss"} {
			if c[claim] == nil {
				t.Errorf("claim %s missing: %v", claim, c)
			}
		}
		if c["dealer"] != relay.NodeID("Dealer", p.dealerA) || c["role"] != "STAFF" {
			t.Errorf("claims: %v", c)
		}
		// sub is the user's global ID, the id every client sees as me.id.
		r := a.PostAs("Bearer "+l.AccessToken, `{ me { id } }`, nil)
		var me struct{ Me struct{ ID string } }
		_ = json.Unmarshal(r.Data, &me)
		if me.Me.ID == "" || c["sub"] != me.Me.ID || c["sub"] != l.User.ID {
			t.Errorf("sub %v, me.id %q, login's user.id %q", c["sub"], me.Me.ID, l.User.ID)
		}
	})

	t.Run("me", func(t *testing.T) {
		r := a.PostAs("Bearer "+l.AccessToken, `{ me { id email role dealer { id } } }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), relay.NodeID("Dealer", p.dealerA)) {
			t.Fatalf("me: %s", r.Raw)
		}
		if r := a.Post(`{ me { id } }`, nil); len(r.Errors) > 0 || string(r.Data) != `{"me":null}` {
			t.Fatalf("anonymous me: %s", r.Raw)
		}
	})

	t.Run("wrong password and unknown email answer alike", func(t *testing.T) {
		wrong := a.Post(apitest.LoginMutation, map[string]any{"email": "alice@example.test", "password": "nope-nope-nope"})
		unknown := a.Post(apitest.LoginMutation, map[string]any{"email": "nobody@example.test", "password": "nope-nope-nope"})
		if wrong.ErrorCode(t) != "UNAUTHENTICATED" || unknown.ErrorCode(t) != "UNAUTHENTICATED" ||
			wrong.Errors[0].Message != unknown.Errors[0].Message {
			t.Fatalf("answers differ:\n%s\n%s", wrong.Raw, unknown.Raw)
		}
	})
}

// forge signs claims the way an attacker might.
func forge(t *testing.T, alg jwa.SignatureAlgorithm, key []byte, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestForgedTokensAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	valid := func() map[string]any {
		return map[string]any{"sub": relay.NodeID("User", p.admin.ID), "role": "ADMIN", "iss": "carlot",
			"iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()}
	}
	expired := valid()
	expired["exp"] = time.Now().Add(-10 * time.Minute).Unix()
	noExp := valid()
	delete(noExp, "exp")
	otherIssuer := valid()
	otherIssuer["iss"] = "someone-else"

	unsigned := func() string {
		enc := base64.RawURLEncoding
		h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
		c, _ := json.Marshal(valid())
		return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "."
	}()

	good := forge(t, jwa.HS256, []byte(apitest.Secret), valid())
	if r := a.PostAs("Bearer "+good, `{ me { role } }`, nil); len(r.Errors) > 0 || !strings.Contains(r.Raw, "ADMIN") {
		t.Fatalf("a correctly signed token was refused, so the cases below prove nothing: %s", r.Raw)
	}
	// Tokens issued before sub became the global ID (the raw id) still
	// verify until they expire.
	legacy := valid()
	legacy["sub"] = fmt.Sprint(p.admin.ID)
	if r := a.PostAs("Bearer "+forge(t, jwa.HS256, []byte(apitest.Secret), legacy), `{ me { role } }`, nil); len(r.Errors) > 0 || !strings.Contains(r.Raw, "ADMIN") {
		t.Fatalf("a token with a numeric sub was refused: %s", r.Raw)
	}
	dealerSub := valid()
	dealerSub["sub"] = relay.NodeID("Dealer", p.admin.ID)
	otherType := "Bearer " + forge(t, jwa.HS256, []byte(apitest.Secret), dealerSub)

	for name, header := range map[string]string{
		"alg none":                 "Bearer " + unsigned,
		"sub of another type":      otherType,
		"wrong key":                "Bearer " + forge(t, jwa.HS256, []byte("another-secret-0123456789abcdef0123456789"), valid()),
		"expired":                  "Bearer " + forge(t, jwa.HS256, []byte(apitest.Secret), expired),
		"no exp":                   "Bearer " + forge(t, jwa.HS256, []byte(apitest.Secret), noExp),
		"other issuer":             "Bearer " + forge(t, jwa.HS256, []byte(apitest.Secret), otherIssuer),
		"HS512 with the right key": "Bearer " + forge(t, jwa.HS512, []byte(apitest.Secret), valid()),
		"garbage":                  "Bearer not.a.jwt",
		"not bearer":               "Basic " + base64.StdEncoding.EncodeToString([]byte("boss@example.test:"+password)),
		"empty bearer":             "Bearer ",
	} {
		t.Run(name, func(t *testing.T) {
			for _, q := range []string{`{ me { id } }`, `{ vehicles(first: 1) { totalCount } }`} {
				r := a.PostAs(header, q, nil)
				if code := r.ErrorCode(t); code != "UNAUTHENTICATED" || string(r.Data) != "null" && r.Data != nil {
					t.Fatalf("%s: %s", q, r.Raw)
				}
			}
		})
	}

	t.Run("tokens are read from the Authorization header only", func(t *testing.T) {
		r := a.Post(`{ me { id } }`, map[string]any{"access_token": good})
		if string(r.Data) != `{"me":null}` {
			t.Fatalf("%s", r.Raw)
		}
	})
}

const refreshMutation = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { email } } }`

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	var in struct{ Login authPayload }
	a.Query(&in, apitest.LoginMutation, map[string]any{"email": p.viewer.Email, "password": password})

	var r1 struct{ RefreshToken authPayload }
	a.Query(&r1, refreshMutation, map[string]any{"t": in.Login.RefreshToken})
	if r1.RefreshToken.RefreshToken == in.Login.RefreshToken || r1.RefreshToken.User.Email != p.viewer.Email {
		t.Fatalf("refresh did not rotate: %+v", r1)
	}
	if r := a.PostAs("Bearer "+r1.RefreshToken.AccessToken, `{ me { email } }`, nil); !strings.Contains(r.Raw, p.viewer.Email) {
		t.Fatalf("refreshed access token does not work: %s", r.Raw)
	}

	// The first token was used: presenting it again is theft or a bug.
	if code := a.Post(refreshMutation, map[string]any{"t": in.Login.RefreshToken}).ErrorCode(t); code != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token: %s", code)
	}
	// ... and it revoked the rotated successor too.
	if code := a.Post(refreshMutation, map[string]any{"t": r1.RefreshToken.RefreshToken}).ErrorCode(t); code != "UNAUTHENTICATED" {
		t.Fatalf("the family survived a reuse: %s", code)
	}
	if code := a.Post(refreshMutation, map[string]any{"t": "made-up"}).ErrorCode(t); code != "UNAUTHENTICATED" {
		t.Fatalf("unknown refresh token: %s", code)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	var in struct{ Login authPayload }
	a.Query(&in, apitest.LoginMutation, map[string]any{"email": p.admin.Email, "password": password})
	logout := `mutation($t: String!) { logout(refreshToken: $t) }`
	var out struct{ Logout bool }
	a.Query(&out, logout, map[string]any{"t": in.Login.RefreshToken})
	if !out.Logout {
		t.Fatal("logout of a live session returned false")
	}
	a.Query(&out, logout, map[string]any{"t": in.Login.RefreshToken})
	if out.Logout {
		t.Fatal("second logout returned true")
	}
	if code := a.Post(refreshMutation, map[string]any{"t": in.Login.RefreshToken}).ErrorCode(t); code != "UNAUTHENTICATED" {
		t.Fatalf("refresh after logout: %s", code)
	}
}

func TestUsersSeeOnlyThemselvesUnlessAdmin(t *testing.T) {
	t.Parallel()
	a := newAPI(t, testdb.Seeded)
	p := a.accounts()
	q := `query($id: ID!) { node(id: $id) { ... on User { email } } }`
	other := map[string]any{"id": relay.NodeID(models.TypeUser, p.staffB.ID)}
	if r := a.PostAs(a.login(p.staffA), q, other); string(r.Data) != `{"node":null}` {
		t.Fatalf("staff saw another user: %s", r.Raw)
	}
	if r := a.Post(q, other); string(r.Data) != `{"node":null}` {
		t.Fatalf("anonymous saw a user: %s", r.Raw)
	}
	if r := a.PostAs(a.login(p.admin), q, other); !strings.Contains(r.Raw, p.staffB.Email) {
		t.Fatalf("admin could not see a user: %s", r.Raw)
	}
	if r := a.PostAs(a.login(p.staffB), q, other); !strings.Contains(r.Raw, p.staffB.Email) {
		t.Fatalf("a user could not see themselves: %s", r.Raw)
	}
}
