// Package archtest holds the test that keeps Carlot's imports pointing one
// way: from cmd down through the HTTP layer and graph to the event stream,
// storage and the domain, never back up. It has no code of its own; the
// rules are in its test, read from `go list`.
package archtest
