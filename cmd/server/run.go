package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `Carlot: a GraphQL API server for vehicle inventories.

Usage:
  server [serve]                         start the HTTP server (the default)
  server db migrate                      apply pending migrations
  server db rollback                     roll back the last migration group
  server db status                       list applied and pending migrations
  server db create NAME                  write a new empty up/down SQL migration pair
  server db seed [--vehicles N] [--reset]
                                         load demo data and demo accounts (idempotent;
                                         SEED_PASSWORD sets the accounts' password)
  server user create --email E --role ROLE [--dealer DEALER_ID] [--password-stdin]
                                         create a user (ROLE: VIEWER, STAFF or ADMIN; STAFF
                                         need the dealer's ID); prompts for the password
                                         unless --password-stdin
  server healthcheck                     exit 0 if the server on HOST:PORT answers /readyz with 200
                                         (for container health checks; no curl needed)
  server schema print                    write the served GraphQL schema as SDL to stdout
  server help                            show this text

Configuration comes from the environment; see README.md and .env.example.
`

// run is the whole program behind main, with its surroundings passed in so
// tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return fmt.Errorf("serve takes no arguments (configuration comes from the environment)")
		}
		return serve(ctx, getenv, stdout)
	case "db":
		return dbCommand(ctx, rest, getenv, stdout)
	case "user":
		return userCommand(ctx, rest, getenv, stdin, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout)
	case "schema":
		return schemaCommand(rest, stdout)
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q (run 'server help' for the list)", cmd)
}

// parseFlags parses a subcommand's flags and turns flag errors into one
// line instead of the flag package's usage dump.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return fmt.Errorf("%s: see 'server help'", fs.Name())
		}
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), strings.Join(fs.Args(), " "))
	}
	return nil
}
