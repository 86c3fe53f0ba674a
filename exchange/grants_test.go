package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// checkAuth checks that a request authenticated the client with exactly one
// method: a client assertion in the body, no secret, no Authorization header.
func checkAuth(t *testing.T, r recorded, clientID string) {
	t.Helper()
	if h := r.header.Get("Authorization"); h != "" {
		t.Errorf("Authorization header = %q, want none", h)
	}
	for _, k := range []string{"client_secret"} {
		if r.form.Has(k) {
			t.Errorf("form has %s", k)
		}
	}
	for _, k := range []string{"client_id", "client_assertion_type", "client_assertion"} {
		if n := len(r.form[k]); n != 1 {
			t.Errorf("form has %d %s, want 1", n, k)
		}
	}
	if got := r.form.Get("client_id"); got != clientID {
		t.Errorf("client_id = %q, want %q", got, clientID)
	}
	if got := r.form.Get("client_assertion_type"); got != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Errorf("client_assertion_type = %q", got)
	}
	if r.claims == nil || r.claims["jti"] == nil || r.claims["iss"] != clientID || r.claims["sub"] != clientID {
		t.Errorf("client assertion claims = %v", r.claims)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, clk := fakeClient(t, op, Config{})
	tok, err := c.ClientCredentials(t.Context(), WithScopes("read", "write"), WithResource("https://api.example/"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || tok.TokenType != "Bearer" || !tok.Expiry.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("token = %q %q %v", tok.AccessToken, tok.TokenType, tok.Expiry)
	}
	reqs := op.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	checkAuth(t, r, "s6BhdRkqt3")
	if r.form.Get("grant_type") != "client_credentials" || r.form.Get("scope") != "read write" || r.form.Get("resource") != "https://api.example/" {
		t.Errorf("form = %v", r.form)
	}
	// RFC 10070 default: aud is the issuer.
	if r.claims["aud"] != op.srv.URL {
		t.Errorf("aud = %v, want the issuer %q", r.claims["aud"], op.srv.URL)
	}
}

func TestLegacyProfileAudience(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	m, err := assertion.NewMinter(testKey(t, testkeys.P256A), assertion.Config{
		ClientID: "s6BhdRkqt3", Audience: op.srv.URL + "/token", Profile: assertion.ProfileLegacy,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := fakeClient(t, op, Config{Assertions: m})
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := op.requests()[0].claims["aud"]; got != op.srv.URL+"/token" {
		t.Errorf("aud = %v, want the token endpoint", got)
	}
}

// TestExternalAssertions: Config.Assertions replaces the minter and is asked
// once per request.
func TestExternalAssertions(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	m, err := assertion.NewMinter(testKey(t, testkeys.RSA2048A), assertion.Config{ClientID: "workload", Audience: op.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := 0
	src := assertion.SourceFunc(func(ctx context.Context) (string, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return m.Assertion(ctx)
	})
	c, _ := fakeClient(t, op, Config{ClientID: "workload", Assertions: src})
	for range 3 {
		if _, err := c.ClientCredentials(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Errorf("source called %d times for 3 requests", calls)
	}
	checkAuth(t, op.requests()[2], "workload")
}

func TestAssertionSourceErrorStopsRequest(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	boom := errors.New("metadata service down")
	c, _ := fakeClient(t, op, Config{Assertions: assertion.SourceFunc(func(context.Context) (string, error) { return "", boom })})
	_, err := c.ClientCredentials(t.Context())
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want %v", err, boom)
	}
	if n := len(op.requests()); n != 0 {
		t.Errorf("%d requests sent without an assertion", n)
	}
}

func TestClientCredentialsRefusesNonBearer(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(url.Values) (int, string) { return 200, `{"access_token":"a","token_type":"DPoP"}` })
	c, _ := fakeClient(t, op, Config{})
	if _, err := c.ClientCredentials(t.Context()); !errors.Is(err, errUnsupportedTokenType) {
		t.Errorf("error = %v, want %v", err, errUnsupportedTokenType)
	}
}

func TestOptionsReserved(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{})
	for _, opt := range []Option{
		WithParam("client_secret", "x"), WithParam("client_assertion", "x"), WithParam("Grant_Type", "password"),
		WithParam("", "x"), WithScopes("a b"), WithScopes(""), WithResource("relative/path"), WithResource("https://a/#frag"),
	} {
		if _, err := c.ClientCredentials(t.Context(), opt); !errors.Is(err, errInvalidOption) {
			t.Errorf("ClientCredentials(%v) error = %v, want %v", opt, err, errInvalidOption)
		}
	}
	if n := len(op.requests()); n != 0 {
		t.Errorf("%d requests sent with invalid options", n)
	}
}

// TestErrorNeverCarriesSecrets: a server that echoes the request into its
// error description does not get the assertion, the grant JWT or the
// subject token into the error.
func TestErrorNeverCarriesSecrets(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(f url.Values) (int, string) {
		var echo []string
		for k, v := range f {
			echo = append(echo, k+"="+strings.Join(v, ","))
		}
		return 400, fmt.Sprintf(`{"error":"invalid_grant","error_description":%q}`, strings.Join(echo, " "))
	})
	c, _ := fakeClient(t, op, Config{})
	grant := "opaque-grant-value-that-is-not-a-jwt"
	subject := "opaque-subject-token-value"
	_, err1 := c.JWTBearer(t.Context(), grant)
	_, err2 := c.TokenExchange(t.Context(), TokenExchangeRequest{SubjectToken: subject, SubjectTokenType: TokenTypeAccessToken})
	for i, err := range []error{err1, err2} {
		if !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("error %d = %v, want %v", i, err, ErrInvalidGrant)
		}
		for _, r := range op.requests() {
			for _, secret := range []string{r.form.Get("client_assertion"), grant, subject} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %d %q carries a secret", i, err.Error())
				}
			}
		}
	}
}

