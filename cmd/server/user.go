package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/carlot/carlot/graph"
	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
	"golang.org/x/term"
)

// userCommand runs `server user ...`, against the same database as the db
// commands. Prompts go to stderr so that stdout carries only the result.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("user: missing subcommand: create")
	}
	if args[0] != "create" {
		return fmt.Errorf("user: unknown subcommand %q: want create", args[0])
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "the new user's email")
	role := fs.String("role", "", "VIEWER, STAFF or ADMIN")
	dealer := fs.String("dealer", "", "the global ID of a STAFF user's dealer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	in, err := newUserInput(*email, *role, *dealer)
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	// Ask for the password before starting anything, so nothing waits on
	// the person typing.
	if *fromStdin {
		in.Password, err = readPasswordLine(stdin)
	} else {
		in.Password, err = promptPassword(stdin, stderr)
	}
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}

	st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := requireMigrated(ctx, st.DB); err != nil {
		return fmt.Errorf("user create: %w", err)
	}

	u, err := models.CreateUser(ctx, st.DB, in)
	if err != nil {
		return fmt.Errorf("user create: %s", userErrorLine(err))
	}
	fmt.Fprintf(stdout, "created %s %s (id %s)\n", u.Role, u.Email, graph.NodeID(u.Key()))
	return nil
}

// newUserInput checks what the flags alone can tell; models.CreateUser
// checks the rest (email shape, which roles have a dealer, that it exists).
func newUserInput(email, role, dealer string) (models.NewUser, error) {
	in := models.NewUser{Email: email, Role: models.Role(strings.ToUpper(strings.TrimSpace(role)))}
	if strings.TrimSpace(email) == "" {
		return in, errors.New("--email is required")
	}
	if role == "" {
		return in, errors.New("--role is required: VIEWER, STAFF or ADMIN")
	}
	if dealer = strings.TrimSpace(dealer); dealer != "" {
		typ, id, err := relay.ParseNodeID(dealer)
		if err != nil {
			return in, fmt.Errorf("--dealer %q is not a dealer ID (use the id the API shows for the dealer)", dealer)
		}
		if typ != models.TypeDealer {
			return in, fmt.Errorf("--dealer %q is the ID of a %s, not of a Dealer", dealer, typ)
		}
		in.DealerID = &id
	}
	return in, nil
}

// readPasswordLine reads the password from the first line of r, without its
// line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	if line == "" {
		return "", errors.New("--password-stdin: stdin is empty")
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// promptPassword asks twice for the password on the terminal, without echo.
func promptPassword(stdin io.Reader, prompt io.Writer) (string, error) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("stdin is not a terminal: use --password-stdin")
	}
	ask := func(what string) (string, error) {
		fmt.Fprint(prompt, what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt) // the newline the user typed was not echoed
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	first, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	second, err := ask("Repeat the password: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the passwords do not match")
	}
	return first, nil
}

// userErrorLine turns what CreateUser refused into one line: each invalid
// field with its problem, or the error's safe message.
func userErrorLine(err error) string {
	var e *models.Error
	if !errors.As(err, &e) {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}
