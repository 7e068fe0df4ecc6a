package airgap_test

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/airgapkit/airgap"

// protocols are the packages that must not import one another (DESIGN.md: dependencies
// point one way, protocol packages -> store).
var protocols = []string{"apt", "simplestreams", "oci", "pypi", "galaxy", "snapproxy", "maasclient", "rpm", "helm", "tlsutil"}

// allowed lists the exceptions the design names.
var allowed = map[[2]string]bool{{"maasclient", "tlsutil"}: true}

// topLevel names the part of the module a package belongs to: "store", "internal",
// "examples", "bench" or a protocol ("pypi" for pypi/pep440 too).
func topLevel(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return rel
}

func isProtocol(top string) bool {
	for _, p := range protocols {
		if p == top {
			return true
		}
	}
	return false
}

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, from := fields[0], topLevel(fields[0])
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") || imp == pkg {
				continue
			}
			to := topLevel(imp)
			switch {
			case to == "examples" || to == "bench":
				t.Errorf("%s imports %s: nothing imports examples/ or bench/", pkg, imp)
			case isProtocol(from) && to == "site":
				t.Errorf("%s imports %s: site is the porcelain over the protocol packages, not under them", pkg, imp)
			case from == "store" && to != "store" && to != "internal":
				t.Errorf("%s imports %s: store imports no protocol package", pkg, imp)
			case isProtocol(from) && isProtocol(to) && from != to && !allowed[[2]string{from, to}] &&
				// A test may serve its files with another protocol's exported upstream;
				// TestNoFakesInBinaries keeps fakes out of the packages themselves.
				(isFake(pkg) || !isFake(imp)):
				t.Errorf("%s imports %s: protocol packages do not import each other", pkg, imp)
			case from == "internal" && isProtocol(to) && !strings.HasPrefix(topLevelInternal(pkg), to):
				t.Errorf("%s imports %s: an internal test upstream serves its own protocol only", pkg, imp)
			}
		}
	}
}

// topLevelInternal returns the directory under internal/ ("apttest" for internal/apttest).
func topLevelInternal(pkg string) string {
	rel := strings.TrimPrefix(pkg, module+"/internal/")
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return rel
}

// isFake reports whether pkg is a test upstream: each protocol exports its own as
// <protocol>/<name>test (apt/apttest), as go-containerregistry exports pkg/registry, so
// that users can test against them; internal/ holds the helpers only our tests use.
func isFake(pkg string) bool {
	if !strings.HasPrefix(pkg, module+"/") || strings.HasPrefix(pkg, module+"/internal/testutil") {
		return false
	}
	return strings.HasSuffix(pkg[strings.LastIndexByte(pkg, '/')+1:], "test")
}

// TestNoFakesInBinaries keeps the test upstreams out of what users run and import: the
// CLI without the demo tag, the site package and every protocol package itself.
func TestNoFakesInBinaries(t *testing.T) {
	pkgs := []string{"./examples/airgap", "./site"}
	for _, p := range protocols {
		if _, err := os.Stat(p); err == nil {
			pkgs = append(pkgs, "./"+p)
		}
	}
	for _, pkg := range pkgs {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if isFake(dep) {
				t.Errorf("%s links the test upstream %s (build the demo with -tags demo)", pkg, dep)
			}
		}
	}
}

// TestHelmOnlyInRender keeps Helm (and its tree: client-go, the kube API types) inside
// helm/render: no other package or test imports helm.sh, so only what renders charts
// links it.
func TestHelmOnlyInRender(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "demo", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}|{{join .Deps " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		imports, deps, _ := strings.Cut(line, "|")
		fields := strings.Fields(imports)
		pkg := fields[0]
		if pkg == module+"/helm/render" {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "helm.sh/") {
				t.Errorf("%s imports %s: only helm/render may use Helm", pkg, imp)
			}
		}
		if d := strings.Fields(deps); slices.ContainsFunc(d, func(s string) bool { return strings.HasPrefix(s, "helm.sh/") }) &&
			!slices.Contains(d, module+"/helm/render") {
			t.Errorf("%s links Helm without helm/render", pkg)
		}
	}
}

// TestExamplesImportNoInternal: package Examples are read on pkg.go.dev, where an
// internal/ import cannot be copied.
func TestExamplesImportNoInternal(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .XTestGoFiles " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		dir := "." + strings.TrimPrefix(fields[0], module)
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "example") {
				continue
			}
			n++
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				if p := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(p, module+"/internal/") {
					t.Errorf("%s/%s imports %s", dir, f, p)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no example files found")
	}
}
