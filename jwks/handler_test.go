package jwks

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// The -update flag rewrites testdata/*.golden:
//
//	go test ./jwks -run TestGoldenJWKS -update
//
// It is registered only if no other test file of this binary registered it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata/*.golden files")
	}
}

// updateGolden reports whether -update was given.
func updateGolden() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	b, _ := g.Get().(bool)
	return b
}

// allTestKeys returns every acceptable test key, parsed.
func allTestKeys(t testing.TB) []*Key {
	var out []*Key
	for _, n := range testkeys.Names() {
		if n == testkeys.RSA1024 {
			continue
		}
		out = append(out, testKey(t, n))
	}
	return out
}

func serve(t *testing.T, h http.Handler, method string, hdr http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, "/.well-known/jwks.json", nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateMember matches any private or symmetric JWK member name.
var privateMember = regexp.MustCompile(`"(d|p|q|dp|dq|qi|oth|k)"\s*:`)

// TestHandlerNoPrivateMembers serves every test key over a real loopback
// server and scans the raw bytes for private members; then it checks each
// key's members against the exact allow-list of its type.
func TestHandlerNoPrivateMembers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(NewSet(allTestKeys(t)...), HandlerConfig{}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/.well-known/jwks.json", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw := readBody(t, resp)
	if m := privateMember.Find(raw); m != nil {
		t.Fatalf("response carries the private member %s", m)
	}
	var doc struct{ Keys []map[string]json.RawMessage }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"RSA": {"alg", "e", "kid", "kty", "n", "use"},
		"EC":  {"alg", "crv", "kid", "kty", "use", "x", "y"},
		"OKP": {"alg", "crv", "kid", "kty", "use", "x"},
	}
	for _, k := range doc.Keys {
		var kty string
		json.Unmarshal(k["kty"], &kty)
		var names []string
		for n := range k {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, allowed[kty]) {
			t.Errorf("published %s key has members %q, want exactly %q", kty, names, allowed[kty])
		}
		if string(k["use"]) != `"sig"` {
			t.Errorf("published key has use %s, want \"sig\"", k["use"])
		}
	}
	// The set parses as public keys with go-jose.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("go-jose cannot parse the set: %v", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			t.Errorf("go-jose reads key %s as private or invalid", k.KeyID)
		}
	}
}

