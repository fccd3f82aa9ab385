//go:build !unix

package httpapi

import "net"

// readableWaiter has no way to wait without reading here.
func readableWaiter(net.Conn) func() { return nil }
