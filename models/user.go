package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// User is an account that can log in.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email,notnull"`
	PasswordHash string    `bun:"password_hash,notnull"`
	Role         Role      `bun:"role,notnull"`
	DealerID     *int64    `bun:"dealer_id"`
	CreatedAt    time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Key names the user.
func (u *User) Key() Key { return Key{TypeUser, u.ID} }

// Actor describes what the user may do.
func (u *User) Actor() *Actor { return &Actor{UserID: u.ID, Role: u.Role, DealerID: u.DealerID} }

// TypeUser is the type name of users' keys.
const TypeUser = "User"

// NewUser is what creating a user needs.
type NewUser struct {
	Email    string
	Password string
	Role     Role
	DealerID *int64
}

// NormalizeEmail trims and lower-cases an email address: emails are unique
// regardless of case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateUser validates and stores a new user with a hashed password.
func CreateUser(ctx context.Context, db bun.IDB, in NewUser) (*User, error) {
	var inv Invalid
	email := NormalizeEmail(in.Email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \x00") {
		inv.Add("email", "must be an email address")
	}
	if p := PasswordProblem(in.Password); p != "" {
		inv.Add("password", "%s", p)
	}
	switch in.Role {
	case RoleStaff:
		if in.DealerID == nil {
			inv.Add("dealer", "is required for STAFF")
		}
	case RoleAdmin, RoleViewer:
		if in.DealerID != nil {
			inv.Add("dealer", "only STAFF belong to a dealer")
		}
	default:
		inv.Add("role", "must be VIEWER, STAFF or ADMIN")
	}
	if in.DealerID != nil {
		if exists, err := db.NewSelect().Model((*Dealer)(nil)).Where("d.id = ?", *in.DealerID).Exists(ctx); err != nil {
			return nil, err
		} else if !exists {
			inv.Add("dealer", "no such dealer")
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: email, PasswordHash: hash, Role: in.Role, DealerID: in.DealerID}
	if _, err := db.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, Errorf(CodeConflict, "a user with that email already exists")
		}
		return nil, err
	}
	return u, nil
}

// UsersByID returns the users with the given ids, in no particular order.
func UsersByID(ctx context.Context, db bun.IDB, ids []int64) ([]*User, error) {
	var users []*User
	err := db.NewSelect().Model(&users).Where("u.id = ANY(?)", pgdialect.Array(ids)).Scan(ctx)
	return users, err
}

// Authenticate returns the user with this email and password. Every wrong
// email or password is the same UNAUTHENTICATED error, and an unknown email
// costs the same password check as a wrong password, so neither answer nor
// timing tells which emails exist. Its password check is not bounded: code
// serving requests uses PasswordHasher.Authenticate.
func Authenticate(ctx context.Context, db bun.IDB, email, password string) (*User, error) {
	return authenticate(ctx, db, email, password, func(_ context.Context, hash, password string) (bool, error) {
		return CheckPassword(hash, password), nil
	})
}

// Authenticate is models.Authenticate with the password checked within h's
// memory budget: if ctx ends while the check waits its turn, the answer is
// ErrPasswordHashingBusy (RATE_LIMITED).
func (h *PasswordHasher) Authenticate(ctx context.Context, db bun.IDB, email, password string) (*User, error) {
	return authenticate(ctx, db, email, password, h.Check)
}

func authenticate(ctx context.Context, db bun.IDB, email, password string,
	check func(ctx context.Context, hash, password string) (bool, error),
) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("u.email = ?", NormalizeEmail(email)).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := check(ctx, dummyHash(), password); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	case err != nil:
		return nil, err
	}
	match, err := check(ctx, u.PasswordHash, password)
	switch {
	case err != nil:
		return nil, err
	case !match:
		return nil, errBadCredentials
	}
	return u, nil
}

// Session is the result of a login or refresh: the user and a new opaque
// refresh token (shown to the client once, stored only as a hash).
type Session struct {
	User         *User
	RefreshToken string
}

// StartSession issues the first refresh token of a new family for u.
func StartSession(ctx context.Context, db bun.IDB, u *User, ttl time.Duration) (*Session, error) {
	token, err := issueRefreshToken(ctx, db, u.ID, uuid.NewString(), ttl)
	if err != nil {
		return nil, err
	}
	return &Session{User: u, RefreshToken: token}, nil
}

var errBadRefreshToken = &Error{Code: CodeUnauthenticated, Message: "refresh token is invalid, expired or revoked; log in again"}

// RefreshSession exchanges a refresh token for the next one of its family.
// The old token stops working. Presenting a token that was already
// exchanged means it leaked (or the client raced itself): the whole family
// is revoked, which logs the thief and the owner out.
func RefreshSession(ctx context.Context, db bun.IDB, token string, ttl time.Duration) (*Session, error) {
	var s *Session
	var reused bool
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rt := new(refreshToken)
		err := tx.NewSelect().Model(rt).Where("rt.token_hash = ?", hashToken(token)).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadRefreshToken
		}
		if err != nil {
			return err
		}
		if rt.RevokedAt != nil || time.Now().After(rt.ExpiresAt) {
			return errBadRefreshToken
		}
		if rt.ReplacedAt != nil {
			reused = true
			return revokeFamily(ctx, tx, rt.Family)
		}
		if _, err := tx.NewUpdate().Model(rt).Set("replaced_at = now()").WherePK().Exec(ctx); err != nil {
			return err
		}
		u := new(User)
		if err := tx.NewSelect().Model(u).Where("u.id = ?", rt.UserID).Scan(ctx); err != nil {
			return err
		}
		next, err := issueRefreshToken(ctx, tx, u.ID, rt.Family, ttl)
		if err != nil {
			return err
		}
		s = &Session{User: u, RefreshToken: next}
		return nil
	})
	if reused {
		// The revocation committed; the caller still gets no session.
		return nil, errBadRefreshToken
	}
	return s, err
}

// EndSession revokes the family of the given refresh token and reports
// whether there was a live one to revoke.
func EndSession(ctx context.Context, db bun.IDB, token string) (bool, error) {
	res, err := db.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = now()").
		Where("rt.revoked_at IS NULL").
		Where("rt.family = (SELECT family FROM refresh_tokens WHERE token_hash = ? AND revoked_at IS NULL AND replaced_at IS NULL)", hashToken(token)).
		Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func revokeFamily(ctx context.Context, db bun.IDB, family string) error {
	_, err := db.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = now()").
		Where("rt.family = ? AND rt.revoked_at IS NULL", family).Exec(ctx)
	return err
}

// refreshToken is a stored refresh token: only its hash, never the token.
type refreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens,alias:rt"`

	ID         int64      `bun:"id,pk,autoincrement"`
	TokenHash  []byte     `bun:"token_hash,notnull"`
	Family     string     `bun:"family,type:uuid,notnull"`
	UserID     int64      `bun:"user_id,notnull"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	ReplacedAt *time.Time `bun:"replaced_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// issueRefreshToken stores the hash of a new random token in family and
// returns the token.
func issueRefreshToken(ctx context.Context, db bun.IDB, userID int64, family string, ttl time.Duration) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	rt := &refreshToken{TokenHash: hashToken(token), Family: family, UserID: userID, ExpiresAt: time.Now().Add(ttl)}
	_, err := db.NewInsert().Model(rt).ExcludeColumn("id").Exec(ctx)
	return token, err
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// isUniqueViolation reports a PostgreSQL unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
