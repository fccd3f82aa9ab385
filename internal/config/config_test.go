package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaultsNeedNothing(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Development || c.Port != 8080 || !c.Embedded() || !c.AutoMigrate || c.DataDir != ".data" ||
		c.LogFormat != "text" || c.MaxBodyBytes != 1<<20 || c.RequestTimeout != 10*time.Second ||
		len(c.CORSAllowedOrigins) != 1 || c.CORSAllowedOrigins[0] != "*" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestMediaDefaultsAndBounds(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"CARLOT_DATA_DIR": "/var/lib/carlot"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MediaDir != "/var/lib/carlot/media" || c.MaxUploadBytes != 10<<20 || c.MaxImageSide != 12_000 ||
		c.MaxImagePixels != 50_000_000 {
		t.Fatalf("media defaults: %q %d %d %d", c.MediaDir, c.MaxUploadBytes, c.MaxImageSide, c.MaxImagePixels)
	}
	c, err = Load(env(map[string]string{"MEDIA_DIR": "/srv/photos", "MAX_UPLOAD_BYTES": "2097152",
		"MAX_IMAGE_SIDE": "8000", "MAX_IMAGE_PIXELS": "24000000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MediaDir != "/srv/photos" || c.MaxUploadBytes != 2<<20 || c.MaxImageSide != 8000 || c.MaxImagePixels != 24_000_000 {
		t.Fatalf("media settings: %q %d %d %d", c.MediaDir, c.MaxUploadBytes, c.MaxImageSide, c.MaxImagePixels)
	}
	_, err = Load(env(map[string]string{"MAX_UPLOAD_BYTES": "10MiB", "MAX_IMAGE_SIDE": "70000", "MAX_IMAGE_PIXELS": "0"}))
	for _, name := range []string{"MAX_UPLOAD_BYTES", "MAX_IMAGE_SIDE", "MAX_IMAGE_PIXELS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestTrustedDocuments(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 32), "DATABASE_URL": "postgres://db/carlot"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		only bool
	}{
		{"production with a manifest refuses the rest", with(prod, "TRUSTED_DOCUMENTS", "ops.json"), true},
		{"production may turn refusal off", with(prod, "TRUSTED_DOCUMENTS", "ops.json", "TRUSTED_DOCUMENTS_ONLY", "false"), false},
		{"production without a manifest", prod, false},
		{"development pre-registers only", with(nil, "TRUSTED_DOCUMENTS", "ops.json"), false},
		{"development may refuse too", with(nil, "TRUSTED_DOCUMENTS", "ops.json", "TRUSTED_DOCUMENTS_ONLY", "true"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil || c.TrustedDocumentsOnly != tc.only {
				t.Errorf("%s: only %v, err %v", tc.name, c != nil && c.TrustedDocumentsOnly, err)
			}
		})
	}
	if _, err := Load(env(map[string]string{"TRUSTED_DOCUMENTS_ONLY": "true"})); err == nil || !strings.Contains(err.Error(), "TRUSTED_DOCUMENTS") {
		t.Errorf("only without a manifest: %v", err)
	}
}

func TestTracing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      map[string]string
		endpoint string
	}{
		{"off without an endpoint", nil, ""},
		{"the generic endpoint gets the traces path", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, "http://collector:4318/v1/traces"},
		{"the traces endpoint is used as it is", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/otlp/traces"}, "https://b/otlp/traces"},
		{"the SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"}, ""},
		{"no exporter", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil || c.Tracing.Endpoint != tc.endpoint || c.Tracing.ServiceName != "carlot" || c.Tracing.Sampler != "parentbased_always_on" {
				t.Errorf("%s: %+v %v", tc.name, c, err)
			}
		})
	}
	c, err := Load(env(map[string]string{"OTEL_SERVICE_NAME": "carlot-eu", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}))
	if err != nil || c.Tracing.ServiceName != "carlot-eu" || c.Tracing.SamplerArg != 0.25 {
		t.Fatalf("%+v %v", c, err)
	}
	for name, bad := range map[string]map[string]string{
		"OTEL_EXPORTER_OTLP_PROTOCOL": {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"OTEL_TRACES_SAMPLER":         {"OTEL_TRACES_SAMPLER": "sometimes"},
		"OTEL_TRACES_SAMPLER_ARG":     {"OTEL_TRACES_SAMPLER_ARG": "2"},
		"OTEL_TRACES_EXPORTER":        {"OTEL_TRACES_EXPORTER": "zipkin"},
		"OTEL_EXPORTER_OTLP_ENDPOINT": {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%v: %v", bad, err)
			}
		})
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "127.0.0.1"},
		{map[string]string{"HOST": "0.0.0.0"}, "0.0.0.0"},
		{map[string]string{"HOST": "::"}, "::"},
		{map[string]string{"HOST": "carlot.internal"}, "carlot.internal"},
		{map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 32), "DATABASE_URL": "postgres://db/carlot"}, ""},
	} {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil || c.Host != tc.want {
				t.Errorf("%v: host %q, err %v; want %q", tc.env, c.Host, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"0.0.0.0:8080", "http://x", "a..b", "-x"} {
		if _, err := Load(env(map[string]string{"HOST": bad})); err == nil || !strings.Contains(err.Error(), "HOST") {
			t.Errorf("HOST=%q: err = %v", bad, err)
		}
	}
}

func TestCORSAllowedHeaders(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Authorization", "Content-Type", "X-Request-ID", "apollographql-client-name", "apollographql-client-version",
		"traceparent", "tracestate", "baggage", "sentry-trace"}
	if strings.Join(c.CORSAllowedHeaders, ",") != strings.Join(want, ",") {
		t.Fatalf("default headers %q", c.CORSAllowedHeaders)
	}
	c, err = Load(env(map[string]string{"CORS_ALLOWED_HEADERS": " Authorization ,X-Custom-Header"}))
	if err != nil || strings.Join(c.CORSAllowedHeaders, ",") != "Authorization,X-Custom-Header" {
		t.Fatalf("%q %v", c.CORSAllowedHeaders, err)
	}
	for _, bad := range []string{"*", "Authorization, X Bad", "Content-Type;"} {
		if _, err := Load(env(map[string]string{"CORS_ALLOWED_HEADERS": bad})); err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_HEADERS") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestExternalDatabaseDoesNotMigrateByItself(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://db/carlot"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AutoMigrate {
		t.Fatal("AUTO_MIGRATE must default to false with DATABASE_URL")
	}
}

func TestProduction(t *testing.T) {
	t.Parallel()
	t.Run("requires a long JWT secret and a database", func(t *testing.T) {
		_, err := Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": "short"}))
		if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("production defaults", func(t *testing.T) {
		c, err := Load(env(map[string]string{
			"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 32), "DATABASE_URL": "postgres://db/carlot",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.LogFormat != "json" || len(c.CORSAllowedOrigins) != 0 || c.AutoMigrate {
			t.Fatalf("unexpected production defaults: %+v", c)
		}
	})
}

func TestEveryBadVariableIsReported(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"APP_ENV": "staging", "PORT": "http", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml",
		"AUTO_MIGRATE": "maybe", "REQUEST_TIMEOUT": "-1s", "MAX_BODY_BYTES": "12",
		"DB_MAX_CONNS": "1",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"APP_ENV", "PORT", "LOG_LEVEL", "LOG_FORMAT", "AUTO_MIGRATE", "REQUEST_TIMEOUT", "MAX_BODY_BYTES", "DB_MAX_CONNS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"JWT_SECRET": "s3cr3t-value", "DATABASE_URL": "postgres://u:hunter2@db/carlot"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.LogValue().String(); strings.Contains(s, "s3cr3t") || strings.Contains(s, "hunter2") {
		t.Fatalf("secret in log value: %s", s)
	}
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Vars {
		if !strings.Contains(string(example), "\n"+name+"=") {
			t.Errorf(".env.example does not list %s", name)
		}
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
	}
}

func TestVarsIsWhatLoadReads(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	if _, err := Load(func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	for _, name := range Vars {
		if !read[name] {
			t.Errorf("Vars lists %s but Load never reads it", name)
		}
		delete(read, name)
	}
	for name := range read {
		t.Errorf("Load reads %s but Vars does not list it", name)
	}
}
