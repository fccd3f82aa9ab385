package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/carlot/carlot/internal/app"
	"github.com/carlot/carlot/internal/config"
	"github.com/carlot/carlot/internal/httpapi"
	"github.com/carlot/carlot/internal/logging"
	"github.com/carlot/carlot/internal/media"
	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/tracing"
	"github.com/carlot/carlot/internal/trusted"
	"github.com/carlot/carlot/migrations"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"
)

// defaultSeedVehicles is how many demo vehicles a fresh embedded database gets.
const defaultSeedVehicles = 1000

// serve runs the HTTP server until ctx is cancelled (SIGINT/SIGTERM), then
// drains in-flight requests and stops the embedded database cleanly.
func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	seedPassword, err := seedPasswordFrom(getenv)
	if err != nil {
		return err
	}
	log := logging.New(stdout, cfg.LogLevel, cfg.LogFormat)
	log.Info("starting Carlot", "config", cfg)

	// The manifest is read before anything starts: a bad one stops the server.
	var docs *trusted.Documents
	if cfg.TrustedDocuments != "" {
		if docs, err = trusted.Load(cfg.TrustedDocuments, cfg.TrustedDocumentsOnly); err != nil {
			return err
		}
		log.Info("trusted documents loaded", "documents", docs.Len(), "only", cfg.TrustedDocumentsOnly)
	}

	// The handler signs and checks tokens with cfg.JWTSecret, so it must be
	// set before the handler is built. Production requires JWT_SECRET.
	if cfg.JWTSecret == "" && !cfg.Production() {
		secret, created, err := devJWTSecret(cfg.DataDir)
		if err != nil {
			return err
		}
		cfg.JWTSecret = secret
		log.Info("JWT_SECRET is unset: using the development key", "file", filepath.Join(cfg.DataDir, devSecretFile), "created", created)
	}

	// Tracing is set up only with an OTLP endpoint; otherwise nothing on the
	// request path knows about it.
	tp, err := tracing.New(ctx, cfg.Tracing)
	if err != nil {
		return err
	}
	var statements pgx.QueryTracer
	if tp != nil {
		statements = tracing.StatementTracer(tp)
	}
	st, err := openStore(ctx, cfg, log, statements)
	if err != nil {
		return err
	}
	defer st.Close()

	var tracer trace.TracerProvider
	if tp != nil {
		tracer = tp
		tracing.InstrumentDB(st.DB, tp)
		defer func() {
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(flushCtx); err != nil {
				log.Warn("tracing: spans left unexported at exit", "err", err)
			}
		}()
		log.Info("tracing", "endpoint", cfg.Tracing.Endpoint, "service", cfg.Tracing.ServiceName, "sampler", cfg.Tracing.Sampler)
	}

	if err := prepareDatabase(ctx, cfg, st, log, seedPassword); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on %s port %d: %w", cmp.Or(cfg.Host, "every interface,"), cfg.Port, err)
	}
	// Tokens, the event broker, the resolver, the websocket transport, the
	// GraphQL server and the routes, each handed to the next (internal/app).
	application, err := app.New(app.Deps{Config: cfg, DB: st.DB, Log: log, Trusted: docs, Tracer: tracer})
	if err != nil {
		return err
	}
	application.Start()
	defer application.Close()
	// Header, body and idle timeouts and the header size limit: see httpapi.NewServer.
	srv := httpapi.NewServer(cfg, application.Handler, log)
	port := ln.Addr().(*net.TCPAddr).Port
	attrs := []any{"addr", ln.Addr().String()}
	if !cfg.Production() {
		attrs = append(attrs, "graphiql", "http://"+net.JoinHostPort(probeHost(cfg), strconv.Itoa(port))+"/")
	}
	log.Info("listening", attrs...)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	// Websockets first: Shutdown does not wait for hijacked connections, so
	// they get their 1001 close frame here.
	application.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s", cfg.ShutdownTimeout)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// prepareDatabase waits for the database, migrates it when configured to,
// and gives a fresh embedded database its demo data, the demo accounts
// getting seedPassword (empty: a random one, logged once).
func prepareDatabase(ctx context.Context, cfg *config.Config, st *store, log *slog.Logger, seedPassword string) error {
	if err := waitForDatabase(ctx, st.DB, 30*time.Second); err != nil {
		if cfg.AutoMigrate {
			return err
		}
		// Serve anyway: /readyz reports the outage and requests recover when the database returns.
		log.Error("database unreachable at start; serving and retrying per request", "err", err)
		return nil
	}
	if cfg.AutoMigrate {
		applied, err := migrations.Migrate(ctx, st.DB)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if len(applied) > 0 {
			log.Info("migrated", "applied", applied)
		}
	}
	if !st.Embedded {
		return nil
	}
	empty, err := catalogEmpty(ctx, st.DB)
	if err != nil {
		return fmt.Errorf("check demo data: %w", err)
	}
	if !empty {
		return nil
	}
	res, err := seed.Run(ctx, st.DB, seed.Options{
		Vehicles: defaultSeedVehicles, Password: seedPassword, Log: log, Media: media.NewFileStore(cfg.MediaDir),
	})
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	if res.GeneratedPassword != "" {
		log.Info(demoAccountsLine(res.GeneratedPassword))
	}
	return nil
}

func catalogEmpty(ctx context.Context, db bun.IDB) (bool, error) {
	exists, err := db.NewSelect().Model((*models.Make)(nil)).Exists(ctx)
	return !exists, err
}
