// Package config reads Carlot's configuration from the environment, applies
// the defaults, and checks everything once at start-up so a bad setting stops
// the process with a clear message instead of surfacing later.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// MinJWTSecretBytes is the shortest HS256 key accepted in production.
const MinJWTSecretBytes = 32

// DefaultCORSAllowedHeaders are the request headers of the clients Carlot
// expects in browsers: authentication and JSON, request ids, Apollo
// Client's client awareness, W3C trace context and baggage (OpenTelemetry),
// and Sentry's tracing.
const DefaultCORSAllowedHeaders = "Authorization, Content-Type, X-Request-ID, " +
	"apollographql-client-name, apollographql-client-version, " +
	"traceparent, tracestate, baggage, sentry-trace"

// Config is everything Carlot reads from the environment.
type Config struct {
	Env  string
	Port int
	// Host is the address the server listens on: 127.0.0.1 in development
	// (nothing else on the network reaches a development server), every
	// interface ("") in production.
	Host               string
	DatabaseURL        string // empty: run the embedded PostgreSQL
	JWTSecret          string
	CORSAllowedOrigins []string
	// CORSAllowedHeaders are the request headers browsers may send from
	// the allowed origins (Access-Control-Allow-Headers).
	CORSAllowedHeaders []string
	LogLevel           slog.Level
	LogFormat          string // "text" or "json"
	AutoMigrate        bool
	DataDir            string
	PGBinDir           string // where to find initdb/postgres for the embedded cluster; empty: search

	DBMaxConns       int
	StatementTimeout time.Duration
	RequestTimeout   time.Duration
	ShutdownTimeout  time.Duration
	MaxBodyBytes     int64
	MaxComplexity    int
	QueryCacheSize   int

	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// PasswordHashMemoryBudget bounds the memory, in bytes, that concurrent
	// login password checks hold together.
	PasswordHashMemoryBudget int64

	WSInitTimeout      time.Duration
	WSPingInterval     time.Duration
	WSMaxMessageBytes  int
	SubscriptionBuffer int
	EventsPollInterval time.Duration

	// Request limits (see README "Operations").
	MaxTokens         int
	MaxDepth          int
	MaxAliases        int
	MaxDirectives     int
	MaxFields         int
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	RateLimitPerIP    int // requests a minute; 0: no limit
	RateLimitPerUser  int // requests a minute; 0: no limit
	MaxWSConnsPerIP   int // 0: no cap
	// WSMaxSubscriptions caps the operations one websocket runs at once:
	// in graphql-transport-ws terms its active subscribers, queries and
	// mutations still running included. 0: no cap.
	WSMaxSubscriptions int
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix

	// Media (vehicle photos; see README "Operations").
	MediaDir       string // where photo files are stored and served from
	MaxUploadBytes int64  // largest image file accepted
	MaxImageSide   int    // widest and tallest image accepted, in pixels
	MaxImagePixels int    // most pixels (width × height) in an image accepted

	// TrustedDocuments is the path of a persisted-query manifest (Apollo's
	// or Relay's); empty: none.
	TrustedDocuments string
	// TrustedDocumentsOnly refuses every document the manifest does not
	// hold (production's default when a manifest is given).
	TrustedDocumentsOnly bool

	// Tracing is OpenTelemetry's configuration, from the standard OTEL_*
	// variables; tracing is off when Tracing.Endpoint is empty.
	Tracing Tracing
}

// Tracing is where and how spans are exported (OTLP over HTTP).
type Tracing struct {
	// Endpoint is the full OTLP/HTTP traces URL (…/v1/traces); empty: off.
	Endpoint    string
	ServiceName string
	// Sampler is an OTEL_TRACES_SAMPLER value; SamplerArg its ratio.
	Sampler    string
	SamplerArg float64
}

