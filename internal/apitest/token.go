package apitest

import (
	"testing"
	"time"

	"github.com/carlot/carlot/internal/auth"
	"github.com/carlot/carlot/models"
)

// Bearer returns an Authorization header value with an access token for
// user id in role, signed with Secret and valid for an hour.
func Bearer(t testing.TB, id int64, role models.Role) string {
	t.Helper()
	token, _, err := auth.New([]byte(Secret), time.Hour).Issue(&models.User{ID: id, Role: role}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + token
}
