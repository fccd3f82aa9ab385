// Package tracing sets up OpenTelemetry traces for Carlot: an OTLP/HTTP
// exporter configured by the standard OTEL_* variables, and the spans
// Carlot adds of its own, one per GraphQL operation and per subscription
// delivery (the HTTP request's span comes from otelhttp, each SQL
// statement's from bunotel). With no endpoint configured nothing is set up
// and nothing costs anything.
package tracing

import (
	"context"
	"fmt"

	"github.com/carlot/carlot/internal/config"
	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names Carlot's own tracer.
const instrumentation = "github.com/carlot/carlot"

// Provider exports the spans of one process.
type Provider struct {
	*sdktrace.TracerProvider
}

// New starts exporting spans as cfg says, or returns nil when tracing is
// off (no endpoint). Shut the provider down at exit to flush what is left.
func New(ctx context.Context, cfg config.Tracing) (*Provider, error) {
	if cfg.Endpoint == "" {
		return nil, nil
	}
	// The exporter also reads the other standard variables itself
	// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE, …);
	// the endpoint given here wins over its own reading of the environment.
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(), // OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler(cfg.Sampler, cfg.SamplerArg)),
	)
	return &Provider{tp}, nil
}

// sampler builds the sampler an OTEL_TRACES_SAMPLER value names (config
// has checked it).
func sampler(name string, ratio float64) sdktrace.Sampler {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio)
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// Propagator reads and writes W3C trace context and baggage, the headers
// browsers and other services send (traceparent, tracestate, baggage).
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracer is Carlot's own tracer from tp.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	return tp.Tracer(instrumentation)
}

// InstrumentDB gives every SQL statement on db a span (bunotel): the
// statement with placeholders where its arguments were, never their values.
func InstrumentDB(db *bun.DB, tp trace.TracerProvider) {
	db.AddQueryHook(bunotel.NewQueryHook(
		bunotel.WithDBName("carlot"),
		bunotel.WithTracerProvider(tp),
		bunotel.WithFormattedQueries(false),
	))
}

// StatementTracer gives the planner's statements a span each (otelpgx): the
// statement text with its $n placeholders, never the arguments' values.
// Hand it to database.Options.Tracer; bun's statements get theirs from
// InstrumentDB.
func StatementTracer(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithTrimSQLInSpanName())
}