// Samplers are the OTEL_TRACES_SAMPLER values Carlot understands.
var Samplers = []string{"always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

// Production reports whether Carlot runs with production defaults.
func (c *Config) Production() bool { return c.Env == Production }

// Embedded reports whether Carlot runs its own PostgreSQL cluster.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// Vars lists every environment variable Carlot reads, with its default, for
// .env.example and the README.
var Vars = []string{
	"APP_ENV", "HOST", "PORT", "DATABASE_URL", "JWT_SECRET", "CORS_ALLOWED_ORIGINS", "CORS_ALLOWED_HEADERS", "LOG_LEVEL", "LOG_FORMAT",
	"AUTO_MIGRATE", "CARLOT_DATA_DIR", "CARLOT_PG_BIN_DIR", "DB_MAX_CONNS", "DB_STATEMENT_TIMEOUT",
	"REQUEST_TIMEOUT", "SHUTDOWN_TIMEOUT", "MAX_BODY_BYTES", "MAX_COMPLEXITY", "QUERY_CACHE_SIZE",
	"ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL", "PASSWORD_HASH_MEMORY_BUDGET",
	"WS_INIT_TIMEOUT", "WS_PING_INTERVAL", "WS_MAX_MESSAGE_BYTES", "SUBSCRIPTION_BUFFER", "EVENTS_POLL_INTERVAL",
	"MAX_TOKENS", "MAX_DEPTH", "MAX_ALIASES", "MAX_DIRECTIVES", "MAX_FIELDS", "MAX_HEADER_BYTES", "READ_HEADER_TIMEOUT",
	"RATE_LIMIT_PER_IP", "RATE_LIMIT_PER_USER", "MAX_WS_CONNS_PER_IP", "WS_MAX_SUBSCRIPTIONS_PER_SOCKET", "TRUSTED_PROXIES",
	"MEDIA_DIR", "MAX_UPLOAD_BYTES", "MAX_IMAGE_SIDE", "MAX_IMAGE_PIXELS",
	"TRUSTED_DOCUMENTS", "TRUSTED_DOCUMENTS_ONLY",
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
}

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests) and reports every invalid variable at once.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		Env:         r.str("APP_ENV", Development),
		DatabaseURL: strings.TrimSpace(getenv("DATABASE_URL")),
		JWTSecret:   getenv("JWT_SECRET"),
		DataDir:     r.str("CARLOT_DATA_DIR", ".data"),
		PGBinDir:    getenv("CARLOT_PG_BIN_DIR"),
	}
	if c.Env != Development && c.Env != Production {
		r.fail("APP_ENV", "must be %q or %q", Development, Production)
	}
	prod := c.Production()

	c.Port = r.integer("PORT", 8080, 0, 65535)
	c.Host = r.str("HOST", pick(prod, "", "127.0.0.1"))
	if !validHost(c.Host) {
		r.fail("HOST", "must be an IP address or a host name, such as 127.0.0.1 or 0.0.0.0")
	}
	c.LogFormat = r.str("LOG_FORMAT", pick(prod, "json", "text"))
	if c.LogFormat != "text" && c.LogFormat != "json" {
		r.fail("LOG_FORMAT", "must be text or json")
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.str("LOG_LEVEL", "info"))); err != nil {
		r.fail("LOG_LEVEL", "must be debug, info, warn or error")
	}
	c.AutoMigrate = r.boolean("AUTO_MIGRATE", c.Embedded())
	c.CORSAllowedOrigins = splitList(r.str("CORS_ALLOWED_ORIGINS", pick(prod, "", "*")))
	c.CORSAllowedHeaders = r.headerNames("CORS_ALLOWED_HEADERS", DefaultCORSAllowedHeaders)

	// At least 2: a migration holds one connection for its lock and runs on another.
	c.DBMaxConns = r.integer("DB_MAX_CONNS", 20, 2, 1000)
	c.RequestTimeout = r.duration("REQUEST_TIMEOUT", 10*time.Second)
	c.StatementTimeout = r.duration("DB_STATEMENT_TIMEOUT", c.RequestTimeout)
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", 15*time.Second)
	c.MaxBodyBytes = int64(r.integer("MAX_BODY_BYTES", 1<<20, 1024, 1<<30))
	c.MaxComplexity = r.integer("MAX_COMPLEXITY", 1000, 1, 1_000_000)
	c.QueryCacheSize = r.integer("QUERY_CACHE_SIZE", 1000, 1, 1_000_000)
	c.AccessTokenTTL = r.duration("ACCESS_TOKEN_TTL", 15*time.Minute)
	c.RefreshTokenTTL = r.duration("REFRESH_TOKEN_TTL", 30*24*time.Hour)
	// Six argon2id hashes of 19 MiB (models.PasswordHashMemory) at once: more
	// than two cores compute in parallel, and the process stays small. At least one.
	c.PasswordHashMemoryBudget = int64(r.integer("PASSWORD_HASH_MEMORY_BUDGET", 128<<20, 19<<20, 1<<40))
	c.WSInitTimeout = r.duration("WS_INIT_TIMEOUT", 10*time.Second)
	c.WSPingInterval = r.duration("WS_PING_INTERVAL", 15*time.Second)
	c.WSMaxMessageBytes = r.integer("WS_MAX_MESSAGE_BYTES", 64<<10, 1024, 16<<20)
	c.SubscriptionBuffer = r.integer("SUBSCRIPTION_BUFFER", 256, 1, 1_000_000)
	c.EventsPollInterval = r.duration("EVENTS_POLL_INTERVAL", time.Second)

	c.MaxTokens = r.integer("MAX_TOKENS", 15_000, 100, 1_000_000)
	c.MaxDepth = r.integer("MAX_DEPTH", 12, 1, 1000)
	c.MaxAliases = r.integer("MAX_ALIASES", 30, 0, 100_000)
	c.MaxDirectives = r.integer("MAX_DIRECTIVES", 10, 0, 1000)
	c.MaxFields = r.integer("MAX_FIELDS", 500, 1, 1_000_000)
	c.MaxHeaderBytes = r.integer("MAX_HEADER_BYTES", 64<<10, 4<<10, 16<<20)
	c.ReadHeaderTimeout = r.duration("READ_HEADER_TIMEOUT", 5*time.Second)
	c.RateLimitPerIP = r.integer("RATE_LIMIT_PER_IP", 600, 0, 10_000_000)
	c.RateLimitPerUser = r.integer("RATE_LIMIT_PER_USER", 1200, 0, 10_000_000)
	c.MaxWSConnsPerIP = r.integer("MAX_WS_CONNS_PER_IP", 50, 0, 1_000_000)
	c.WSMaxSubscriptions = r.integer("WS_MAX_SUBSCRIPTIONS_PER_SOCKET", 100, 0, 1_000_000)
	c.TrustedProxies = r.prefixes("TRUSTED_PROXIES")
	c.TrustedDocuments = strings.TrimSpace(getenv("TRUSTED_DOCUMENTS"))
	c.TrustedDocumentsOnly = r.boolean("TRUSTED_DOCUMENTS_ONLY", prod && c.TrustedDocuments != "")
	if c.TrustedDocumentsOnly && c.TrustedDocuments == "" {
		r.fail("TRUSTED_DOCUMENTS_ONLY", "needs TRUSTED_DOCUMENTS, the manifest of the documents to allow")
	}

	c.Tracing = r.tracing()

	c.MediaDir = r.str("MEDIA_DIR", filepath.Join(c.DataDir, "media"))
	c.MaxUploadBytes = int64(r.integer("MAX_UPLOAD_BYTES", 10<<20, 1024, 1<<30))
	// No JPEG is wider than 65,535 px (nor WebP than 16,383).
	c.MaxImageSide = r.integer("MAX_IMAGE_SIDE", 12_000, 16, 65_535)
	c.MaxImagePixels = r.integer("MAX_IMAGE_PIXELS", 50_000_000, 256, 1_000_000_000)

	if prod && len(c.JWTSecret) < MinJWTSecretBytes {
		r.fail("JWT_SECRET", "is required in production and must be at least %d bytes", MinJWTSecretBytes)
	}
	if prod && c.Embedded() {
		r.fail("DATABASE_URL", "is required in production (the embedded PostgreSQL is for development)")
	}
	if len(r.problems) > 0 {
		return nil, errors.New("invalid configuration: " + strings.Join(r.problems, "; "))
	}
	return c, nil
}

