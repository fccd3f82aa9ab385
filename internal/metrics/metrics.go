// Package metrics holds Carlot's Prometheus metrics: GraphQL operations by
// name and outcome, their latency and SQL statements, the HTTP status codes
// served, rate-limit refusals, the database pool, and live websocket
// connections and subscriptions.
//
// Everything is registered on a private registry (not Prometheus' global
// one), so tests can build as many servers as they like and nothing outside
// Carlot adds series behind its back. Every method is safe on a nil
// *Registry, which records nothing.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxOperationNames caps the distinct operation-name label values. Clients
// choose operation names, so without a cap a client could create a new
// time series with every request; names beyond the first MaxOperationNames
// are counted as OtherOperation.
const MaxOperationNames = 100

// Label values for operations that have no name of their own.
const (
	// AnonymousOperation labels operations without a name ({ makes { name } }).
	AnonymousOperation = "anonymous"
	// OtherOperation labels names past MaxOperationNames, and malformed ones.
	OtherOperation = "other"
	// UnknownOperation labels requests refused before their document was
	// understood (bad JSON, too large, rate limited, invalid document).
	UnknownOperation = "unknown"
)

// OutcomeOK is the outcome of an operation that returned no error.
const OutcomeOK = "ok"

// maxNameLength bounds an operation name used as a label value.
const maxNameLength = 64

// Registry is the set of Carlot's metrics. Create it with New.
type Registry struct {
	reg *prometheus.Registry

	graphqlRequests *prometheus.CounterVec
	graphqlDuration *prometheus.HistogramVec
	sqlStatements   prometheus.Histogram
	httpResponses   *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	websockets      prometheus.Gauge
	subscriptions   prometheus.Gauge
	events          prometheus.Counter

	mu    sync.Mutex
	names map[string]bool // operation names admitted as label values
}

// New returns a Registry with every Carlot metric and the Go runtime and
// process collectors registered.
func New() *Registry {
	r := &Registry{
		reg:   prometheus.NewRegistry(),
		names: make(map[string]bool),
		graphqlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carlot_graphql_requests_total",
			Help: "GraphQL requests over HTTP by operation name and outcome (ok, or the extensions.code of the first error).",
		}, []string{"operation", "outcome"}),
		graphqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carlot_graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL request over HTTP, from the first byte read to the last written.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		sqlStatements: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "carlot_graphql_request_sql_statements",
			Help:    "SQL statements run to answer one GraphQL request over HTTP.",
			Buckets: []float64{0, 1, 2, 3, 4, 5, 8, 13, 21, 34, 55, 100},
		}),
		httpResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carlot_http_responses_total",
			Help: "HTTP responses by route and status code.",
		}, []string{"route", "code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carlot_rate_limited_total",
			Help: "Requests and websocket operations refused by a limit, by limit (ip, user, websocket, subscriptions).",
		}, []string{"limit"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "carlot_websocket_connections",
			Help: "Open websocket connections.",
		}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "carlot_graphql_subscriptions_active",
			Help: "GraphQL subscriptions currently running.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carlot_graphql_subscription_events_total",
			Help: "Events delivered to subscribers.",
		}),
	}
	r.reg.MustRegister(
		r.graphqlRequests, r.graphqlDuration, r.sqlStatements, r.httpResponses, r.rateLimited,
		r.websockets, r.subscriptions, r.events,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// WatchDB exports the statistics of pool, Carlot's connection pool, as the
// go_sql_* metrics labelled db_name=name (the names of Prometheus'
// database/sql collector): open, in use and idle connections, the pool
// size, how often and how long requests waited for a connection, and the
// connections closed for age or idleness.
func (r *Registry) WatchDB(name string, pool *pgxpool.Pool) {
	if r == nil || pool == nil {
		return
	}
	r.reg.MustRegister(newPoolCollector(pool, name))
}

// WatchSubscriptionExecutions exports executed, the count of subscription
// events executed, as carlot_graphql_subscription_executions_total: events
// delivered beyond it reused an identical rendering.
func (r *Registry) WatchSubscriptionExecutions(executed func() int64) {
	if r == nil {
		return
	}
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "carlot_graphql_subscription_executions_total",
		Help: "Subscription events executed; the other deliveries reused an identical rendering.",
	}, func() float64 { return float64(executed()) }))
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	if r == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer returns the underlying registry, for tests and for adding
// collectors.
func (r *Registry) Gatherer() prometheus.Gatherer {
	if r == nil {
		return prometheus.NewRegistry()
	}
	return r.reg
}

