//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestDevJWTSecretDirectoryIgnoresTheUmask(t *testing.T) {
	// Not parallel: the umask is per process.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, _, err := devJWTSecret(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("%s: mode %v (%v), want 755", d, fi.Mode().Perm(), err)
		}
	}
}
