package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/migrations"
	"github.com/carlot/carlot/models"
)

// dbCommand runs `server db ...`. Against DATABASE_URL when set, else the
// embedded cluster (started for the command if the server is not running).
func dbCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("db: missing subcommand: migrate, rollback, status, create or seed")
	}
	sub, rest := args[0], args[1:]
	if sub == "create" {
		// Writes files only; no database needed.
		if len(rest) != 1 {
			return fmt.Errorf("db create: want exactly one NAME (lowercase letters, digits, _)")
		}
		paths, err := migrations.Create(migrations.Dir, rest[0], time.Now())
		if err != nil {
			return fmt.Errorf("db create: %w", err)
		}
		for _, p := range paths {
			fmt.Fprintln(stdout, "created", p)
		}
		return nil
	}

	fs := flag.NewFlagSet("db "+sub, flag.ContinueOnError)
	vehicles := fs.Int("vehicles", defaultSeedVehicles, "how many demo vehicles")
	reset := fs.Bool("reset", false, "delete all catalog data first")
	if sub != "seed" {
		fs = flag.NewFlagSet("db "+sub, flag.ContinueOnError)
	}
	switch sub {
	case "migrate", "rollback", "status", "seed":
	default:
		return fmt.Errorf("db: unknown subcommand %q: want migrate, rollback, status, create or seed", sub)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if *vehicles < 0 {
		return fmt.Errorf("db seed: --vehicles must not be negative")
	}
	var password string
	if sub == "seed" {
		var err error
		if password, err = seedPasswordFrom(getenv); err != nil {
			return fmt.Errorf("db seed: %w", err)
		}
	}

	st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "migrate":
		applied, err := migrations.Migrate(ctx, st.DB)
		if err != nil {
			return fmt.Errorf("db migrate: %w", err)
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "nothing to migrate: the database is up to date")
		}
		for _, name := range applied {
			fmt.Fprintln(stdout, "applied", name)
		}
	case "rollback":
		undone, err := migrations.Rollback(ctx, st.DB)
		if err != nil {
			return fmt.Errorf("db rollback: %w", err)
		}
		if len(undone) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		for _, name := range undone {
			fmt.Fprintln(stdout, "rolled back", name)
		}
	case "status":
		ms, err := migrations.Status(ctx, st.DB)
		if err != nil {
			return fmt.Errorf("db status: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tMIGRATION\tGROUP\tAPPLIED AT")
		for _, m := range ms {
			name := migrations.FullName(m)
			if m.IsApplied() {
				fmt.Fprintf(tw, "applied\t%s\t%d\t%s\n", name, m.GroupID, m.MigratedAt.UTC().Format(time.RFC3339))
			} else {
				fmt.Fprintf(tw, "pending\t%s\t\t\n", name)
			}
		}
		return tw.Flush()
	case "seed":
		if err := requireMigrated(ctx, st.DB); err != nil {
			return fmt.Errorf("db seed: %w", err)
		}
		start := time.Now()
		cfg, err := config.Load(getenv) // loaded once already, to open the store
		if err != nil {
			return fmt.Errorf("db seed: %w", err)
		}
		res, err := seed.Run(ctx, st.DB, seed.Options{
			Vehicles: *vehicles, Reset: *reset, Password: password, Media: media.NewFileStore(cfg.MediaDir),
		})
		if err != nil {
			return fmt.Errorf("db seed: %w", err)
		}
		fmt.Fprintf(stdout, "seeded in %s: added %d makes, %d models, %d dealers, %d vehicles, %d users, %d photos\n",
			time.Since(start).Round(time.Millisecond), res.Makes, res.Models, res.Dealers, res.Vehicles, res.Users, res.Photos)
		if res.GeneratedPassword != "" {
			fmt.Fprintln(stdout, demoAccountsLine(res.GeneratedPassword))
		}
	}
	return nil
}

// seedPasswordFrom reads SEED_PASSWORD, the demo accounts' password. It is
// read here rather than in config.Config because it is no server setting:
// only seeding uses it.
func seedPasswordFrom(getenv func(string) string) (string, error) {
	pw := getenv("SEED_PASSWORD")
	if p := models.PasswordProblem(pw); pw != "" && p != "" {
		return "", fmt.Errorf("SEED_PASSWORD %s", p)
	}
	return pw, nil
}

// demoAccountsLine tells where to log in after a seed generated the demo
// accounts' password, which is stored only as a hash.
func demoAccountsLine(password string) string {
	return fmt.Sprintf("demo accounts: %s and %s, password: %s (shown once; set SEED_PASSWORD to choose it)",
		seed.AdminEmail, seed.StaffEmailPattern, password)
}
