package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

func TestDevJWTSecretIsCreatedOnceAndReused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not", "there", "yet")
	secret, created, err := devJWTSecret(dir)
	if err != nil || !created {
		t.Fatalf("first call: created %v, err %v", created, err)
	}
	if raw, err := hex.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not 32 bytes in hex", secret)
	}
	path := filepath.Join(dir, devSecretFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("%s has mode %o, want 600", path, mode)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o755 {
		t.Fatalf("data directory: %v %v, want mode 755", di.Mode().Perm(), err)
	}

	again, created, err := devJWTSecret(dir)
	if err != nil || created || again != secret {
		t.Fatalf("second call: %q created %v err %v; want the first secret, reused", again, created, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("data directory holds %d entries, want only %s", len(entries), devSecretFile)
	}

	other, _, err := devJWTSecret(t.TempDir())
	if err != nil || other == secret {
		t.Fatalf("another data directory got %q (%v), want its own secret", other, err)
	}
}

func TestDevJWTSecretRefusesACorruptFile(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"empty":   "",
		"short":   strings.Repeat("ab", 16) + "\n",
		"not hex": strings.Repeat("zz", 32),
		"long":    strings.Repeat("ab", 33),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, devSecretFile)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := devJWTSecret(dir)
			if err == nil || !strings.Contains(err.Error(), path+" is corrupt") || !strings.Contains(err.Error(), "delete it") ||
				strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Fatal("the corrupt file was changed")
			}
		})
	}
}

// The server uses the development secret when JWT_SECRET is unset, and
// never in production (where configuration refuses to start without one).
func TestServeUsesTheDevelopmentSecret(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{"DATABASE_URL": testdb.URL(t, testdb.Seeded), "CARLOT_DATA_DIR": dataDir}
	_, stop := startServer(t, env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, devSecretFile)); err != nil {
		t.Fatalf("development secret: %v", err)
	}

	prodDir := t.TempDir()
	_, err := runCmd(t, map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "CARLOT_DATA_DIR": prodDir}, "serve")
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("production without JWT_SECRET: %v", err)
	}
	if _, err := os.Stat(filepath.Join(prodDir, devSecretFile)); !os.IsNotExist(err) {
		t.Fatalf("production wrote a development secret (%v)", err)
	}
}