func TestJWTBearer(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{})
	grant := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2ln"
	if _, err := c.JWTBearer(t.Context(), grant, WithScopes("payments")); err != nil {
		t.Fatal(err)
	}
	r := op.requests()[0]
	checkAuth(t, r, "s6BhdRkqt3")
	if r.form.Get("grant_type") != grantTypeJWTBearer || r.form.Get("assertion") != grant || r.form.Get("scope") != "payments" {
		t.Errorf("form = %v", r.form)
	}
	if _, err := c.JWTBearer(t.Context(), " "); !errors.Is(err, errInvalidOption) {
		t.Errorf("JWTBearer(empty) error = %v, want %v", err, errInvalidOption)
	}
}

func TestJWTBearerTokenSource(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(url.Values) (int, string) {
		return 200, `{"access_token":"a","token_type":"Bearer","expires_in":60}`
	})
	c, clk := fakeClient(t, op, Config{})
	tm, err := assertion.NewTokenMinter(testKey(t, testkeys.P256B), assertion.TokenConfig{Issuer: "app", Audience: []string{op.srv.URL}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := c.JWTBearerTokenSource(assertion.SourceFunc(func(ctx context.Context) (string, error) {
		return tm.Mint(ctx, map[string]any{"email": "a@example.com"})
	}))
	for range 2 {
		if _, err := ts.TokenContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	reqs := op.requests()
	if len(reqs) != 2 || reqs[0].form.Get("assertion") == reqs[1].form.Get("assertion") {
		t.Errorf("%d requests; grant JWTs must differ per fetch", len(reqs))
	}
}

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(url.Values) (int, string) {
		return 200, `{"access_token":"x","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:jwt"}`
	})
	c, _ := fakeClient(t, op, Config{})
	tok, err := c.TokenExchange(t.Context(), TokenExchangeRequest{
		SubjectToken: "subj", SubjectTokenType: TokenTypeAccessToken,
		RequestedTokenType: TokenTypeJWT, Audience: []string{"svc-a", "svc-b"},
		Resource: []string{"https://api.example/"}, Scopes: []string{"read"},
		ActorToken: "act", ActorTokenType: TokenTypeJWT,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "N_A" || tok.Extra("issued_token_type") != TokenTypeJWT {
		t.Errorf("token = %q %v", tok.TokenType, tok.Extra("issued_token_type"))
	}
	r := op.requests()[0]
	checkAuth(t, r, "s6BhdRkqt3")
	want := url.Values{
		"grant_type": {grantTypeTokenExchange}, "subject_token": {"subj"}, "subject_token_type": {TokenTypeAccessToken},
		"requested_token_type": {TokenTypeJWT}, "audience": {"svc-a", "svc-b"}, "resource": {"https://api.example/"},
		"scope": {"read"}, "actor_token": {"act"}, "actor_token_type": {TokenTypeJWT},
	}
	for k, v := range want {
		if strings.Join(r.form[k], "|") != strings.Join(v, "|") {
			t.Errorf("form[%s] = %v, want %v", k, r.form[k], v)
		}
	}
}

func TestTokenExchangeChecks(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{})
	for name, req := range map[string]TokenExchangeRequest{
		"no subject":       {SubjectTokenType: TokenTypeJWT},
		"no subject type":  {SubjectToken: "s"},
		"actor no type":    {SubjectToken: "s", SubjectTokenType: TokenTypeJWT, ActorToken: "a"},
		"type no actor":    {SubjectToken: "s", SubjectTokenType: TokenTypeJWT, ActorTokenType: TokenTypeJWT},
		"bad resource":     {SubjectToken: "s", SubjectTokenType: TokenTypeJWT, Resource: []string{"x"}},
		"empty audience":   {SubjectToken: "s", SubjectTokenType: TokenTypeJWT, Audience: []string{""}},
		"scope with space": {SubjectToken: "s", SubjectTokenType: TokenTypeJWT, Scopes: []string{"a b"}},
	} {
		if _, err := c.TokenExchange(t.Context(), req); !errors.Is(err, errInvalidOption) {
			t.Errorf("TokenExchange(%q) error = %v, want %v", name, err, errInvalidOption)
		}
	}
	// The default response lacks issued_token_type, which RFC 8693 requires.
	_, err := c.TokenExchange(t.Context(), TokenExchangeRequest{SubjectToken: "s", SubjectTokenType: TokenTypeJWT})
	if !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("TokenExchange without issued_token_type error = %v, want %v", err, ErrMalformedResponse)
	}
}

