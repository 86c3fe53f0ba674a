package providertest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/provider/providertest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// indentBody GETs u and indents the JSON, with the server's URL replaced by
// a fixed one.
func indentBody(t *testing.T, s *providertest.Server, u string) []byte {
	t.Helper()
	resp, err := s.HTTPClient().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return []byte(strings.ReplaceAll(out.String(), s.URL(), "https://op.example"))
}

func TestGoldenDocuments(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{IssuerPath: "/tenant", TLS: true})
	golden(t, "discovery.golden", indentBody(t, s, s.DiscoveryURL()))
	// The JWKS's member layout belongs to package jwks; check what this
	// package decides: which keys, and no private members.
	doc := indentBody(t, s, s.JWKSURL())
	for _, m := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
		if bytes.Contains(doc, []byte(m)) {
			t.Errorf("the JWKS carries the private member %s", m)
		}
	}
	var set struct {
		Keys []struct{ Kid, Use, Alg string }
	}
	json.Unmarshal(doc, &set)
	if len(set.Keys) != 1 || set.Keys[0].Kid != s.SigningKeyID() || set.Keys[0].Use != "sig" || set.Keys[0].Alg != "RS256" {
		t.Errorf("JWKS keys %+v, want the signing key alone", set.Keys)
	}
}
