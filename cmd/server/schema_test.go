package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// canonical loads SDL as a schema and prints it back in gqlparser's fixed
// order, so two schemas of the same meaning compare equal.
func canonical(t *testing.T, name, sdl string) string {
	t.Helper()
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: sdl})
	if err != nil {
		t.Fatalf("%s does not load: %v", name, err)
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b).FormatSchema(schema)
	return b.String()
}

func TestSchemaPrintIsTheServedSchema(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"server", "schema", "print"}, envOf(nil), nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	printed := canonical(t, "server schema print", out.String())
	if want := canonical(t, "schema.graphqls", string(source)); printed != want {
		t.Fatalf("the printed schema differs from schema.graphqls (run go generate ./...?)\nprinted:\n%s", out.String())
	}
	for _, want := range []string{"type Query {", "type Subscription {", "vehicleEvents(", "scalar Time", "interface Node {"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed schema lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "__Schema") || strings.Contains(out.String(), "scalar String") {
		t.Error("the printed schema repeats built-in types")
	}
}

func TestSchemaCommandUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	for _, args := range [][]string{{"server", "schema"}, {"server", "schema", "dump"}, {"server", "schema", "print", "extra"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := run(t.Context(), args, envOf(nil), nil, &out, &out); err == nil || !strings.Contains(err.Error(), "schema print") {
				t.Errorf("%q: err = %v", args, err)
			}
		})
	}
}

// schemaCheckDir holds the breaking-change check CI runs (install it with
// `npm ci --prefix tests/schema`).
const schemaCheckDir = "../../tests/schema"

// TestBreakingSchemaChangesFailCI runs the check .ci/run runs, in a scratch
// repository: an added field passes, a removed one fails, and passes again
// once a commit message says the break is intended. Without Node.js, git or
// the npm modules it skips locally and fails in CI (CI=true).
func TestBreakingSchemaChangesFailCI(t *testing.T) {
	t.Parallel()
	_, nodeErr := exec.LookPath("node")
	_, gitErr := exec.LookPath("git")
	modules, _ := filepath.Abs(filepath.Join(schemaCheckDir, "node_modules"))
	_, modErr := os.Stat(filepath.Join(modules, "@graphql-inspector", "core"))
	if nodeErr != nil || gitErr != nil || modErr != nil {
		msg := "the schema check needs git, Node.js and `npm ci --prefix tests/schema`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	schema, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"breaking.sh", "check.mjs"} {
		b, err := os.ReadFile(filepath.Join(schemaCheckDir, f))
		if err != nil {
			t.Fatal(err)
		}
		write("tests/schema/"+f, string(b))
	}
	if err := os.Symlink(modules, filepath.Join(repo, "tests/schema/node_modules")); err != nil {
		t.Fatal(err)
	}
	check := func() (string, error) {
		cmd := exec.Command("bash", "tests/schema/breaking.sh")
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must("git", "init", "-q", "-b", "main")
	write("schema.graphqls", string(schema))
	must("git", "add", "schema.graphqls")
	must("git", "commit", "-qm", "the schema")

	write("schema.graphqls", strings.Replace(string(schema), "type Query {", "type Query {\n  motd: String", 1))
	must("git", "commit", "-qam", "add a field")
	if out, err := check(); err != nil {
		t.Fatalf("an added field fails the check: %v\n%s", err, out)
	}

	write("schema.graphqls", strings.Replace(string(schema), "vehicleByVin(", "vehicleByVIN(", 1))
	must("git", "commit", "-qam", "rename a field")
	out, err := check()
	if err == nil || !strings.Contains(out, "'vehicleByVin' was removed") {
		t.Fatalf("a removed field passes the check: %v\n%s", err, out)
	}

	must("git", "commit", "-q", "--amend", "-m", "rename a field\n\nBreaking-Schema-Change: intended")
	if out, err := check(); err != nil {
		t.Fatalf("an intended break fails the check: %v\n%s", err, out)
	}
}
