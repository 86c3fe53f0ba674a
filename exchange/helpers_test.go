package exchange

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// causes are the precise causes behind the public sentinels (errors.go).
var causes = []error{
	errRedirect, errUnsupportedTokenType, errNoIDToken, errMalformedCallback,
	errIssuerMissing, errTransactionExpired, errPKCEUnsupported, errInvalidOption,
}

// otherCause returns a precise cause that err matches although want is not
// it, or nil: a table row that wants a public sentinel (ErrStateMismatch,
// say) must not pass because of another cause folded into it
// (errMalformedCallback).
func otherCause(err, want error) error {
	for _, c := range causes {
		if errors.Is(err, c) && !errors.Is(want, c) {
			return c
		}
	}
	return nil
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithCancel(t.Context())
}

// testKey returns a signing key made from a pre-generated test key.
func testKey(t testing.TB, name string) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(context.Background(), testkeys.Signer(name), jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fakeOP is a bare token endpoint: it records every request and answers
// with the response its handler function gives. It checks nothing; the
// integration tests against providertest check assertions for real.
type fakeOP struct {
	srv *httptest.Server
	// guards reqs and respond
	mu      sync.Mutex
	reqs    []recorded
	respond func(form url.Values) (status int, body string)
}

type recorded struct {
	form   url.Values
	header http.Header
	claims map[string]any // the client assertion's payload, unverified
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	op := &fakeOP{respond: func(url.Values) (int, string) {
		return 200, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`
	}}
	op.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec := recorded{form: form, header: r.Header.Clone(), claims: payload(form.Get("client_assertion"))}
		op.mu.Lock()
		op.reqs = append(op.reqs, rec)
		respond := op.respond
		op.mu.Unlock()
		status, out := respond(form)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) setRespond(f func(url.Values) (int, string)) {
	op.mu.Lock()
	op.respond = f
	op.mu.Unlock()
}

func (op *fakeOP) requests() []recorded {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]recorded(nil), op.reqs...)
}

func (op *fakeOP) metadata() metadata {
	return metadata{issuer: op.srv.URL, authURL: op.srv.URL + "/authorize", tokenURL: op.srv.URL + "/token"}
}

// payload decodes a JWT's payload without verifying anything.
func payload(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// fakeClient returns a Client on op with a manual clock.
func fakeClient(t *testing.T, op *fakeOP, cfg Config) (*Client, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Now().Truncate(time.Second))
	if cfg.ClientID == "" {
		cfg.ClientID = "s6BhdRkqt3"
	}
	if cfg.Key == nil && cfg.Assertions == nil {
		cfg.Key = testKey(t, testkeys.P256A)
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	c, err := newClient(op.metadata(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}
