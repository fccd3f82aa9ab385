//go:build unix

package wsapi

import (
	"errors"
	"net"
	"syscall"
)

// readableWaiter returns a function that returns once the kernel has
// something to read for conn (or an error, or the end), with nothing read.
// It returns nil when conn gives no access to its descriptor (TLS, for
// instance).
func readableWaiter(conn net.Conn) func() {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var one [1]byte
	// ready peeks at the socket without waiting; false has the runtime's
	// poller park the goroutine until the descriptor is readable and ask
	// again.
	ready := func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK)
	}
	return func() { _ = raw.Read(ready) }
}
