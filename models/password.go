package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// Password hashing: argon2id with OWASP's recommended minimum (19 MiB, two
// passes, one lane), stored in the PHC string format so the parameters can
// be raised later without invalidating stored hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16

	// MinPasswordLength and MaxPasswordLength bound accepted passwords.
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the stored hash, in time
// independent of where they differ. It is not bounded: code serving requests
// checks passwords through a PasswordHasher.
func CheckPassword(hash, password string) bool {
	ph, ok := parsePasswordHash(hash)
	return ok && ph.matches(password)
}

// passwordHash is a stored argon2id hash, parsed.
type passwordHash struct {
	memoryKiB, passes uint32
	threads           uint8
	salt, key         []byte
}

func parsePasswordHash(hash string) (passwordHash, bool) {
	var ph passwordHash
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return ph, false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return ph, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &ph.memoryKiB, &ph.passes, &ph.threads); err != nil {
		return ph, false
	}
	var err1, err2 error
	ph.salt, err1 = b64.DecodeString(parts[4])
	ph.key, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(ph.key) == 0 {
		return ph, false
	}
	return ph, true
}

func (ph passwordHash) matches(password string) bool {
	got := argon2.IDKey([]byte(password), ph.salt, ph.passes, ph.memoryKiB, ph.threads, uint32(len(ph.key)))
	return subtle.ConstantTimeCompare(got, ph.key) == 1
}

// PasswordHashMemory is the memory one argon2id hash holds while it runs,
// in bytes, with the parameters HashPassword uses.
const PasswordHashMemory = argonMemoryKiB * 1024

// PasswordHasher bounds the memory that password checks hold at once. Each
// argon2id hash holds its memory block (PasswordHashMemory) until it ends,
// so unbounded concurrent logins would grow the process by that much per
// login in flight; a PasswordHasher lets hashes run together only while
// their memory fits its budget, and the others wait their turn, first come,
// first served, for as long as their context allows.
type PasswordHasher struct {
	budgetKiB int64
	slots     *semaphore.Weighted
	inFlight  atomic.Int64
	peak      atomic.Int64
}

// NewPasswordHasher returns a PasswordHasher whose concurrent hashes hold at
// most budgetBytes of memory together. A budget below one hash's memory
// still lets one hash run at a time.
func NewPasswordHasher(budgetBytes int64) *PasswordHasher {
	budget := max(budgetBytes/1024, 1)
	return &PasswordHasher{budgetKiB: budget, slots: semaphore.NewWeighted(budget)}
}

// ErrPasswordHashingBusy answers a login whose context ended while it waited
// for other logins' password checks to make room.
var ErrPasswordHashingBusy = &Error{Code: CodeRateLimited, Message: "too many logins at once; try again shortly"}

// Check reports whether password matches the stored hash, like
// CheckPassword, once the hash's memory fits the budget. If ctx ends first
// it returns ErrPasswordHashingBusy without hashing.
func (h *PasswordHasher) Check(ctx context.Context, hash, password string) (bool, error) {
	ph, ok := parsePasswordHash(hash)
	if !ok {
		return false, nil
	}
	var match bool
	err := h.run(ctx, int64(ph.memoryKiB), func() { match = ph.matches(password) })
	return match, err
}

// run runs hash once memoryKiB fits the budget (a hash larger than the
// whole budget runs alone).
func (h *PasswordHasher) run(ctx context.Context, memoryKiB int64, hash func()) error {
	weight := min(max(memoryKiB, 1), h.budgetKiB)
	if err := h.slots.Acquire(ctx, weight); err != nil {
		return ErrPasswordHashingBusy
	}
	defer h.slots.Release(weight)
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for {
		if p := h.peak.Load(); n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	hash()
	return nil
}

// InFlight returns how many hashes are running now.
func (h *PasswordHasher) InFlight() int { return int(h.inFlight.Load()) }

// Peak returns the most hashes that have run at once.
func (h *PasswordHasher) Peak() int { return int(h.peak.Load()) }

// dummyHash is checked against when a login names no user, so that an
// unknown email costs the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("carlot-timing-equaliser")
	if err != nil {
		return ""
	}
	return h
})

// PasswordProblem says what is wrong with a new password, or "".
func PasswordProblem(password string) string {
	switch n := len([]rune(password)); {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordLength)
	case strings.ContainsRune(password, 0):
		return "must not contain NUL characters"
	}
	return ""
}

// errBadCredentials is the one answer to every failed login.
var errBadCredentials = &Error{Code: CodeUnauthenticated, Message: "wrong email or password"}

// IsBadCredentials reports whether err is a failed login.
func IsBadCredentials(err error) bool { return errors.Is(err, errBadCredentials) }
