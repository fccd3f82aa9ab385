// Package auth issues and verifies Carlot's access tokens: short-lived HS256
// JWTs through go-chi/jwtauth, with the algorithm pinned (a token signed any
// other way, alg "none" included, is refused), exp required, and a small
// allowance for clock skew between replicas.
package auth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
	"github.com/go-chi/jwtauth/v5"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Issuer is the iss claim of every token Carlot issues and accepts.
const Issuer = "carlot"

// clockSkew is how far replicas' clocks may disagree about exp and iat.
const clockSkew = 30 * time.Second

// Tokens issues and verifies access tokens.
type Tokens struct {
	ja  *jwtauth.JWTAuth
	ttl time.Duration
}

// New returns Tokens signing with secret and issuing tokens valid for ttl.
func New(secret []byte, ttl time.Duration) *Tokens {
	return &Tokens{
		ja: jwtauth.New("HS256", secret, nil,
			jwt.WithRequiredClaim("exp"),
			jwt.WithRequiredClaim("sub"),
			jwt.WithIssuer(Issuer),
			jwt.WithAcceptableSkew(clockSkew)),
		ttl: ttl,
	}
}

// Issue returns a signed access token for u and when it expires.
func (t *Tokens) Issue(u *models.User, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.ttl).Truncate(time.Second)
	claims := map[string]any{
		"sub":  relay.NodeID(models.TypeUser, u.ID), // the user's global ID, as me.id shows it
		"role": string(u.Role),
		"iss":  Issuer,
		"iat":  now.Unix(),
		"exp":  exp.Unix(),
	}
	if u.DealerID != nil {
		claims["dealer"] = relay.NodeID(models.TypeDealer, *u.DealerID)
	}
	_, token, err := t.ja.Encode(claims)
	return token, exp, err
}

// ErrInvalidToken is every verification failure: clients learn only that the
// token was not accepted.
var ErrInvalidToken = &models.Error{Code: models.CodeUnauthenticated, Message: "the access token is invalid or expired"}

// Verify checks a token's signature, algorithm, issuer and lifetime and
// returns the actor it names.
func (t *Tokens) Verify(token string) (*models.Actor, error) {
	a, _, err := t.verify(token)
	return a, err
}

func (t *Tokens) verify(token string) (*models.Actor, time.Time, error) {
	tok, err := jwtauth.VerifyToken(t.ja, token)
	if err != nil || tok == nil {
		return nil, time.Time{}, ErrInvalidToken
	}
	a, err := actorOf(tok)
	if err != nil {
		return nil, time.Time{}, err
	}
	return a, tok.Expiration(), nil
}

// actorOf reads the actor from a verified token's claims.
func actorOf(tok jwt.Token) (*models.Actor, error) {
	id, ok := subjectUserID(tok.Subject())
	if !ok {
		return nil, ErrInvalidToken
	}
	a := &models.Actor{UserID: id}
	claims := tok.PrivateClaims()
	role, _ := claims["role"].(string)
	switch a.Role = models.Role(role); a.Role {
	case models.RoleViewer, models.RoleAdmin:
	case models.RoleStaff:
		dealer, _ := claims["dealer"].(string)
		typ, dealerID, err := relay.ParseNodeID(dealer)
		if err != nil || typ != models.TypeDealer {
			return nil, ErrInvalidToken
		}
		a.DealerID = &dealerID
	default:
		return nil, ErrInvalidToken
	}
	return a, nil
}

// subjectUserID reads the user id from a token's sub: the user's global ID,
// or the raw database id that tokens issued by earlier versions carry (they
// verify until they expire, so an upgrade logs no one out).
func subjectUserID(sub string) (int64, bool) {
	if typ, id, err := relay.ParseNodeID(sub); err == nil {
		return id, typ == models.TypeUser && id > 0
	}
	id, err := strconv.ParseInt(sub, 10, 64)
	return id, err == nil && id > 0
}

// FromHeader verifies an Authorization header value ("Bearer <token>").
// An empty header is an anonymous request: nil actor, no error.
func (t *Tokens) FromHeader(header string) (*models.Actor, error) {
	a, _, err := t.Authenticate(header)
	return a, err
}

// Authenticate is FromHeader that also returns when the token expires, for
// connections that outlive a request.
func (t *Tokens) Authenticate(header string) (*models.Actor, time.Time, error) {
	if header == "" {
		return nil, time.Time{}, nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, time.Time{}, ErrInvalidToken
	}
	return t.verify(strings.TrimSpace(token))
}

type errorKey struct{}

// Middleware reads the access token from the Authorization header only
// (never cookies or query parameters, which leak into logs and invite CSRF).
// A valid token puts its actor in the context; a present but invalid one is
// recorded for the GraphQL layer to refuse the whole request.
func (t *Tokens) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := t.FromHeader(r.Header.Get("Authorization"))
		ctx := r.Context()
		switch {
		case err != nil:
			ctx = context.WithValue(ctx, errorKey{}, err)
		case actor != nil:
			ctx = models.WithActor(ctx, actor)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ErrorFrom returns the token error recorded for the request, if any.
func ErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(errorKey{}).(error)
	return err
}
