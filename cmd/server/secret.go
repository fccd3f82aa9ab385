package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// devSecretFile is the name, under CARLOT_DATA_DIR, of the JWT signing key a
// development server uses when JWT_SECRET is unset.
const devSecretFile = "jwt-secret"

// devSecretBytes is the development key's size: HS256 wants 256 bits.
const devSecretBytes = 32

// devJWTSecret returns the development JWT signing key kept in
// dataDir/jwt-secret, creating the file with a random key (mode 0600) on
// first use. Keeping it on disk rather than drawing a new key per start lets
// tokens survive restarts; keeping it per data directory means two checkouts
// never accept each other's tokens. The file holds 64 hex digits, which are
// themselves the key, just as a JWT_SECRET value would be.
func devJWTSecret(dataDir string) (secret string, created bool, err error) {
	path := filepath.Join(dataDir, devSecretFile)
	secret, err = readDevSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, false, err
	}
	if err := mkdirAll0755(dataDir); err != nil {
		return "", false, fmt.Errorf("development JWT secret: %w", err)
	}
	raw := make([]byte, devSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("development JWT secret: %w", err)
	}
	secret = hex.EncodeToString(raw)
	created, err = publishFile(path, []byte(secret+"\n"))
	if err != nil {
		return "", false, fmt.Errorf("development JWT secret: %w", err)
	}
	if !created {
		// Another process started at the same moment and won: use its key.
		secret, err = readDevSecret(path)
	}
	return secret, created, err
}

// readDevSecret reads and checks a development secret file.
func readDevSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("development JWT secret: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(secret); err != nil || len(raw) != devSecretBytes {
		return "", fmt.Errorf("development JWT secret %s is corrupt (want %d hex digits): delete it to make a new one (tokens signed with the old one stop working), or set JWT_SECRET",
			path, 2*devSecretBytes)
	}
	return secret, nil
}

// publishFile writes data to a private temporary file next to path and
// links it into place, so that path never exists half written and an
// existing path is never replaced. It reports false when path already
// existed.
func publishFile(path string, data []byte) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// mkdirAll0755 creates dir and its missing parents with mode 0755 whatever
// the umask: the embedded cluster may run as another user (when Carlot runs
// as root), who must be able to enter the data directory.
func mkdirAll0755(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll0755(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}