// TestPublicJWKEncoding checks base64url without padding, EC coordinates
// left-padded to the full size (P-256 key whose X has a leading zero byte),
// and a minimal RSA modulus.
func TestPublicJWKEncoding(t *testing.T) {
	t.Parallel()
	type jwk struct{ N, E, X, Y, Crv string }
	get := func(name string) jwk {
		var j jwk
		if err := json.Unmarshal(testKey(t, name).PublicJWKJSON(), &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	unpadded := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	short := get(testkeys.P256ShortX)
	pk := testKey(t, testkeys.P256ShortX).Public().(interface{ Bytes() ([]byte, error) })
	raw, _ := pk.Bytes()
	if raw[1] != 0 {
		t.Fatalf("testkeys.P256ShortX has no leading zero byte in X; the test proves nothing")
	}
	x, err := b64.DecodeString(short.X)
	if len(short.X) != 43 || len(short.Y) != 43 || err != nil || len(x) != 32 || x[0] != 0 {
		t.Errorf("P-256 x = %q (%d chars), y %d chars; want 43 chars each, x decoding to 32 bytes starting with the zero byte", short.X, len(short.X), len(short.Y))
	}
	for name, want := range map[string]int{testkeys.P384: 64, testkeys.P521: 88} {
		if j := get(name); len(j.X) != want || len(j.Y) != want {
			t.Errorf("%s: x/y have %d/%d chars, want %d", name, len(j.X), len(j.Y), want)
		}
	}
	rsa := get(testkeys.RSA2048A)
	if len(rsa.N) != 342 || rsa.E != "AQAB" {
		t.Errorf("RSA 2048 n has %d chars (want 342, no leading zero byte), e = %q (want AQAB)", len(rsa.N), rsa.E)
	}
	for _, j := range []jwk{short, rsa, get(testkeys.Ed25519A), get(testkeys.P521)} {
		for _, v := range []string{j.N, j.E, j.X, j.Y} {
			if v != "" && !unpadded.MatchString(v) {
				t.Errorf("member value %q is not unpadded base64url", v)
			}
		}
	}
}

func TestHandlerHeadersAndMethods(t *testing.T) {
	t.Parallel()
	set := NewSet(testKey(t, testkeys.RSA2048A), testKey(t, testkeys.P256A))
	h := NewHandler(set, HandlerConfig{})
	resp := serve(t, h, http.MethodGet, nil)
	body := readBody(t, resp)
	for k, want := range map[string]string{
		"Content-Type":   "application/jwk-set+json",
		"Cache-Control":  "public, max-age=300",
		"ETag":           set.entityTag(),
		"Content-Length": strconv.Itoa(len(set.JSON())),
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET %s = %q, want %q", k, got, want)
		}
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, set.JSON()) {
		t.Errorf("GET = %d, body equal %v; want 200 and the set's JSON", resp.StatusCode, bytes.Equal(body, set.JSON()))
	}
	if et := set.entityTag(); !strings.HasPrefix(et, `"`) || strings.HasPrefix(et, "W/") {
		t.Errorf("ETag %s is not a strong quoted tag", et)
	}

	head := serve(t, h, http.MethodHead, nil)
	if b := readBody(t, head); head.StatusCode != http.StatusOK || len(b) != 0 || head.Header.Get("ETag") != set.entityTag() {
		t.Errorf("HEAD = %d with %d body bytes, want 200, no body, the ETag", head.StatusCode, len(b))
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "BREW"} {
		resp := serve(t, h, m, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s = %d, Allow %q; want 405, \"GET, HEAD\"", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
		if b := readBody(t, resp); bytes.Contains(b, []byte(`"keys"`)) {
			t.Errorf("%s response carries the set", m)
		}
	}
	for age, want := range map[time.Duration]string{
		time.Hour:                     "public, max-age=3600",
		90*time.Second + 999e6:        "public, max-age=90",
		-time.Second:                  "public, max-age=0",
		time.Nanosecond:               "public, max-age=0",
		defaultMaxAge + 0*time.Second: "public, max-age=300",
	} {
		if got := serve(t, NewHandler(set, HandlerConfig{MaxAge: age}), http.MethodGet, nil).Header.Get("Cache-Control"); got != want {
			t.Errorf("MaxAge %s: Cache-Control = %q, want %q", age, got, want)
		}
	}
}

func TestHandlerConditional(t *testing.T) {
	t.Parallel()
	set := NewSet(testKey(t, testkeys.P256A))
	et := set.entityTag()
	opaque := strings.Trim(et, `"`)
	h := NewHandler(set, HandlerConfig{})
	tests := []struct {
		name string
		inm  []string
		want int
	}{
		{"no header", nil, 200},
		{"exact", []string{et}, 304},
		{"weak form matches (weak comparison)", []string{"W/" + et}, 304},
		{"in a list", []string{`"abc", ` + et + `, "def"`}, 304},
		{"list without spaces", []string{`"abc",W/` + et}, 304},
		{"second field line", []string{`"abc"`, et}, 304},
		{"star", []string{"*"}, 304},
		{"other tag", []string{`"abc"`}, 200},
		{"unquoted", []string{opaque}, 200},
		{"prefix only", []string{`"` + opaque[:10] + `"`}, 200},
		{"tag with a comma inside", []string{`"a,` + opaque + `"`}, 200},
		{"lowercase weak prefix", []string{"w/" + et}, 200},
		{"malformed then match is ignored", []string{`abc, ` + et}, 200},
		{"empty", []string{""}, 200},
	}
	for _, tc := range tests {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp := serve(t, h, m, http.Header{"If-None-Match": tc.inm})
			body := readBody(t, resp)
			if resp.StatusCode != tc.want {
				t.Errorf("%s If-None-Match %q = %d, want %d", m, tc.inm, resp.StatusCode, tc.want)
			}
			if resp.StatusCode == 304 {
				if len(body) != 0 || resp.Header.Get("ETag") != et || resp.Header.Get("Cache-Control") == "" {
					t.Errorf("%s 304 for %q: body %d bytes, ETag %q, Cache-Control %q", m, tc.inm, len(body), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
				}
			}
		}
	}
}

// TestHandlerRotation serves a ring: a rotation shows without a new handler,
// the ETag changes with the set, and every requester gets the same bytes.
func TestHandlerRotation(t *testing.T) {
	t.Parallel()
	a, b := testKey(t, testkeys.RSA2048A), testKey(t, testkeys.RSA2048B)
	clk := clock.NewManual(t0)
	r, err := NewRing(RingConfig{Now: clk.Now}, Entry{Key: a, Activate: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{})
	first := serve(t, h, http.MethodGet, nil)
	body1 := readBody(t, first)
	et1 := first.Header.Get("ETag")
	for range 3 {
		again := serve(t, h, http.MethodGet, nil)
		if b := readBody(t, again); !bytes.Equal(b, body1) || again.Header.Get("ETag") != et1 {
			t.Fatalf("a second requester got different bytes or ETag")
		}
	}
	if err := r.Rotate(b); err != nil {
		t.Fatal(err)
	}
	resp := serve(t, h, http.MethodGet, http.Header{"If-None-Match": {et1}})
	body2 := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == et1 {
		t.Fatalf("after Rotate: status %d, ETag %q; want 200 and a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	var doc struct{ Keys []struct{ Kid string } }
	json.Unmarshal(body2, &doc)
	if len(doc.Keys) != 2 || doc.Keys[0].Kid != a.KeyID() || doc.Keys[1].Kid != b.KeyID() {
		t.Errorf("after Rotate: published %+v, want a then b", doc.Keys)
	}
	clk.Advance(defaultLead)
	json.Unmarshal(readBody(t, serve(t, h, http.MethodGet, nil)), &doc)
	if doc.Keys[0].Kid != b.KeyID() {
		t.Errorf("after activation: first key %s, want the new signing key", doc.Keys[0].Kid)
	}
}

func TestHandlerNilSource(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]*Handler{
		"nil source": NewHandler(nil, HandlerConfig{}),
		"nil set":    NewHandler((*Set)(nil), HandlerConfig{}),
	} {
		resp := serve(t, h, http.MethodGet, nil)
		if b := readBody(t, resp); resp.StatusCode != 200 || string(b) != `{"keys":[]}` {
			t.Errorf("%s: %d %s, want 200 {\"keys\":[]}", name, resp.StatusCode, b)
		}
	}
}

// TestGoldenJWKS compares the published set of fixed test keys with
// testdata/jwks.golden. Refresh with: go test ./jwks -run TestGoldenJWKS -update
func TestGoldenJWKS(t *testing.T) {
	t.Parallel()
	set := NewSet(testKey(t, testkeys.RSA2048A), testKey(t, testkeys.P256ShortX), testKey(t, testkeys.P384),
		testKey(t, testkeys.P521), testKey(t, testkeys.Ed25519A))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, readBody(t, serve(t, NewHandler(set, HandlerConfig{}), http.MethodGet, nil)), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteString("\n" + set.entityTag() + "\n")
	path := filepath.Join("testdata", "jwks.golden")
	if updateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("published set differs from %s (run with -update if intended):\n%s", path, pretty.Bytes())
	}
}

func BenchmarkHandler(b *testing.B) {
	r, err := NewRing(RingConfig{}, Entry{Key: testKey(b, testkeys.RSA2048A), Activate: time.Now().Add(-time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	r.Rotate(testKey(b, testkeys.P256A))
	h := NewHandler(r, HandlerConfig{})
	req := httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
