//go:build !unix

package httpapi

import (
	"bufio"
	"net"
)

// readableWaiter has no way to wait without reading here.
func readableWaiter(net.Conn, *bufio.Reader) func() { return nil }
