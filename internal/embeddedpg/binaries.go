package embeddedpg

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FindBinaries returns the directory containing the PostgreSQL server
// binaries initdb and postgres (version 14 or newer).
//
// If hint is non-empty it must be such a directory; nothing else is tried.
// Otherwise it looks at PATH (following symlinks, so that a
// /usr/local/bin/postgres linking into /usr/lib/postgresql/15/bin yields the
// latter) and then at the usual install locations: /usr/lib/postgresql/*/bin
// (highest major version first), /usr/pgsql-*/bin, /usr/local/pgsql/bin,
// Homebrew's postgresql* kegs, /opt/homebrew/bin and /usr/local/bin.
// The error wraps ErrNoBinaries when no binaries are found.
func FindBinaries(hint string) (string, error) {
	if hint != "" {
		dir, ok := binDirFor(hint)
		if !ok {
			return "", fmt.Errorf("embeddedpg: %s does not contain initdb and postgres: %w", hint, ErrNoBinaries)
		}
		major, err := serverMajor(dir)
		if err != nil {
			return "", err
		}
		if major < minMajor {
			return "", tooOldError([]string{fmt.Sprintf("%d at %s", major, dir)})
		}
		return dir, nil
	}

	var tooOld []string
	var lastErr error
	seen := map[string]bool{}
	for _, cand := range candidateDirs() {
		dir, ok := binDirFor(cand)
		if !ok || seen[dir] {
			continue
		}
		seen[dir] = true
		major, err := serverMajor(dir)
		if err != nil {
			lastErr = err
			continue
		}
		if major < minMajor {
			tooOld = append(tooOld, fmt.Sprintf("%d at %s", major, dir))
			continue
		}
		return dir, nil
	}
	if len(tooOld) > 0 {
		return "", tooOldError(tooOld)
	}
	if lastErr != nil {
		return "", fmt.Errorf("embeddedpg: %w (last error: %v)", ErrNoBinaries, lastErr)
	}
	return "", fmt.Errorf("embeddedpg: %w", ErrNoBinaries)
}

func tooOldError(found []string) error {
	return fmt.Errorf("embeddedpg: PostgreSQL %d or newer is required, found only PostgreSQL %s: install a newer PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or set DATABASE_URL",
		minMajor, strings.Join(found, ", "))
}

// candidateDirs lists directories that may hold the server binaries, in
// order of preference.
func candidateDirs() []string {
	var dirs []string
	for _, name := range []string{"postgres", "initdb"} {
		if p, err := exec.LookPath(name); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				dirs = append(dirs, filepath.Dir(real))
			}
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	dirs = append(dirs, globByVersion("/usr/lib/postgresql/*/bin", "/usr/lib/postgresql/")...)
	dirs = append(dirs, globByVersion("/usr/pgsql-*/bin", "/usr/pgsql-")...)
	dirs = append(dirs, "/usr/local/pgsql/bin")
	dirs = append(dirs, globByVersion("/opt/homebrew/opt/postgresql*/bin", "/opt/homebrew/opt/postgresql")...)
	dirs = append(dirs, globByVersion("/usr/local/opt/postgresql*/bin", "/usr/local/opt/postgresql")...)
	dirs = append(dirs, "/opt/homebrew/bin", "/usr/local/bin")
	return dirs
}

// globByVersion expands pattern and sorts the matches by the number that
// follows prefix (e.g. "15" in /usr/lib/postgresql/15/bin, "16" in
// postgresql@16), highest first; matches without a number come last.
func globByVersion(pattern, prefix string) []string {
	matches, _ := filepath.Glob(pattern)
	version := func(p string) float64 {
		rest := strings.TrimLeft(strings.TrimPrefix(p, prefix), "@-")
		end := 0
		for end < len(rest) && (rest[end] >= '0' && rest[end] <= '9' || rest[end] == '.') {
			end++
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(rest[:end], "."), 64)
		if err != nil {
			return -1
		}
		return v
	}
	sort.SliceStable(matches, func(i, j int) bool {
		vi, vj := version(matches[i]), version(matches[j])
		if vi != vj {
			return vi > vj
		}
		return matches[i] < matches[j]
	})
	return matches
}

// binDirFor returns the real directory holding both initdb and postgres for
// candidate directory dir: the directory of the resolved postgres binary if
// it also holds initdb (Homebrew and /usr/local/bin hold symlinks), else dir
// itself.
func binDirFor(dir string) (string, bool) {
	if real, err := filepath.EvalSymlinks(filepath.Join(dir, "postgres")); err == nil {
		if rd := filepath.Dir(real); hasExecutable(rd, "postgres") && hasExecutable(rd, "initdb") {
			return rd, true
		}
	}
	if hasExecutable(dir, "postgres") && hasExecutable(dir, "initdb") {
		if abs, err := filepath.Abs(dir); err == nil {
			return abs, true
		}
		return dir, true
	}
	return "", false
}

func hasExecutable(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// serverMajor runs "postgres --version" (allowed even as root) and returns
// the major version.
func serverMajor(dir string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bin := filepath.Join(dir, "postgres")
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("embeddedpg: %s --version: %w", bin, err)
	}
	major, ok := parseMajor(string(out))
	if !ok {
		return 0, fmt.Errorf("embeddedpg: cannot parse version from %s --version output %q", bin, strings.TrimSpace(string(out)))
	}
	return major, nil
}

// parseMajor extracts the major version from output such as
// "postgres (PostgreSQL) 15.5 (Debian 15.5-0+deb12u1)" or "... 9.6.24".
func parseMajor(s string) (int, bool) {
	if i := strings.Index(s, "(PostgreSQL)"); i >= 0 {
		s = s[i+len("(PostgreSQL)"):]
	}
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}
