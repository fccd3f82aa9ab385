//go:build !linux

package embeddedpg

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setDeathSignal is a no-op where Pdeathsig does not exist: a postgres left
// behind by a crashed process is found through postmaster.pid and reused by
// the next Start.
func setDeathSignal(*syscall.SysProcAttr) {}

// isPostgresProcess reports whether pid runs the postgres (postmaster) binary.
func isPostgresProcess(pid int) bool {
	out, err := exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return false
	}
	comm := filepath.Base(strings.TrimSpace(string(out)))
	return comm == "postgres" || comm == "postmaster"
}
