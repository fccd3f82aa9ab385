package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/carlot/carlot/internal/apitest"
	"github.com/carlot/carlot/models"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair, or skips the test where there is none.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { _ = master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("name the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = tty.Close() })
	return master, tty
}

func TestUserCreatePromptsOnATerminal(t *testing.T) {
	t.Parallel()
	env, db := userDB(t)

	t.Run("matching entries", func(t *testing.T) {
		master, tty := openPTY(t)
		// Typed ahead: the terminal keeps the lines until they are read.
		if _, err := master.WriteString("typed-secret-1\ntyped-secret-1\n"); err != nil {
			t.Fatal(err)
		}
		var out, prompts apitest.LogBuffer
		err := run(t.Context(), []string{"server", "user", "create", "--email", "typed@example.com", "--role", "VIEWER"},
			envOf(env), tty, &out, &prompts)
		if err != nil {
			t.Fatalf("%v\nprompts: %q", err, prompts.String())
		}
		if p := prompts.String(); strings.Count(p, "assword: ") != 2 {
			t.Fatalf("prompts %q, want two", p)
		}
		if _, err := models.Authenticate(context.Background(), db, "typed@example.com", "typed-secret-1"); err != nil {
			t.Fatalf("log in with the typed password: %v", err)
		}
	})

	t.Run("entries differ", func(t *testing.T) {
		master, tty := openPTY(t)
		if _, err := master.WriteString("typed-secret-1\ntyped-secret-2\n"); err != nil {
			t.Fatal(err)
		}
		var out apitest.LogBuffer
		err := run(t.Context(), []string{"server", "user", "create", "--email", "typo@example.com", "--role", "VIEWER"},
			envOf(env), tty, &out, &out)
		if err == nil || err.Error() != "user create: the passwords do not match" {
			t.Fatalf("err = %v", err)
		}
	})
}
