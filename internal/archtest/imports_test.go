package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/carlot/carlot/"

// carlotPackage is what `go list -json` says of one package: its path and
// every package it depends on, directly or through others. Test files are
// not counted: a test may reach up to drive the layer it tests.
type carlotPackage struct {
	ImportPath string
	Deps       []string
}

// carlotPackages lists every package of the module.
func carlotPackages(t *testing.T) map[string]carlotPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := make(map[string]carlotPackage)
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p carlotPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// carlotDeps returns the module's packages that p depends on, relative to
// the module path.
func carlotDeps(p carlotPackage) []string {
	var deps []string
	for _, d := range p.Deps {
		if rel, ok := strings.CutPrefix(d, module); ok {
			deps = append(deps, rel)
		}
	}
	return deps
}

// under reports whether path is the package prefix or one below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// The import graph has no arrow from a lower layer up: the domain knows no
// other Carlot package, the event stream knows nothing of GraphQL or HTTP,
// graph knows nothing of HTTP or of the program, the HTTP layer is handed
// GraphQL and the websocket transport rather than importing them, the
// websocket transport knows neither the schema nor the routes, and only the
// program (and the harnesses that build what it builds) depends on the
// composition root.
func TestImportsPointDown(t *testing.T) {
	t.Parallel()
	pkgs := carlotPackages(t)
	for _, rule := range []struct {
		name      string
		from      string
		forbidden []string // packages (and those below them) from may not depend on; nil: any Carlot package
	}{
		{"models imports no other Carlot package", "models", nil},
		{"internal/live imports neither graph nor loaders nor internal/httpapi", "internal/live", []string{"graph", "loaders", "internal/httpapi"}},
		{"graph imports neither internal/httpapi nor cmd", "graph", []string{"internal/httpapi", "internal/wsapi", "internal/app", "cmd"}},
		{"internal/httpapi imports neither graph nor internal/live, loaders or migrations", "internal/httpapi",
			[]string{"graph", "internal/live", "loaders", "migrations", "internal/wsapi", "internal/app"}},
		{"internal/wsapi imports neither graph nor internal/httpapi", "internal/wsapi", []string{"graph", "internal/httpapi", "internal/app", "loaders", "migrations"}},
	} {
		t.Run(rule.name, func(t *testing.T) {
			p, ok := pkgs[rule.from]
			if !ok {
				t.Fatalf("no package %s in the module: has it moved? Update the rule", rule.from)
			}
			for _, dep := range carlotDeps(p) {
				if rule.forbidden == nil || slices.ContainsFunc(rule.forbidden, func(f string) bool { return under(dep, f) }) {
					t.Errorf("%s depends on %s", rule.from, dep)
				}
			}
		})
	}
	t.Run("only cmd, bench and the test harness import internal/app", func(t *testing.T) {
		for path, p := range pkgs {
			if under(path, "cmd") || under(path, "bench") || under(path, "internal/apitest") {
				continue
			}
			for _, dep := range carlotDeps(p) {
				if under(dep, "internal/app") {
					t.Errorf("%s depends on %s", path, dep)
				}
			}
		}
	})
	t.Run("nothing imports cmd", func(t *testing.T) {
		for path, p := range pkgs {
			for _, dep := range carlotDeps(p) {
				if under(dep, "cmd") {
					t.Errorf("%s depends on %s", path, dep)
				}
			}
		}
	})
}