// TestTokenSourceReuse: a valid token is reused; an expired one is replaced
// by a fetch with a new assertion.
func TestTokenSourceReuse(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, clk := fakeClient(t, op, Config{})
	ts := c.ClientCredentialsTokenSource(WithScopes("read"))
	t1, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	t2, _ := ts.Token()
	if t1 != t2 || len(op.requests()) != 1 {
		t.Fatalf("valid token not reused: %d requests", len(op.requests()))
	}
	clk.Advance(time.Hour - defaultExpiryDelta) // within the expiry delta
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	reqs := op.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests after expiry, want 2", len(reqs))
	}
	if reqs[0].claims["jti"] == reqs[1].claims["jti"] {
		t.Error("two fetches sent the same jti")
	}
}

// TestNoRetryReusesAssertion: failures are not retried with the same form;
// every later attempt mints a new assertion.
func TestNoRetryReusesAssertion(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 401, 307} {
		op := newFakeOP(t)
		op.setRespond(func(url.Values) (int, string) { return status, `{"error":"temporarily_unavailable"}` })
		c, _ := fakeClient(t, op, Config{})
		ts := c.ClientCredentialsTokenSource()
		const attempts = 3
		for range attempts {
			if _, err := ts.Token(); err == nil {
				t.Fatalf("status %d: Token() succeeded", status)
			}
		}
		reqs := op.requests()
		if len(reqs) != attempts {
			t.Errorf("status %d: %d POSTs for %d attempts (a hidden retry)", status, len(reqs), attempts)
		}
		seen := map[any]bool{}
		for _, r := range reqs {
			if seen[r.claims["jti"]] || seen[r.form.Get("client_assertion")] {
				t.Errorf("status %d: an assertion was sent twice", status)
			}
			seen[r.claims["jti"]], seen[r.form.Get("client_assertion")] = true, true
		}
	}
}

