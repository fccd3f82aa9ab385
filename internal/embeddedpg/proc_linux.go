package embeddedpg

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// setDeathSignal asks the kernel to send SIGINT (fast shutdown) to postgres
// if the thread that started it dies; see launch for how that thread is kept
// alive for the child's lifetime. Go applies it after switching credentials,
// so the setting survives the setuid done for root.
func setDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGINT
}

// isPostgresProcess reports whether pid runs the postgres (postmaster) binary.
func isPostgresProcess(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return false
	}
	comm := strings.TrimSpace(string(b))
	return comm == "postgres" || comm == "postmaster"
}
