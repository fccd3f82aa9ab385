package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/media"
)

func TestFileStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "media") // not there yet: the first Put makes it
	s := media.NewFileStore(dir)
	content := []byte("\xff\xd8\xff pretend JPEG bytes")
	sum := sha256.Sum256(content)
	wantName := hex.EncodeToString(sum[:]) + ".jpg"

	if ok, err := s.Exists(ctx, wantName); ok || err != nil {
		t.Fatalf("Exists before Put = %v, %v", ok, err)
	}
	name, err := s.Put(ctx, bytes.NewReader(content), media.JPEG)
	if err != nil {
		t.Fatal(err)
	}
	if name != wantName {
		t.Fatalf("name = %s, want the content's SHA-256 %s", name, wantName)
	}
	if _, err := os.Stat(filepath.Join(dir, name[:2], name)); err != nil {
		t.Fatalf("file not where it belongs: %v", err)
	}

	t.Run("reads back what was put", func(t *testing.T) {
		f, err := s.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, _ := io.ReadAll(f)
		if !bytes.Equal(got, content) {
			t.Fatalf("read %q", got)
		}
		if ok, err := s.Exists(ctx, name); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
	})

	t.Run("the same bytes again are the same file", func(t *testing.T) {
		again, err := s.Put(ctx, bytes.NewReader(content), media.JPEG)
		if err != nil || again != name {
			t.Fatalf("second Put = %s, %v", again, err)
		}
		if files := storedFiles(t, dir); len(files) != 1 {
			t.Fatalf("files = %v, want one", files)
		}
	})

	t.Run("the type is part of the name", func(t *testing.T) {
		png, err := s.Put(ctx, bytes.NewReader(content), media.PNG)
		if err != nil || png != name[:64]+".png" {
			t.Fatalf("Put as PNG = %s, %v", png, err)
		}
		if err := s.Delete(ctx, png); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, bytes.NewReader(content), "image/gif"); err == nil {
			t.Fatal("Put stored a GIF")
		}
	})

	t.Run("a failed write leaves nothing behind", func(t *testing.T) {
		_, err := s.Put(ctx, io.MultiReader(bytes.NewReader([]byte("half a file")), failingReader{}), media.JPEG)
		if err == nil {
			t.Fatal("Put succeeded on a broken reader")
		}
		if files := storedFiles(t, dir); len(files) != 1 {
			t.Fatalf("files = %v, want only the first one", files)
		}
	})

	t.Run("malformed names reach no file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "secret"), []byte("s"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "../secret", "../../secret", name[:2] + "/" + name, name + "/", name[:64],
			name[:64] + ".gif", name[:63] + ".jpg", "A" + name[1:], "/" + name, ".put-1234", "secret"} {
			if _, err := s.Open(ctx, bad); !errors.Is(err, media.ErrBadName) {
				t.Errorf("Open(%q) = %v, want ErrBadName", bad, err)
			}
			if _, err := s.Exists(ctx, bad); !errors.Is(err, media.ErrBadName) {
				t.Errorf("Exists(%q) = %v, want ErrBadName", bad, err)
			}
			if err := s.Delete(ctx, bad); !errors.Is(err, media.ErrBadName) {
				t.Errorf("Delete(%q) = %v, want ErrBadName", bad, err)
			}
		}
	})

	t.Run("delete, twice", func(t *testing.T) {
		for range 2 {
			if err := s.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := s.Exists(ctx, name); ok {
			t.Fatal("still exists")
		}
		if _, err := s.Open(ctx, name); !errors.Is(err, media.ErrNotFound) {
			t.Fatalf("Open after Delete = %v, want ErrNotFound", err)
		}
	})
}

func TestFileStoreHonoursCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := media.NewFileStore(dir).Put(ctx, bytes.NewReader([]byte("x")), media.PNG); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	if files := storedFiles(t, dir); len(files) != 0 {
		t.Fatalf("files = %v", files)
	}
}

// storedFiles lists every regular file under dir, temporary ones included.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// Opening a store removes the temporary files a crash left behind, Put's
// and uploads', once they are older than StaleTempAge, and nothing else.
func TestFileStoreRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	uploads := filepath.Join(dir, ".uploads")
	if err := os.MkdirAll(filepath.Join(dir, "ab"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(uploads, 0o750); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-media.StaleTempAge - time.Minute)
	files := map[string]bool{ // path: whether it stays
		filepath.Join(dir, ".put-123"):                                false,
		filepath.Join(dir, ".put-456"):                                true, // recent: a Put in progress
		filepath.Join(uploads, "carlot-upload-1"):                     false,
		filepath.Join(uploads, "carlot-upload-2"):                     true,
		filepath.Join(dir, "ab", "ab"+strings.Repeat("0", 62)+".png"): true,
		filepath.Join(dir, "notes.txt"):                               true,
	}
	for path, stays := range files {
		if err := os.WriteFile(path, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
		if !stays || strings.HasSuffix(path, ".png") || strings.HasSuffix(path, ".txt") {
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := media.NewFileStore(dir)
	if s.TempDir() != uploads {
		t.Fatalf("TempDir %q, want %q", s.TempDir(), uploads)
	}
	for path, stays := range files {
		_, err := os.Stat(path)
		if exists := err == nil; exists != stays {
			t.Errorf("%s: exists %v, want %v", path, exists, stays)
		}
	}
	// A store whose directory is not there yet is no trouble.
	_ = media.NewFileStore(filepath.Join(dir, "missing"))
}