// LogValue shows the configuration in logs with secrets masked.
func (c *Config) LogValue() slog.Value {
	db := "embedded"
	if !c.Embedded() {
		db = "external"
	}
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("database", db),
		slog.Bool("jwt_secret_set", c.JWTSecret != ""),
		slog.String("cors_allowed_origins", strings.Join(c.CORSAllowedOrigins, ",")),
		slog.String("cors_allowed_headers", strings.Join(c.CORSAllowedHeaders, ", ")),
		slog.Bool("auto_migrate", c.AutoMigrate),
		slog.String("data_dir", c.DataDir),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Int64("password_hash_memory_budget", c.PasswordHashMemoryBudget),
		slog.Int("max_complexity", c.MaxComplexity),
		slog.Int("max_depth", c.MaxDepth),
		slog.Int("max_aliases", c.MaxAliases),
		slog.Int("max_tokens", c.MaxTokens),
		slog.Int("rate_limit_per_ip", c.RateLimitPerIP),
		slog.Int("rate_limit_per_user", c.RateLimitPerUser),
		slog.Int("max_ws_conns_per_ip", c.MaxWSConnsPerIP),
		slog.Int("ws_max_subscriptions_per_socket", c.WSMaxSubscriptions),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.String("media_dir", c.MediaDir),
		slog.Int64("max_upload_bytes", c.MaxUploadBytes),
		slog.String("trusted_documents", c.TrustedDocuments),
		slog.Bool("trusted_documents_only", c.TrustedDocumentsOnly),
		slog.Bool("tracing", c.Tracing.Endpoint != ""),
	)
}