// ObserveGraphQL records one GraphQL request over HTTP. operation is the
// operation's name as the client sent it ("" when anonymous, or
// UnknownOperation); outcome is OutcomeOK or an error code.
func (r *Registry) ObserveGraphQL(operation, outcome string, took time.Duration, statements int64) {
	if r == nil {
		return
	}
	op := r.operationLabel(operation)
	r.graphqlRequests.WithLabelValues(op, outcomeLabel(outcome)).Inc()
	r.graphqlDuration.WithLabelValues(op).Observe(took.Seconds())
	r.sqlStatements.Observe(float64(statements))
}

// ObserveHTTP records one HTTP response. route must come from a fixed set
// (the router's patterns), never from the request.
func (r *Registry) ObserveHTTP(route string, status int) {
	if r == nil {
		return
	}
	r.httpResponses.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// RateLimited records a request refused by the named limit ("ip", "user" or
// "websocket").
func (r *Registry) RateLimited(limit string) {
	if r == nil {
		return
	}
	r.rateLimited.WithLabelValues(limit).Inc()
}

// WebsocketOpened records a websocket connection that was accepted.
func (r *Registry) WebsocketOpened() {
	if r != nil {
		r.websockets.Inc()
	}
}

// WebsocketClosed records the end of a connection WebsocketOpened counted.
func (r *Registry) WebsocketClosed() {
	if r != nil {
		r.websockets.Dec()
	}
}

// SubscriptionStarted records a subscription that began streaming.
func (r *Registry) SubscriptionStarted() {
	if r != nil {
		r.subscriptions.Inc()
	}
}

// SubscriptionEnded records the end of a subscription SubscriptionStarted counted.
func (r *Registry) SubscriptionEnded() {
	if r != nil {
		r.subscriptions.Dec()
	}
}

// EventsDelivered records n events sent to subscribers.
func (r *Registry) EventsDelivered(n int) {
	if r != nil && n > 0 {
		r.events.Add(float64(n))
	}
}

// operationLabel bounds the label values clients can create: a valid
// GraphQL name of at most maxNameLength characters, among the first
// MaxOperationNames seen; anything else is OtherOperation.
func (r *Registry) operationLabel(name string) string {
	switch {
	case name == "":
		return AnonymousOperation
	case name == UnknownOperation:
		return UnknownOperation
	case len(name) > maxNameLength || !isName(name):
		return OtherOperation
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		return name
	}
	if len(r.names) >= MaxOperationNames {
		return OtherOperation
	}
	r.names[name] = true
	return name
}

// outcomeLabel keeps error codes (upper-case words joined by underscores,
// as the server writes them) and folds anything else into OTHER.
func outcomeLabel(outcome string) string {
	if outcome == OutcomeOK {
		return outcome
	}
	if outcome == "" || len(outcome) > 40 {
		return "OTHER"
	}
	for _, c := range outcome {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "OTHER"
		}
	}
	return outcome
}

// isName reports whether s is a GraphQL name: /[_A-Za-z][_0-9A-Za-z]*/.
func isName(s string) bool {
	for i, c := range s {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// RateLimitedCounter returns the refusals counter of one limit, for tests.
func (r *Registry) RateLimitedCounter(limit string) prometheus.Counter {
	return r.rateLimited.WithLabelValues(limit)
}

// WebsocketGauge returns the open websocket connections gauge, for tests.
func (r *Registry) WebsocketGauge() prometheus.Gauge { return r.websockets }

// SubscriptionGauge returns the active subscriptions gauge, for tests.
func (r *Registry) SubscriptionGauge() prometheus.Gauge { return r.subscriptions }
