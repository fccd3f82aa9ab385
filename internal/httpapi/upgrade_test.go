package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIsWebsocketUpgrade(t *testing.T) {
	for _, tc := range []struct {
		upgrade []string
		want    bool
	}{
		{nil, false},
		{[]string{"websocket"}, true},
		{[]string{"WebSocket"}, true},
		{[]string{"h2c, websocket"}, true},
		{[]string{"h2c", "websocket"}, true},
		{[]string{"websockets"}, false},
		{[]string{"h2c"}, false},
	} {
		t.Run(fmt.Sprint(tc.upgrade), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			for _, v := range tc.upgrade {
				r.Header.Add("Upgrade", v)
			}
			if got := isWebsocketUpgrade(r); got != tc.want {
				t.Errorf("Upgrade %q: %v, want %v", tc.upgrade, got, tc.want)
			}
		})
	}
}
