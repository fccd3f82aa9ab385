package database_test

import (
	"context"
	"os"
	"testing"

	"github.com/carlot/carlot/internal/database"
	"github.com/carlot/carlot/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// A float read as text comes back exactly, even where the database's
// default would round it.
func TestFloatsReadBackExactly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t, testdb.Empty)
	admin, err := database.Open(url, database.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET extra_float_digits = 0', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()

	db, err := database.Open(url, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var text string
	if err := db.NewRaw("SELECT (0.1::float8 + 0.2::float8)::text").Scan(ctx, &text); err != nil {
		t.Fatal(err)
	}
	if text != "0.30000000000000004" {
		t.Fatalf("0.1 + 0.2 reads as %s, want 0.30000000000000004", text)
	}
}
