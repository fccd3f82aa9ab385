package app_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/metrics"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
)

func TestConcurrentLoginsHashWithinTheMemoryBudget(t *testing.T) {
	t.Parallel()
	const budgetHashes = 2
	cfg := apitest.Config(t, map[string]string{
		"RATE_LIMIT_PER_IP": "0", "RATE_LIMIT_PER_USER": "0",
		"PASSWORD_HASH_MEMORY_BUDGET": fmt.Sprint(budgetHashes * models.PasswordHashMemory),
	})
	hasher := models.NewPasswordHasher(cfg.PasswordHashMemoryBudget)
	api, err := app.New(app.Deps{Config: cfg, DB: testdb.New(t, testdb.Seeded), Passwords: hasher,
		Log: logging.New(&apitest.LogBuffer{}, slog.LevelInfo, "json"), Metrics: metrics.New()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)

	const logins = 12
	codes := make([]string, logins)
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			email := testdb.AdminEmail
			if i%2 == 1 {
				email = fmt.Sprintf("nobody%d@carlot.test", i) // checked against the dummy hash
			}
			body, _ := json.Marshal(map[string]any{
				"query":     `mutation($e: String!) { login(email: $e, password: "wrong-password") { accessToken } }`,
				"variables": map[string]any{"e": email},
			})
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			var out struct {
				Errors []struct {
					Extensions struct{ Code string } `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) == 0 {
				codes[i] = "unreadable: " + rec.Body.String()
				return
			}
			codes[i] = out.Errors[0].Extensions.Code
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != "UNAUTHENTICATED" {
			t.Errorf("login %d: %s, want UNAUTHENTICATED", i, code)
		}
	}
	if peak := hasher.Peak(); peak < 1 || peak > budgetHashes {
		t.Errorf("%d password hashes ran at once, want at most %d (the budget)", peak, budgetHashes)
	}
	if n := hasher.InFlight(); n != 0 {
		t.Errorf("%d hashes still counted in flight", n)
	}
}
