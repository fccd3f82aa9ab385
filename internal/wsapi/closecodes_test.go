package wsapi

import (
	"fmt"
	"testing"

	"github.com/carlot/carlot/internal/live"
)

// The close codes are part of the protocol clients reconnect by: each error
// that ends a socket keeps its code, wrapped or not.
func TestCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"too slow is 4290", live.ErrTooSlow, 4290},
		{"shutdown is 1001", live.ErrShutdown, 1001},
		{"events unavailable is 1013", live.ErrUnavailable, 1013},
		{"expired token is 4403", errTokenExpired, 4403},
		{"wrapped error keeps its code", fmt.Errorf("replay: %w", live.ErrUnavailable), 1013},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, ok := closeFor(tc.err)
			if !ok || code != tc.code || reason == "" || len(reason) > maxCloseReason {
				t.Fatalf("closeFor(%v) = %d %q %v, want %d", tc.err, code, reason, ok, tc.code)
			}
		})
	}
	t.Run("other errors leave the socket open", func(t *testing.T) {
		if code, _, ok := closeFor(fmt.Errorf("boom")); ok {
			t.Fatalf("closeFor(boom) = %d, want none", code)
		}
	})
}
