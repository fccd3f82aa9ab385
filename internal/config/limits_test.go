package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLimitDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxTokens != 15000 || c.MaxDepth != 12 || c.MaxAliases != 30 || c.MaxDirectives != 10 || c.MaxFields != 500 ||
		c.MaxComplexity != 1000 || c.MaxHeaderBytes != 64<<10 || c.ReadHeaderTimeout != 5*time.Second ||
		c.RateLimitPerIP != 600 || c.RateLimitPerUser != 1200 || c.MaxWSConnsPerIP != 50 || c.WSMaxSubscriptions != 100 ||
		len(c.TrustedProxies) != 0 {
		t.Fatalf("unexpected limit defaults: %+v", c)
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,fd00::/8,10.1.2.3/8", "RATE_LIMIT_PER_IP": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.0.0.0/8"),
	}
	if !slices.Equal(c.TrustedProxies, want) || c.RateLimitPerIP != 0 {
		t.Fatalf("got %v, rate %d", c.TrustedProxies, c.RateLimitPerIP)
	}
	_, err = Load(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal", "MAX_DEPTH": "0", "RATE_LIMIT_PER_USER": "-1"}))
	for _, name := range []string{"TRUSTED_PROXIES", "proxy.internal", "MAX_DEPTH", "RATE_LIMIT_PER_USER"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestPasswordHashMemoryBudget(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PasswordHashMemoryBudget != 128<<20 {
		t.Errorf("default budget %d, want 128 MiB", c.PasswordHashMemoryBudget)
	}
	c, err = Load(env(map[string]string{"PASSWORD_HASH_MEMORY_BUDGET": "67108864"}))
	if err != nil || c.PasswordHashMemoryBudget != 64<<20 {
		t.Errorf("64 MiB: %v, %v", c, err)
	}
	// Less than one hash's memory could never let a login through.
	if _, err := Load(env(map[string]string{"PASSWORD_HASH_MEMORY_BUDGET": "1048576"})); err == nil || !strings.Contains(err.Error(), "PASSWORD_HASH_MEMORY_BUDGET") {
		t.Errorf("1 MiB budget: %v", err)
	}
}

func TestWSMaxSubscriptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  int
	}{{"0", 0}, {"1", 1}, {"5000", 5000}} {
		t.Run(tc.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{"WS_MAX_SUBSCRIPTIONS_PER_SOCKET": tc.value}))
			if err != nil || c.WSMaxSubscriptions != tc.want {
				t.Errorf("%s: got %v, %v", tc.value, c, err)
			}
		})
	}
	for _, bad := range []string{"-1", "many", "2000000"} {
		if _, err := Load(env(map[string]string{"WS_MAX_SUBSCRIPTIONS_PER_SOCKET": bad})); err == nil || !strings.Contains(err.Error(), "WS_MAX_SUBSCRIPTIONS_PER_SOCKET") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