type reader struct {
	getenv   func(string) string
	problems []string
}

func (r *reader) fail(name, format string, args ...any) {
	r.problems = append(r.problems, name+" "+fmt.Sprintf(format, args...))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "must be a whole number from %d to %d", lo, hi)
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false")
		return def
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, "must be a positive duration such as 10s or 500ms")
		return def
	}
	return d
}

// prefixes reads a comma list of CIDR networks or single addresses.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range splitList(r.getenv(name)) {
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				r.fail(name, "must be a comma list of CIDR networks or addresses (bad: %q)", part)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// headerNames reads a comma list of HTTP header names. "*" is refused: it
// would never cover Authorization, the header Carlot's clients need most.
func (r *reader) headerNames(name, def string) []string {
	var out []string
	for _, h := range splitList(r.str(name, def)) {
		if !validHeaderName(h) {
			r.fail(name, "must be a comma list of header names (bad: %q)", h)
			continue
		}
		out = append(out, h)
	}
	return out
}

// tracing reads OpenTelemetry's standard variables. Spans go over OTLP/HTTP
// (protobuf) to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or to
// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; with neither, or with
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, tracing is off.
func (r *reader) tracing() Tracing {
	t := Tracing{ServiceName: r.str("OTEL_SERVICE_NAME", "carlot")}
	if generic := r.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""); generic != "" {
		t.Endpoint = strings.TrimRight(generic, "/") + "/v1/traces"
	}
	t.Endpoint = r.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", t.Endpoint)
	if t.Endpoint != "" {
		if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.fail("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http:// or https:// URL (traces endpoint %q)", t.Endpoint)
		}
	}
	protocol := r.str("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", r.str("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"))
	if protocol != "http/protobuf" {
		r.fail("OTEL_EXPORTER_OTLP_PROTOCOL", "must be http/protobuf (OTLP over HTTP is the protocol Carlot exports)")
	}
	switch exporter := r.str("OTEL_TRACES_EXPORTER", "otlp"); exporter {
	case "otlp":
	case "none":
		t.Endpoint = ""
	default:
		r.fail("OTEL_TRACES_EXPORTER", "must be otlp or none")
	}
	if r.boolean("OTEL_SDK_DISABLED", false) {
		t.Endpoint = ""
	}
	t.Sampler = r.str("OTEL_TRACES_SAMPLER", "parentbased_always_on")
	if !slices.Contains(Samplers, t.Sampler) {
		r.fail("OTEL_TRACES_SAMPLER", "must be one of %s", strings.Join(Samplers, ", "))
	}
	t.SamplerArg = 1
	if v := r.str("OTEL_TRACES_SAMPLER_ARG", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			r.fail("OTEL_TRACES_SAMPLER_ARG", "must be a ratio from 0 to 1")
		}
		t.SamplerArg = f
	}
	return t
}

// validHost reports whether h is empty (every interface), an IP address or
// a host name.
func validHost(h string) bool {
	if h == "" {
		return true
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validHeaderName reports whether h is an HTTP token (RFC 9110 section 5.6.2).
func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("!#$%&'+-.^_`|~", c)
		if !ok {
			return false
		}
	}
	return true
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
