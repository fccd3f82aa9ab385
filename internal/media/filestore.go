package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileStore is a Store in a directory of the local file system, or of a
// volume every replica mounts. Files live in subdirectories named by the
// first two characters of their hash, so no directory grows huge.
type FileStore struct {
	dir string
}

// StaleTempAge is how old a temporary file in a store's directory must be
// for NewFileStore to take it for one a crash left behind: no Put, and no
// upload, takes that long.
const StaleTempAge = time.Hour

// NewFileStore returns a store in dir. Nothing is created until the first
// Put, so a server that only reads needs no write access. Temporary files
// a crash left behind (Put's, and uploads' in TempDir) older than
// StaleTempAge are removed, as far as the directory allows.
func NewFileStore(dir string) *FileStore {
	s := &FileStore{dir: dir}
	s.removeStale(time.Now().Add(-StaleTempAge))
	return s
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// TempDir is where uploads may wait while they are processed: inside the
// store's directory, on the same disk as the photos rather than in the
// system's temporary directory (which may be memory), under a name that
// starts with a dot, which the store never serves. It is not created.
func (s *FileStore) TempDir() string { return filepath.Join(s.dir, ".uploads") }

// removeStale removes Put's temporary files, and every file in TempDir,
// last changed before cutoff.
func (s *FileStore) removeStale(cutoff time.Time) {
	remove := func(dir string, stale func(name string) bool) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !stale(e.Name()) {
				continue
			}
			if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	remove(s.dir, func(name string) bool { return strings.HasPrefix(name, putTempPrefix) })
	remove(s.TempDir(), func(string) bool { return true })
}

// putTempPrefix starts the names of Put's temporary files.
const putTempPrefix = ".put-"

func (s *FileStore) path(name string) (string, error) {
	if _, ok := ContentType(name); !ok {
		return "", ErrBadName
	}
	return filepath.Join(s.dir, name[:2], name), nil
}

// Put writes r to a temporary file beside its final place while hashing it,
// flushes it to disk, then renames it to its name: readers see the whole
// file or none, and after Put returns the file survives a crash.
func (s *FileStore) Put(ctx context.Context, r io.Reader, contentType string) (string, error) {
	if _, ok := extensions[contentType]; !ok {
		return "", fmt.Errorf("media: unsupported content type %q", contentType)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// Temporary files start with a dot, which no name does, so they are
	// never served; the same directory keeps the rename atomic.
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return "", fmt.Errorf("media: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, putTempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("media: %w", err)
	}
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		return "", fmt.Errorf("media: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("media: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("media: close: %w", err)
	}
	name, err := nameFor(hex.EncodeToString(h.Sum(nil)), contentType)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	final, _ := s.path(name)
	shard := filepath.Dir(final)
	if err := os.MkdirAll(shard, 0o750); err != nil {
		return "", fmt.Errorf("media: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return "", fmt.Errorf("media: %w", err)
	}
	// Same bytes, same name: replacing an existing file changes nothing.
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("media: %w", err)
	}
	tmp = nil
	// The rename is durable once the directory is.
	if err := syncDir(shard); err != nil {
		return "", fmt.Errorf("media: sync directory: %w", err)
	}
	return name, nil
}

// Open opens the named file.
func (s *FileStore) Open(_ context.Context, name string) (io.ReadSeekCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return f, nil
}

// Delete removes the named file; a missing file is no error.
func (s *FileStore) Delete(_ context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: %w", err)
	}
	return nil
}

// Exists reports whether the named file is stored.
func (s *FileStore) Exists(_ context.Context, name string) (bool, error) {
	p, err := s.path(name)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("media: %w", err)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
