package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// qualified reports whether an image reference names its registry, as
// podman and buildah require without a short-name policy.
func qualified(image string) bool {
	first, _, found := strings.Cut(image, "/")
	return found && (strings.ContainsAny(first, ".:") || first == "localhost")
}

// TestDockerignore reads .dockerignore the way Docker does and checks that
// the build context leaves out local data, history, modules and build
// outputs, and keeps every file the build needs.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(path string) bool {
		ok, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, path := range []string{
		".data/jwt-secret", ".data/postgres/PG_VERSION", ".git/HEAD", ".git/objects/pack/x.pack",
		"node_modules/graphql/index.js", "tests/conformance/node_modules/graphql-http/index.js",
		"server", "bin/server", "cmd/server/server.test", "bench/results/cpu.pprof", "bench/results/run.json",
	} {
		if !excluded(path) {
			t.Errorf("the build context includes %s", path)
		}
	}
	// Everything tracked that the build compiles or embeds must be sent.
	out, err := exec.Command("git", "-C", "../..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	needed := regexp.MustCompile(`^(go\.mod|go\.sum|schema\.graphqls|gqlgen\.yml|(cmd|graph|internal|loaders|migrations|models)/.*)$`)
	for _, path := range strings.Fields(string(out)) {
		if needed.MatchString(path) && excluded(path) {
			t.Errorf("the build context leaves out %s, which the build needs", path)
		}
	}
}

func TestDockerfileNamesImagesInFull(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?mi)^FROM\s+(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(froms) < 2 {
		t.Fatalf("found %d FROM lines", len(froms))
	}
	for _, m := range froms {
		if !qualified(m[1]) {
			t.Errorf("FROM %s is a short name", m[1])
		}
	}
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*"/server", "healthcheck"`).Match(b) {
		t.Error("the image has no HEALTHCHECK running server healthcheck")
	}
	if !regexp.MustCompile(`(?m)^ENV .*\bHOST=0\.0\.0\.0\b`).Match(b) {
		t.Error("the image does not set HOST=0.0.0.0")
	}
	if regexp.MustCompile(`(?m)^#\s*syntax=`).Match(b) {
		t.Error("a syntax directive makes every build fetch a frontend image")
	}
}

// TestComposeFile checks that compose builds the Carlot image once and
// shares it, names every image in full, restarts the long-running
// services, and health-checks the server through /readyz.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string `yaml:"image"`
			Build       any    `yaml:"build"`
			PullPolicy  string `yaml:"pull_policy"`
			Restart     string `yaml:"restart"`
			Command     []string
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	builds, carlotImage := 0, ""
	for name, s := range compose.Services {
		if !qualified(s.Image) {
			t.Errorf("%s: image %q is missing or a short name", name, s.Image)
		}
		if s.Build != nil {
			builds++
			carlotImage = s.Image
		}
	}
	if builds != 1 {
		t.Fatalf("%d services build an image; one should, the others share it", builds)
	}
	for _, name := range []string{"migrate", "seed", "server"} {
		s := compose.Services[name]
		if s.Image != carlotImage {
			t.Errorf("%s runs %q, not the built %q", name, s.Image, carlotImage)
		}
		if s.Build == nil && s.PullPolicy != "never" {
			t.Errorf("%s would try to pull the locally built image (pull_policy %q)", name, s.PullPolicy)
		}
	}
	for _, name := range []string{"postgres", "server"} {
		if r := compose.Services[name].Restart; r != "unless-stopped" && r != "always" {
			t.Errorf("%s: restart %q", name, r)
		}
	}
	if host := compose.Services["server"].Environment["HOST"]; host != "0.0.0.0" {
		t.Errorf("the server listens on HOST %q: a development server's default, 127.0.0.1, is unreachable from outside its container", host)
	}
	if test := strings.Join(compose.Services["server"].Healthcheck.Test, " "); test != "CMD /server healthcheck" {
		t.Errorf("server healthcheck %q", test)
	}
}
