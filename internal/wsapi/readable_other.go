//go:build !unix

package wsapi

import "net"

// readableWaiter has no way to wait without reading here.
func readableWaiter(net.Conn) func() { return nil }
