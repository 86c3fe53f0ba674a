// Package importpolicy holds only a test: the import direction of
// ARCHITECTURE.md as data, checked against the module's real import graph. It
// lives here rather than at the root because the root holds only go.mod,
// go.sum, README.md and the package folders.
package importpolicy_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/pkjwt/pkjwt"

// allowed is the import policy of ARCHITECTURE.md and CONVENTIONS.md §1 as
// data: for each package (or prefix ending in "/..."), the non-standard
// imports its non-test files may have. Widen it only with a note in the
// commit that explains why.
var allowed = map[string][]string{
	"jwks":                  {"github.com/go-jose/go-jose/v4", "internal/..."},
	"assertion":             {"jwks", "github.com/go-jose/go-jose/v4", "github.com/google/uuid", "internal/..."},
	"provider":              {"jwks", "github.com/coreos/go-oidc/v3", "golang.org/x/oauth2", "github.com/go-jose/go-jose/v4", "internal/..."},
	"exchange":              {"assertion", "provider", "jwks", "golang.org/x/oauth2", "github.com/go-jose/go-jose/v4", "internal/..."},
	"provider/providertest": {"jwks", "github.com/go-jose/go-jose/v4", "internal/..."},
	"internal/...":          {"internal/...", "github.com/go-jose/go-jose/v4"},
	"examples/...":          {"assertion", "exchange", "provider", "provider/providertest", "jwks", "internal/...", "golang.org/x/oauth2", "github.com/go-jose/go-jose/v4", "github.com/coreos/go-oidc/v3", "github.com/google/uuid"},
}

// externalModules are the only modules the library may depend on.
var externalModules = []string{
	"github.com/go-jose/go-jose/v4",
	"github.com/coreos/go-oidc/v3",
	"golang.org/x/oauth2",
	"github.com/google/uuid",
}

// goList runs go list at the module root.
func goList(args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	return cmd.Output()
}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func rel(p string) (string, bool) {
	if p == module {
		return ".", true
	}
	if strings.HasPrefix(p, module+"/") {
		return strings.TrimPrefix(p, module+"/"), true
	}
	return "", false
}

func match(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == prefix || strings.HasPrefix(p, prefix+"/")
	}
	return p == pattern
}

func externalModule(p string) string {
	for _, m := range externalModules {
		if p == m || strings.HasPrefix(p, m+"/") {
			return m
		}
	}
	return ""
}

// TestImportDirection fails when a non-test import edge appears that the
// policy table does not allow, so that arrows never point back up.
func TestImportDirection(t *testing.T) {
	out, err := goList("-json", "./...")
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	std := map[string]bool{}
	stdOut, err := goList("std")
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	for _, p := range strings.Fields(string(stdOut)) {
		std[p] = true
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		from, _ := rel(p.ImportPath)
		var rules []string
		found := false
		for pattern, r := range allowed {
			if match(pattern, from) {
				rules, found = append(rules, r...), true
			}
		}
		if !found {
			t.Errorf("package %s is not in the import policy table of internal/importpolicy", from)
			continue
		}
		n++
		for _, imp := range p.Imports {
			if std[imp] || strings.HasPrefix(imp, "vendor/") {
				continue
			}
			target, internal := rel(imp)
			if !internal {
				target = externalModule(imp)
				if target == "" {
					t.Errorf("%s imports %s, a module outside the four allowed dependencies", from, imp)
					continue
				}
			}
			ok := false
			for _, r := range rules {
				if match(r, target) {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s imports %s: not allowed by ARCHITECTURE.md (see the table in internal/importpolicy)", from, target)
			}
		}
	}
	if n == 0 {
		t.Fatal("go list found no packages")
	}
}