// TestTokenSourceSingleFlight: concurrent callers share one fetch.
func TestTokenSourceSingleFlight(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	op.setRespond(func(url.Values) (int, string) {
		entered <- struct{}{}
		<-release
		return 200, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`
	})
	c, _ := fakeClient(t, op, Config{})
	ts := c.ClientCredentialsTokenSource()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	wg.Go(func() {
		_, err := ts.TokenContext(t.Context())
		errs <- err
	})
	<-entered // the leader's request is at the server
	for range 19 {
		wg.Go(func() {
			_, err := ts.TokenContext(t.Context())
			errs <- err
		})
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(op.requests()); n != 1 {
		t.Errorf("%d fetches for 20 concurrent callers, want 1", n)
	}
}

// TestTokenSourceWaiterContext: a waiter gives up with its own context.
func TestTokenSourceWaiterContext(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	op.setRespond(func(url.Values) (int, string) {
		entered <- struct{}{}
		<-release
		return 200, `{"access_token":"at","token_type":"Bearer"}`
	})
	c, _ := fakeClient(t, op, Config{})
	ts := c.ClientCredentialsTokenSource()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.TokenContext(t.Context())
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ts.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("waiter error = %v, want %v", err, context.Canceled)
	}
	close(release)
	<-done
}

func TestTokenSourceClient(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	t.Cleanup(api.Close)
	hc := c.ClientCredentialsTokenSource().Client(nil)
	if hc == http.DefaultClient || hc.Timeout != defaultTimeout {
		t.Errorf("Client(nil) = %p timeout %v", hc, hc.Timeout)
	}
	resp, err := hc.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "Bearer at" {
		t.Errorf("API saw Authorization %q", b)
	}
	// A token failure fails the API call without reaching the API.
	op.setRespond(func(url.Values) (int, string) { return 401, `{"error":"invalid_client"}` })
	hc2 := c.ClientCredentialsTokenSource().Client(&http.Client{Timeout: time.Second})
	if _, err := hc2.Get(api.URL); !errors.Is(err, ErrInvalidClient) {
		t.Errorf("Get with refused token error = %v, want %v", err, ErrInvalidClient)
	}
}

func TestNewClientConfigErrors(t *testing.T) {
	t.Parallel()
	md := metadata{issuer: "https://op.example", tokenURL: "https://op.example/token", authURL: "https://op.example/authorize"}
	key := testKey(t, testkeys.P256A)
	src := assertion.SourceFunc(func(context.Context) (string, error) { return "", nil })
	tests := []struct {
		name string
		cfg  Config
		md   metadata
		want []error
	}{
		{name: "empty", cfg: Config{}, want: []error{ErrInvalidConfig}},
		{name: "both key and source", cfg: Config{ClientID: "c", Key: key, Assertions: src}, want: []error{ErrInvalidConfig}},
		{name: "relative redirect", cfg: Config{ClientID: "c", Key: key, RedirectURL: "/cb"}, want: []error{ErrInvalidConfig}},
		{name: "redirect fragment", cfg: Config{ClientID: "c", Key: key, RedirectURL: "https://rp/cb#x"}, want: []error{ErrInvalidConfig}},
		{name: "bad scope", cfg: Config{ClientID: "c", Key: key, Scopes: []string{"a b"}}, want: []error{ErrInvalidConfig}},
		{name: "negative", cfg: Config{ClientID: "c", Key: key, Leeway: -1, MaxResponseBytes: -1}, want: []error{ErrInvalidConfig}},
		{name: "no S256", cfg: Config{ClientID: "c", Key: key}, md: metadata{issuer: md.issuer, tokenURL: md.tokenURL, challengeMethods: []string{"plain"}}, want: []error{errPKCEUnsupported}},
		{name: "all at once", cfg: Config{Key: key, Assertions: src, RedirectURL: "x"}, md: metadata{issuer: md.issuer, tokenURL: md.tokenURL, challengeMethods: []string{"plain"}}, want: []error{ErrInvalidConfig, errPKCEUnsupported}},
	}
	for _, tc := range tests {
		m := tc.md
		if m.issuer == "" {
			m = md
		}
		_, err := newClient(m, tc.cfg)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("newClient(%q) error = %v, want %v", tc.name, err, w)
			}
		}
		if len(tc.want) == 1 {
			if c := otherCause(err, tc.want[0]); c != nil {
				t.Errorf("newClient(%q) error = %v, matches %v too", tc.name, err, c)
			}
		}
	}
	if _, err := newClient(md, Config{ClientID: "c", Key: key, RedirectURL: "https://rp.example/cb"}); err != nil {
		t.Errorf("newClient(valid) error = %v", err)
	}
}

// TestNewClientMinter: an *assertion.Minter in Config.Assertions must mint
// for this Client: its client ID, and the provider's issuer as audience
// (RFC 10070) or its token endpoint in the legacy profile. Config.ClientID
// may be left to the Minter.
func TestNewClientMinter(t *testing.T) {
	t.Parallel()
	md := metadata{issuer: "https://op.example", tokenURL: "https://op.example/token", authURL: "https://op.example/authorize"}
	key := testKey(t, testkeys.P256A)
	minter := func(clientID, aud string, p assertion.Profile) *assertion.Minter {
		t.Helper()
		m, err := assertion.NewMinter(key, assertion.Config{ClientID: clientID, Audience: aud, Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name     string
		cfg      Config
		wantErr  error
		clientID string // of the Client made, when wantErr is nil
	}{
		{name: "issuer audience", cfg: Config{ClientID: "c", Assertions: minter("c", md.issuer, assertion.ProfileRFC10070)}, clientID: "c"},
		{name: "client ID from the minter", cfg: Config{Assertions: minter("c", md.issuer, assertion.ProfileRFC10070)}, clientID: "c"},
		{name: "legacy at the token endpoint", cfg: Config{ClientID: "c", Assertions: minter("c", md.tokenURL, assertion.ProfileLegacy)}, clientID: "c"},
		{name: "other client ID", cfg: Config{ClientID: "c", Assertions: minter("d", md.issuer, assertion.ProfileRFC10070)}, wantErr: ErrInvalidConfig},
		{name: "token endpoint without legacy", cfg: Config{ClientID: "c", Assertions: minter("c", md.tokenURL, assertion.ProfileRFC10070)}, wantErr: ErrInvalidConfig},
		{name: "another issuer", cfg: Config{ClientID: "c", Assertions: minter("c", "https://other.example", assertion.ProfileRFC10070)}, wantErr: ErrInvalidConfig},
		{name: "issuer with trailing slash", cfg: Config{ClientID: "c", Assertions: minter("c", md.issuer+"/", assertion.ProfileRFC10070)}, wantErr: ErrInvalidConfig},
		{name: "legacy at the issuer", cfg: Config{ClientID: "c", Assertions: minter("c", md.issuer, assertion.ProfileLegacy)}, wantErr: ErrInvalidConfig},
		{name: "nil minter", cfg: Config{ClientID: "c", Assertions: (*assertion.Minter)(nil)}, wantErr: ErrInvalidConfig},
		{name: "minter and key", cfg: Config{ClientID: "c", Key: key, Assertions: minter("c", md.issuer, assertion.ProfileRFC10070)}, wantErr: ErrInvalidConfig},
	}
	for _, tc := range tests {
		c, err := newClient(md, tc.cfg)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("newClient(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("newClient(%q) error = %v", tc.name, err)
			continue
		}
		if c.clientID != tc.clientID {
			t.Errorf("newClient(%q) client ID = %q, want %q", tc.name, c.clientID, tc.clientID)
		}
	}
}

type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestTokenSourceClientBase: Client(nil) builds on Config.HTTPClient, and
// token requests go through it too.
func TestTokenSourceClientBase(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	ct := &countingTransport{}
	c, _ := fakeClient(t, op, Config{HTTPClient: &http.Client{Transport: ct}})
	api := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(api.Close)
	resp, err := c.ClientCredentialsTokenSource().Client(nil).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct.n != 2 {
		t.Errorf("configured transport carried %d requests, want 2 (token and API)", ct.n)
	}
}

// TestLegacyCertificateThumbprint: with the legacy profile and a
// certificate, the assertion's header carries x5t#S256 (Entra ID).
func TestLegacyCertificateThumbprint(t *testing.T) {
	t.Parallel()
	signer := testkeys.Signer(testkeys.P256A)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	op := newFakeOP(t)
	m, err := assertion.NewMinter(testKey(t, testkeys.P256A), assertion.Config{
		ClientID: "s6BhdRkqt3", Audience: op.srv.URL + "/token", Profile: assertion.ProfileLegacy, Certificate: cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := fakeClient(t, op, Config{Assertions: m})
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	a := op.requests()[0].form.Get("client_assertion")
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(a, ".")[0])
	sum := sha256.Sum256(der)
	if want := `"x5t#S256":"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`; !strings.Contains(string(hb), want) {
		t.Errorf("header %s lacks %s", hb, want)
	}
}

// TestTokenSourceLeaderCanceled: when the caller running the fetch gives
// up, another caller still gets a token, from a new fetch with a new
// assertion.
func TestTokenSourceLeaderCanceled(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var mu sync.Mutex
	calls := 0
	op.setRespond(func(url.Values) (int, string) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			entered <- struct{}{}
			<-release
		}
		return 200, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`
	})
	defer close(release)
	c, _ := fakeClient(t, op, Config{})
	ts := c.ClientCredentialsTokenSource()
	ctx, cancel := context.WithCancel(t.Context())
	leaderDone := make(chan error, 1)
	go func() {
		_, err := ts.TokenContext(ctx)
		leaderDone <- err
	}()
	<-entered
	waiterDone := make(chan error, 1)
	go func() {
		_, err := ts.TokenContext(t.Context())
		waiterDone <- err
	}()
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Errorf("leader error = %v, want %v", err, context.Canceled)
	}
	if err := <-waiterDone; err != nil {
		t.Errorf("waiter error = %v", err)
	}
	reqs := op.requests()
	if len(reqs) != 2 || reqs[0].claims["jti"] == reqs[1].claims["jti"] {
		t.Errorf("%d requests; want 2 with distinct jtis", len(reqs))
	}
}

type emptySource struct{}

func (emptySource) Assertion(context.Context) (string, error) { return "", nil }

func TestEmptyAssertionNotSent(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{Assertions: emptySource{}})
	if _, err := c.ClientCredentials(t.Context()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error = %v, want %v", err, ErrInvalidConfig)
	}
	if n := len(op.requests()); n != 0 {
		t.Errorf("%d requests with an empty assertion", n)
	}
}

// TestCheckTokenType checks the token types a response may carry: Bearer
// without a proof, DPoP after one, in any letter case; N_A only for a token
// exchange that issued something other than an access token.
func TestCheckTokenType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tt      string
		dpop    bool
		allowNA bool
		issued  string
		want    string // the normalised type; "" means refused
	}{
		{tt: "Bearer", want: "Bearer"},
		{tt: "bearer", want: "Bearer"},
		{tt: "DPoP", dpop: true, want: "DPoP"},
		{tt: "dpop", dpop: true, want: "DPoP"},
		{tt: "DPoP"},
		{tt: "Bearer", dpop: true},
		{tt: "N_A"},
		{tt: "N_A", allowNA: true, issued: TokenTypeJWT, want: "N_A"},
		{tt: "n_a", allowNA: true, issued: TokenTypeIDToken, want: "N_A"},
		{tt: "N_A", dpop: true, allowNA: true, issued: TokenTypeJWT, want: "N_A"},
		// An access token after a proof must be DPoP: N_A would be a
		// silent downgrade.
		{tt: "N_A", dpop: true, allowNA: true, issued: TokenTypeAccessToken},
		{tt: "N_A", allowNA: true, issued: TokenTypeAccessToken},
		{tt: "MAC", allowNA: true, issued: TokenTypeJWT},
	} {
		r := &tokenResponse{token: &oauth2.Token{AccessToken: "x", TokenType: tc.tt}, dpop: tc.dpop, issuedTokenType: tc.issued}
		err := checkTokenType(r, tc.allowNA)
		switch {
		case tc.want == "" && !errors.Is(err, errUnsupportedTokenType):
			t.Errorf("%+v: error = %v, want %v", tc, err, errUnsupportedTokenType)
		case tc.want != "" && err != nil:
			t.Errorf("%+v: error = %v", tc, err)
		case tc.want != "" && r.token.TokenType != tc.want:
			t.Errorf("%+v: type = %q, want %q", tc, r.token.TokenType, tc.want)
		}
	}
}
