package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/carlot/carlot/internal/config"
)

// healthcheckTimeout bounds one probe: a container runtime kills a check
// that hangs, and reports nothing useful then.
const healthcheckTimeout = 3 * time.Second

// healthcheck runs `server healthcheck`: it asks the server running beside
// it (same environment, so the same port) for /readyz and succeeds only on
// 200. Container images without a shell or curl (distroless) probe with it.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("healthcheck takes no arguments")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(probeHost(cfg), strconv.Itoa(cfg.Port)) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d: %s", url, resp.StatusCode, body)
	}
	_, err = fmt.Fprintf(stdout, "ready: %s", body)
	return err
}

// probeHost is where a client on the same machine reaches the server: the
// address it listens on, or the loopback address when it listens on every
// interface.
func probeHost(cfg *config.Config) string {
	if cfg.Host == "" {
		return "127.0.0.1"
	}
	if a, err := netip.ParseAddr(cfg.Host); err == nil && a.IsUnspecified() {
		if a.Is6() {
			return "::1"
		}
		return "127.0.0.1"
	}
	return cfg.Host
}
