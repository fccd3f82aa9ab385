package app_test

import (
	"os"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
