package embeddedpg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// fallbackBase is where data directories unreachable by the unprivileged
// user are placed when running as root. A variable so tests can redirect it.
var fallbackBase = "/var/lib/carlot"

// runAs is the unprivileged OS user initdb and postgres run as when the
// current process is root. A nil *runAs means "run as ourselves".
type runAs struct {
	name string
	uid  uint32
	gid  uint32
}

// currentRunAs returns nil when not root, else the "postgres" user if it
// exists or "nobody".
func currentRunAs() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var lastErr error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			lastErr = err
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			lastErr = fmt.Errorf("user %s has non-numeric uid/gid", name)
			continue
		}
		if uid == 0 {
			continue
		}
		return &runAs{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("embeddedpg: running as root but found no unprivileged user (postgres or nobody) to run PostgreSQL as: %v", lastErr)
}

// credential returns the exec credential for r (nil for ourselves).
// Supplementary groups are dropped, so only r.gid counts for permissions.
func (r *runAs) credential() *syscall.Credential {
	if r == nil {
		return nil
	}
	return &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: []uint32{}}
}

// canTraverse reports whether a process with uid/gid (and no supplementary
// groups) has search permission on dir and every one of its ancestors. It
// checks the owner bits if the owner matches, else the group bits if the
// group matches, else the other bits (ACLs are ignored). On failure it also
// returns the first directory (from the root down) that blocks access.
func canTraverse(dir string, uid, gid uint32) (bool, string, error) {
	dir = filepath.Clean(dir)
	if !filepath.IsAbs(dir) {
		return false, "", fmt.Errorf("embeddedpg: canTraverse needs an absolute path, got %q", dir)
	}
	var chain []string
	for d := dir; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		fi, err := os.Stat(d)
		if err != nil {
			return false, d, err
		}
		if uid == 0 {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false, d, fmt.Errorf("embeddedpg: cannot read ownership of %s", d)
		}
		perm := fi.Mode().Perm()
		var bit fs.FileMode
		switch {
		case st.Uid == uid:
			bit = 0o100
		case st.Gid == gid:
			bit = 0o010
		default:
			bit = 0o001
		}
		if perm&bit == 0 {
			return false, d, nil
		}
	}
	return true, "", nil
}

// realPath resolves symlinks in the longest existing prefix of the absolute
// path p and appends the rest unchanged.
func realPath(p string) (string, error) {
	var rest []string
	for d := p; ; d = filepath.Dir(d) {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			for i := len(rest) - 1; i >= 0; i-- {
				r = filepath.Join(r, rest[i])
			}
			return r, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(d) == d {
			return p, nil
		}
		rest = append(rest, filepath.Base(d))
	}
}

// existingAncestor returns the closest existing directory at or above p.
func existingAncestor(p string) string {
	for d := p; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			return d
		}
	}
}

// mkdirAllMode creates dir and missing parents with exactly mode (the umask
// is overridden for the directories it creates; existing ones are untouched).
func mkdirAllMode(dir string, mode fs.FileMode) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAllMode(parent, mode); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}

// fallbackDir is the data directory used when requested (absolute) is not
// reachable: <fallbackBase>/<first 16 hex digits of sha256(requested)>/postgres.
func fallbackDir(requested string) string {
	sum := sha256.Sum256([]byte(requested))
	return filepath.Join(fallbackBase, hex.EncodeToString(sum[:])[:16], "postgres")
}

