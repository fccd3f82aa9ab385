// Package models is Carlot's domain core: the database rows (bun models), the
// rules they obey, and the queries that read and write them. Every query takes
// a context and a bun.IDB, so the same function serves the pool, a
// transaction and a test's transaction.
//
// A write that needs a transaction (a vehicle write and its event, a refresh
// token exchange) opens it with the IDB's RunInTx: on the pool that is a
// transaction of its own; inside a caller's bun.Tx, bun runs it in a
// SAVEPOINT of that transaction. So a write that fails rolls back to its
// savepoint and leaves the caller's transaction usable, and whatever it
// wrote (its event, and the NOTIFY that wakes the live readers, included)
// is seen by no one before the caller commits, and is gone if the caller
// rolls back. The event append holds a transaction-level advisory lock
// until the outermost transaction ends: a caller's transaction that writes
// vehicles holds every other vehicle write until it commits, so keep it short.
//
// models knows nothing of GraphQL or HTTP; its Error type carries the machine
// code that the API layer turns into extensions.code.
package models

import (
	"fmt"
	"strings"
)

// Code classifies an Error for clients. The values are the API's
// extensions.code strings.
type Code string

// The error codes of the domain. The GraphQL layer adds its own
// (graph.CodeQueryTooComplex); the codes clients can rely on are listed in
// the README.
const (
	CodeBadUserInput    Code = "BAD_USER_INPUT"
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeConflict        Code = "CONFLICT"
	// CodeRateLimited: too many at once (the password hasher's budget; the
	// HTTP layer's and websocket transport's rate limits use it too).
	CodeRateLimited Code = "RATE_LIMITED"
	CodeInternal    Code = "INTERNAL_SERVER_ERROR"
)

// FieldError names one invalid input field and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error that is safe to show a client: a code and a message
// written for people, never driver or SQL text.
type Error struct {
	Code    Code
	Message string
	// Fields lists every invalid input field for CodeBadUserInput.
	Fields []FieldError
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid collects input problems so a client hears about all of them at once.
// The zero value is ready to use.
type Invalid struct {
	fields []FieldError
}

// Add records that field is invalid.
func (v *Invalid) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was added, else a BAD_USER_INPUT *Error listing every field.
func (v *Invalid) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msgs := make([]string, len(v.fields))
	for i, f := range v.fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return &Error{Code: CodeBadUserInput, Message: "invalid input: " + strings.Join(msgs, "; "), Fields: v.fields}
}
