// Package media keeps Carlot's vehicle photos: a content-addressed Store
// (a directory on disk, or any other store behind the same interface), the
// intake that turns an upload into a clean image and its thumbnail, and the
// handler that serves stored files under /media/.
//
// A name is the SHA-256 of the file's bytes in lower-case hex plus an
// extension for its type ("…64 hex….jpg"), so a name never changes meaning:
// identical uploads share one file, and clients may cache a file forever.
package media

import (
	"context"
	"errors"
	"io"
	"strings"
)

// The content types Carlot stores and the extensions their names end in.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
)

var extensions = map[string]string{JPEG: "jpg", PNG: "png", WebP: "webp"}

// ErrNotFound is returned for a name the store does not hold.
var ErrNotFound = errors.New("media: no such file")

// ErrBadName is returned for a string that is not a media name.
var ErrBadName = errors.New("media: malformed name")

// Store holds files under content-addressed names. Implementations are safe
// for concurrent use, and a file is either wholly there or not at all.
type Store interface {
	// Put stores the bytes read from r as a file of the given content type
	// (JPEG, PNG or WebP) and returns its name. Storing bytes already held
	// returns the same name and keeps one file.
	Put(ctx context.Context, r io.Reader, contentType string) (name string, err error)
	// Open returns the named file for reading; ErrNotFound if there is none.
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
	// Delete removes the named file. Deleting a file that is not there is
	// not an error, so cleanups can be repeated.
	Delete(ctx context.Context, name string) error
	// Exists reports whether the named file is stored.
	Exists(ctx context.Context, name string) (bool, error)
}

// ContentType returns the content type of a well-formed name, and whether
// the name is one.
func ContentType(name string) (string, bool) {
	hash, ext, ok := strings.Cut(name, ".")
	if !ok || !isHash(hash) {
		return "", false
	}
	for ct, e := range extensions {
		if e == ext {
			return ct, true
		}
	}
	return "", false
}

// Hash returns the SHA-256 (lower-case hex) a well-formed name carries, or
// "" for anything else.
func Hash(name string) string {
	if _, ok := ContentType(name); !ok {
		return ""
	}
	return name[:64]
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// nameFor builds the name of content with the given hex hash and type.
func nameFor(hash, contentType string) (string, error) {
	ext, ok := extensions[contentType]
	if !ok {
		return "", errors.New("media: unsupported content type " + contentType)
	}
	return hash + "." + ext, nil
}