// resolveDataDir returns the real data directory to use for the absolute
// path requested, preparing it so that ru (the unprivileged user when root)
// can reach it:
//
//   - a symlink is followed (a dangling one is fine: its target is created);
//   - a non-empty directory is used as is (error if unreachable);
//   - a missing or empty directory is used if reachable; otherwise, as root,
//     the cluster goes to fallbackDir(requested) and requested becomes a
//     symlink to it. The user's home directory is never chmod'ed.
//
// Missing parent directories are created with mode 0755.
//
// It logs (Info) the real location when it differs from requested.
func resolveDataDir(requested string, ru *runAs, logger *slog.Logger) (string, error) {
	fi, err := os.Lstat(requested)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(requested)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("embeddedpg: resolve data directory symlink %s: %w", requested, err)
			}
			link, err := os.Readlink(requested)
			if err != nil {
				return "", fmt.Errorf("embeddedpg: read data directory symlink %s: %w", requested, err)
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(requested), link)
			}
			if target, err = realPath(filepath.Clean(link)); err != nil {
				return "", fmt.Errorf("embeddedpg: resolve data directory symlink %s: %w", requested, err)
			}
		}
		dir, err := prepareReachable(target, requested, ru)
		if err == nil {
			logger.Info("embeddedpg: PostgreSQL data directory (symlinked)", "path", dir, "requested", requested)
		}
		return dir, err
	case err == nil && fi.IsDir():
		real, err := filepath.EvalSymlinks(requested)
		if err != nil {
			return "", fmt.Errorf("embeddedpg: resolve data directory %s: %w", requested, err)
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			return "", fmt.Errorf("embeddedpg: read data directory %s: %w", real, err)
		}
		if len(entries) > 0 {
			return prepareReachable(real, requested, ru)
		}
	case err == nil:
		return "", fmt.Errorf("embeddedpg: data directory %s exists and is not a directory", requested)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("embeddedpg: data directory %s: %w", requested, err)
	}

	// Missing or empty.
	real, err := realPath(requested)
	if err != nil {
		return "", fmt.Errorf("embeddedpg: resolve data directory %s: %w", requested, err)
	}
	if ru == nil {
		if err := mkdirAllMode(filepath.Dir(real), 0o755); err != nil {
			return "", fmt.Errorf("embeddedpg: create parent of data directory: %w", err)
		}
		return real, nil
	}
	ok, blocker, err := canTraverse(existingAncestor(filepath.Dir(real)), ru.uid, ru.gid)
	if err != nil {
		return "", fmt.Errorf("embeddedpg: check access to %s: %w", real, err)
	}
	if ok {
		if err := mkdirAllMode(filepath.Dir(real), 0o755); err != nil {
			return "", fmt.Errorf("embeddedpg: create parent of data directory: %w", err)
		}
		return real, nil
	}

	// Not reachable by ru: use the fallback and symlink requested to it.
	fb := fallbackDir(requested)
	if err := mkdirAllMode(fallbackBase, 0o755); err != nil {
		return "", fmt.Errorf("embeddedpg: create %s: %w", fallbackBase, err)
	}
	if err := os.Chmod(fallbackBase, 0o755); err != nil {
		return "", fmt.Errorf("embeddedpg: chmod %s: %w", fallbackBase, err)
	}
	if err := mkdirAllMode(filepath.Dir(fb), 0o755); err != nil {
		return "", fmt.Errorf("embeddedpg: create %s: %w", filepath.Dir(fb), err)
	}
	if ok, b, err := canTraverse(filepath.Dir(fb), ru.uid, ru.gid); err != nil || !ok {
		return "", fmt.Errorf("embeddedpg: fallback directory %s is not reachable by user %s either (blocked at %s): %v", fb, ru.name, b, err)
	}
	if fi != nil { // an empty directory was there; replace it with the symlink
		if err := os.Remove(requested); err != nil {
			return "", fmt.Errorf("embeddedpg: replace empty data directory with symlink: %w", err)
		}
	}
	if err := mkdirAllMode(filepath.Dir(requested), 0o755); err != nil {
		return "", fmt.Errorf("embeddedpg: create parent of data directory: %w", err)
	}
	if err := os.Symlink(fb, requested); err != nil {
		return "", fmt.Errorf("embeddedpg: symlink %s -> %s: %w", requested, fb, err)
	}
	logger.Info("embeddedpg: PostgreSQL data directory (requested path not reachable by the PostgreSQL OS user, symlinked to this fallback)",
		"path", fb, "requested", requested, "user", ru.name, "blocked_at", blocker)
	return fb, nil
}

// prepareReachable checks that ru can reach the existing-or-to-be-created
// real data directory dir (requested is only used in messages) and creates
// its missing parents.
func prepareReachable(dir, requested string, ru *runAs) (string, error) {
	if ru != nil {
		ok, blocker, err := canTraverse(existingAncestor(filepath.Dir(dir)), ru.uid, ru.gid)
		if err != nil {
			return "", fmt.Errorf("embeddedpg: check access to %s: %w", dir, err)
		}
		if !ok {
			return "", fmt.Errorf("embeddedpg: data directory %s (for %s) is not reachable by user %s: no search permission on %s; move it or set DATABASE_URL", dir, requested, ru.name, blocker)
		}
	}
	if err := mkdirAllMode(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("embeddedpg: create parent of data directory: %w", err)
	}
	return dir, nil
}

// fixOwnership makes an existing cluster directory usable by ru: owned by it
// (recursively re-owned if the top directory belongs to someone else, e.g. a
// cluster first created by another user) and not group/other accessible
// beyond the 0750 postgres accepts.
func fixOwnership(dataDir string, ru *runAs, logger *slog.Logger) error {
	fi, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("embeddedpg: stat data directory: %w", err)
	}
	if ru != nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != ru.uid || st.Gid != ru.gid) {
			logger.Warn("embeddedpg: changing ownership of existing data directory", "path", dataDir, "user", ru.name)
			err := filepath.WalkDir(dataDir, func(p string, _ fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				return os.Lchown(p, int(ru.uid), int(ru.gid))
			})
			if err != nil {
				return fmt.Errorf("embeddedpg: chown data directory to %s: %w", ru.name, err)
			}
		}
	}
	if fi.Mode().Perm()&^0o750 != 0 {
		if err := os.Chmod(dataDir, 0o700); err != nil {
			return fmt.Errorf("embeddedpg: chmod data directory: %w", err)
		}
	}
	return nil
}
