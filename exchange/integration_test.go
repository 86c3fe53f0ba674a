package exchange_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

const (
	clientID    = "s6BhdRkqt3"
	redirectURL = "https://rp.example/callback"
)

var allGrants = []string{
	providertest.GrantAuthorizationCode, providertest.GrantRefreshToken, providertest.GrantClientCredentials,
	providertest.GrantJWTBearer, providertest.GrantTokenExchange,
}

// recorder is a RoundTripper that records every token request it carries:
// the number of POSTs and the jti of each client assertion.
type recorder struct {
	base     http.RoundTripper
	tokenURL string
	// guards posts, jtis, assertions
	mu         sync.Mutex
	posts      int
	jtis       []string
	assertions []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.URL.String() == r.tokenURL && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		a := form.Get("client_assertion")
		r.mu.Lock()
		r.posts++
		r.assertions = append(r.assertions, a)
		r.jtis = append(r.jtis, jtiOf(a))
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

// distinct reports the POST count and the number of distinct jtis and
// assertions seen.
func (r *recorder) distinct() (posts, jtis, assertions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, a := map[string]bool{}, map[string]bool{}
	for i := range r.jtis {
		j[r.jtis[i]], a[r.assertions[i]] = true, true
	}
	delete(j, "")
	return r.posts, len(j), len(a)
}

func jtiOf(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		JTI string `json:"jti"`
	}
	json.Unmarshal(b, &c)
	return c.JTI
}

type env struct {
	op  *providertest.Server
	p   *provider.Provider
	c   *exchange.Client
	rec *recorder
	key *jwks.Key
}

// startOP starts a providertest server and registers the client with a
// test key, which it returns.
func startOP(t testing.TB, opCfg providertest.Config) (*providertest.Server, *jwks.Key) {
	t.Helper()
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	op := providertest.New(t, opCfg)
	if err := op.RegisterClient(providertest.Client{
		ID:           clientID,
		JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
		RedirectURIs: []string{redirectURL},
		GrantTypes:   allGrants,
	}); err != nil {
		t.Fatal(err)
	}
	return op, key
}

// setup starts a providertest server, registers the client, discovers the
// provider and builds an exchange.Client. mod may adjust the exchange
// config before New.
func setup(t testing.TB, opCfg providertest.Config, mod func(*provider.Provider, *exchange.Config)) *env {
	t.Helper()
	op, key := startOP(t, opCfg)
	p, err := provider.Discover(context.Background(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{base: op.HTTPClient().Transport, tokenURL: p.Metadata().TokenEndpoint}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	cfg := exchange.Config{
		ClientID:    clientID,
		Key:         key,
		RedirectURL: redirectURL,
		Scopes:      []string{"profile", "email"},
		HTTPClient:  &http.Client{Transport: rec},
	}
	if mod != nil {
		mod(p, &cfg)
	}
	c, err := exchange.New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{op: op, p: p, c: c, rec: rec, key: key}
}

// login runs AuthCodeURL, the user agent at the mock and Callback.
func (e *env) login(ctx context.Context, opts ...exchange.Option) (*exchange.Result, error) {
	authURL, tx, err := e.c.AuthCodeURL(opts...)
	if err != nil {
		return nil, err
	}
	cb, err := e.op.Authorize(ctx, authURL)
	if err != nil {
		return nil, err
	}
	return e.c.Callback(ctx, tx, cb.Query())
}

// TestLoginProfiles runs the whole login under both assertion profiles
// against the mock's audience policies: matching pairs succeed, crossed
// pairs are refused as invalid_client.
func TestLoginProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		profile assertion.Profile
		policy  providertest.AudiencePolicy
		wantErr error
		wantTyp string
	}{
		{name: "rfc10070 at issuer policy", profile: assertion.ProfileRFC10070, policy: providertest.AudienceIssuer, wantTyp: "client-authentication+jwt"},
		{name: "legacy at token endpoint policy", profile: assertion.ProfileLegacy, policy: providertest.AudienceTokenEndpoint, wantTyp: "JWT"},
		{name: "rfc10070 at either policy", profile: assertion.ProfileRFC10070, policy: providertest.AudienceIssuerOrTokenEndpoint, wantTyp: "client-authentication+jwt"},
		{name: "legacy at either policy", profile: assertion.ProfileLegacy, policy: providertest.AudienceIssuerOrTokenEndpoint, wantTyp: "JWT"},
		{name: "rfc10070 at token endpoint policy", profile: assertion.ProfileRFC10070, policy: providertest.AudienceTokenEndpoint, wantErr: exchange.ErrInvalidClient},
		{name: "legacy at issuer policy", profile: assertion.ProfileLegacy, policy: providertest.AudienceIssuer, wantErr: exchange.ErrInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, providertest.Config{Audience: tc.policy}, func(p *provider.Provider, c *exchange.Config) {
				if tc.profile == assertion.ProfileLegacy {
					m, err := assertion.NewMinter(c.Key, assertion.Config{ClientID: clientID, Audience: p.Metadata().TokenEndpoint, Profile: assertion.ProfileLegacy})
					if err != nil {
						t.Fatal(err)
					}
					c.Key, c.Assertions = nil, m
				}
			})
			res, err := e.login(t.Context())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("login error = %v, want %v", err, tc.wantErr)
				}
				var te *exchange.TokenError
				if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
					t.Errorf("login error = %#v, want a 401 *TokenError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("login error = %v", err)
			}
			if res.IDToken.Subject != "248289761001" || res.IDToken.Issuer != e.op.Issuer() || res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
				t.Errorf("result = %v", res)
			}
			a, ok := e.op.LastAssertion()
			if !ok || !a.Accepted {
				t.Fatalf("last assertion = %+v, accepted %v", a.Err, a.Accepted)
			}
			if a.Header["typ"] != tc.wantTyp {
				t.Errorf("typ = %v, want %v", a.Header["typ"], tc.wantTyp)
			}
			wantAud := e.op.Issuer()
			if tc.profile == assertion.ProfileLegacy {
				wantAud = e.p.Metadata().TokenEndpoint
			}
			if a.Claims["aud"] != wantAud {
				t.Errorf("aud = %v, want %v", a.Claims["aud"], wantAud)
			}
		})
	}
}

func TestLoginIssuerWithPath(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{IssuerPath: "/tenant/"}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.IDToken.Issuer, "/tenant/") {
		t.Errorf("issuer = %q", res.IDToken.Issuer)
	}
}

// TestLoginMisbehaviors: each way the mock breaks the authorization or
// token response is caught with the documented error.
func TestLoginMisbehaviors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m       providertest.Misbehavior
		wantErr error
		status  int // for *TokenError, 0 to skip
	}{
		{m: providertest.AuthorizeWrongIssuer, wantErr: exchange.ErrIssuerMismatch},
		{m: providertest.AuthorizeMissingIssuer, wantErr: exchange.ErrIssuerMissingForTest},
		{m: providertest.AuthorizeWrongState, wantErr: exchange.ErrStateMismatch},
		{m: providertest.AuthorizeError, wantErr: exchange.ErrAccessDenied},
		{m: providertest.TokenNoIDToken, wantErr: exchange.ErrNoIDTokenForTest},
		{m: providertest.TokenIDTokenWrongType, wantErr: exchange.ErrMalformedResponse},
		{m: providertest.TokenErrorIn200, wantErr: exchange.ErrServerError, status: 200},
		{m: providertest.OversizedToken, wantErr: exchange.ErrMalformedResponse},
		{m: providertest.OversizedToken, wantErr: httpread.ErrTooLarge},
		{m: providertest.ServerErrorToken, wantErr: &exchange.TokenError{}, status: 500},
		{m: providertest.IDTokenWrongNonce, wantErr: provider.ErrNonceMismatch},
		{m: providertest.IDTokenMissingNonce, wantErr: provider.ErrNonceMismatch},
		{m: providertest.IDTokenWrongATHash, wantErr: provider.ErrAccessTokenHashMismatch},
		{m: providertest.IDTokenWrongIssuer, wantErr: provider.ErrInvalidIssuer},
		{m: providertest.IDTokenWrongAudience, wantErr: provider.ErrInvalidAudience},
		{m: providertest.IDTokenExpired, wantErr: provider.ErrTokenExpired},
		{m: providertest.IDTokenAlgNone, wantErr: provider.ErrUnsupportedAlgorithm},
		{m: providertest.IDTokenCorruptSignature, wantErr: provider.ErrInvalidSignature},
		{m: providertest.IDTokenHS256WithPublicKey, wantErr: provider.ErrUnsupportedAlgorithm},
		{m: providertest.IDTokenUnpublishedKey, wantErr: provider.ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.m.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, providertest.Config{}, nil)
			e.op.Misbehave(tc.m)
			res, err := e.login(t.Context())
			if err == nil {
				t.Fatalf("login succeeded: %v", res)
			}
			if te, ok := tc.wantErr.(*exchange.TokenError); ok {
				if !errors.As(err, &te) {
					t.Fatalf("login error = %v, want a *TokenError", err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("login error = %v, want %v", err, tc.wantErr)
			}
			if tc.status != 0 {
				var te *exchange.TokenError
				if !errors.As(err, &te) || te.StatusCode != tc.status {
					t.Errorf("login error = %v, want a *TokenError with status %d", err, tc.status)
				}
			}
			checkNoSecrets(t, err, e)
		})
	}
}

// checkNoSecrets fails when err's text carries any assertion the client
// sent.
func checkNoSecrets(t *testing.T, err error, e *env) {
	t.Helper()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	for _, a := range e.rec.assertions {
		if a != "" && strings.Contains(err.Error(), a) {
			t.Errorf("error %q carries a client assertion", err.Error())
		}
	}
	if strings.Contains(err.Error(), "eyJ") {
		t.Errorf("error %q carries something shaped like a JWT", err.Error())
	}
}

// TestTokenEndpointRedirect: a 307 from the token endpoint is an error and
// the redirect target never sees the form.
func TestTokenEndpointRedirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{302, 307, 308} {
		var stolen atomic.Int32
		thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
		t.Cleanup(thief.Close)
		e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) {
			base := c.HTTPClient.Transport
			c.HTTPClient.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/token") {
					return &http.Response{
						StatusCode: status, Header: http.Header{"Location": {thief.URL + "/token"}},
						Body: io.NopCloser(strings.NewReader("")), Request: req,
					}, nil
				}
				return base.RoundTrip(req)
			})
		})
		_, err := e.login(t.Context())
		if !errors.Is(err, exchange.ErrRedirectForTest) {
			t.Errorf("login with token endpoint %d error = %v, want %v", status, err, exchange.ErrRedirectForTest)
		}
		if n := stolen.Load(); n != 0 {
			t.Errorf("the redirect target received %d requests", n)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSlowTokenEndpointContext(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{SlowDelay: time.Hour}, nil)
	e.op.Misbehave(providertest.SlowToken)
	authURL, tx, _ := e.c.AuthCodeURL()
	cb, err := e.op.Authorize(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.c.Callback(ctx, tx, cb.Query()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Callback error = %v, want %v", err, context.DeadlineExceeded)
	}
}

// TestConcurrentLogins: 200 logins at once send 200 distinct jtis, one POST
// each, and the mock refuses none as a replay.
func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	const n = 200
	e := setup(t, providertest.Config{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	subs := make(chan string, n)
	for range n {
		wg.Go(func() {
			res, err := e.login(t.Context())
			if err != nil {
				errs <- err
				return
			}
			subs <- res.IDToken.Subject
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	posts, jtis, assertions := e.rec.distinct()
	if posts != n || jtis != n || assertions != n {
		t.Errorf("%d logins: %d POSTs, %d distinct jtis, %d distinct assertions; want %d each", n, posts, jtis, assertions, n)
	}
	for _, r := range e.op.Refusals() {
		t.Errorf("refusal: %v", r.Reason)
	}
	if len(subs) != n {
		t.Errorf("%d logins succeeded, want %d", len(subs), n)
	}
}

// TestRedeemTwiceMintsNewAssertion: replaying a callback (the user reloads
// the callback page) fails at the provider as a reused code, and the second
// request carries a new assertion — never the first one again.
func TestRedeemTwiceMintsNewAssertion(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	authURL, tx, _ := e.c.AuthCodeURL()
	cb, err := e.op.Authorize(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Callback(t.Context(), tx, cb.Query()); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Callback(t.Context(), tx, cb.Query())
	if !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Errorf("second Callback error = %v, want %v", err, exchange.ErrInvalidGrant)
	}
	posts, jtis, _ := e.rec.distinct()
	if posts != 2 || jtis != 2 {
		t.Errorf("%d POSTs with %d distinct jtis, want 2 and 2", posts, jtis)
	}
	for _, r := range e.op.Refusals() {
		if errors.Is(r.Reason, providertest.ErrReplay) {
			t.Errorf("the mock saw a replayed jti: %v", r.Reason)
		}
	}
}

// TestNoRetryAfterFailures: every attempt after a failure is one POST with
// a new assertion, whatever the failure.
func TestNoRetryAfterFailures(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	ts := e.c.ClientCredentialsTokenSource()
	for _, m := range []providertest.Misbehavior{providertest.ServerErrorToken, providertest.TokenErrorIn200, providertest.OversizedToken} {
		e.op.Misbehave(m)
		if _, err := ts.TokenContext(t.Context()); err == nil {
			t.Fatalf("%v: token fetched", m)
		}
		e.op.Behave(m)
	}
	if _, err := ts.TokenContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	posts, jtis, assertions := e.rec.distinct()
	if posts != 4 || jtis != 4 || assertions != 4 {
		t.Errorf("%d POSTs, %d jtis, %d assertions; want 4 each", posts, jtis, assertions)
	}
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context(), exchange.WithMaxAge(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.IDToken.AuthTime.IsZero() {
		t.Error("auth_time missing though max_age was sent")
	}
}

// TestRefresh: an expired token is refreshed with a new assertion; the
// rotated refresh token is used next; the new ID token keeps iss and sub.
func TestRefresh(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	expired := *res.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	ts := e.c.RefreshTokenSource(&expired, res.IDToken)
	if ts.IDToken() != res.IDToken {
		t.Error("IDToken() before a refresh is not the original")
	}
	t1, err := ts.TokenContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if t1.AccessToken == res.Token.AccessToken || t1.RefreshToken == res.Token.RefreshToken || t1.RefreshToken == "" {
		t.Error("refresh did not yield new access and refresh tokens")
	}
	id := ts.IDToken()
	if id == nil || id == res.IDToken || id.Subject != res.IDToken.Subject {
		t.Errorf("refreshed IDToken = %+v", id)
	}
	// Cached while valid.
	if t2, _ := ts.TokenContext(t.Context()); t2 != t1 {
		t.Error("valid token not reused")
	}
	// A second refresh must use the rotated refresh token (the old one is
	// revoked at the mock, and presenting it would revoke the family).
	ts2 := e.c.RefreshTokenSource(&oauth2.Token{AccessToken: "x", RefreshToken: t1.RefreshToken, Expiry: time.Now().Add(-time.Second)}, res.IDToken)
	if _, err := ts2.TokenContext(t.Context()); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	posts, jtis, _ := e.rec.distinct()
	if posts != 3 || jtis != 3 {
		t.Errorf("%d POSTs, %d jtis; want 3 and 3", posts, jtis)
	}
}

// TestRefreshContinuity: a refreshed ID token for another subject, or from
// another issuer, than the original login's is refused (OIDC Core §12.2),
// and the caller can tell which with errors.Is.
func TestRefreshContinuity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*provider.IDToken)
		want    error
		notWant []error
	}{
		{name: "another subject", change: func(id *provider.IDToken) { id.Subject = "someone-else" },
			want: exchange.ErrSubjectChanged, notWant: []error{provider.ErrInvalidIssuer, provider.ErrInvalidAudience}},
		{name: "another issuer", change: func(id *provider.IDToken) { id.Issuer = "https://other.example" },
			want: provider.ErrInvalidIssuer, notWant: []error{exchange.ErrSubjectChanged, provider.ErrInvalidAudience}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, providertest.Config{}, nil)
			res, err := e.login(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			original := *res.IDToken
			tc.change(&original)
			expired := *res.Token
			expired.Expiry = time.Now().Add(-time.Minute)
			ts := e.c.RefreshTokenSource(&expired, &original)
			_, err = ts.TokenContext(t.Context())
			for _, w := range []error{exchange.ErrIDTokenContinuity, tc.want} {
				if !errors.Is(err, w) {
					t.Errorf("refresh with %s error = %v, want %v", tc.name, err, w)
				}
			}
			for _, nw := range tc.notWant {
				if errors.Is(err, nw) {
					t.Errorf("refresh with %s error = %v, matches %v too", tc.name, err, nw)
				}
			}
			if ts.IDToken() != &original {
				t.Error("a refused ID token replaced the original")
			}
		})
	}
}

func TestRefreshMisbehaviors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    providertest.Misbehavior
		want error
	}{
		{providertest.IDTokenWrongAudience, provider.ErrInvalidAudience},
		{providertest.IDTokenWrongIssuer, provider.ErrInvalidIssuer},
		{providertest.IDTokenWrongNonce, provider.ErrNonceMismatch},
	} {
		e := setup(t, providertest.Config{}, nil)
		res, err := e.login(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		e.op.Misbehave(tc.m)
		expired := *res.Token
		expired.Expiry = time.Now().Add(-time.Minute)
		_, err = e.c.RefreshTokenSource(&expired, res.IDToken).TokenContext(t.Context())
		if !errors.Is(err, tc.want) {
			t.Errorf("refresh with %v error = %v, want %v", tc.m, err, tc.want)
		}
	}
}

func TestRefreshWithoutRefreshToken(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	ts := e.c.RefreshTokenSource(&oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Minute)}, nil)
	if _, err := ts.Token(); !errors.Is(err, exchange.ErrNoRefreshToken) {
		t.Errorf("error = %v, want %v", err, exchange.ErrNoRefreshToken)
	}
	if posts, _, _ := e.rec.distinct(); posts != 0 {
		t.Errorf("%d POSTs without a refresh token", posts)
	}
}

func TestClientCredentialsAtMock(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	ts := e.c.ClientCredentialsTokenSource(exchange.WithScopes("openid", "read"))
	hc := ts.Client(e.op.HTTPClient())
	for range 2 {
		resp, err := hc.Get(e.p.Metadata().UserInfoEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("userinfo status = %d", resp.StatusCode)
		}
	}
	if e.op.Count(providertest.EndpointToken) != 1 {
		t.Errorf("token endpoint called %d times", e.op.Count(providertest.EndpointToken))
	}
}

func TestJWTBearerAtMock(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	tm, err := assertion.NewTokenMinter(e.key, assertion.TokenConfig{Issuer: clientID, Audience: []string{e.op.Issuer()}})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := tm.Mint(t.Context(), nil, assertion.WithSubject("user-42"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.c.JWTBearer(t.Context(), grant)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" {
		t.Error("no access token")
	}
	// The same grant JWT again is a replay at the mock: invalid_grant.
	if _, err := e.c.JWTBearer(t.Context(), grant); !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Errorf("replayed grant error = %v, want %v", err, exchange.ErrInvalidGrant)
	}
}

func TestTokenExchangeAtMock(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.c.TokenExchange(t.Context(), exchange.TokenExchangeRequest{
		SubjectToken:     res.Token.AccessToken,
		SubjectTokenType: exchange.TokenTypeAccessToken,
		Audience:         []string{"https://api.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("issued_token_type") != exchange.TokenTypeAccessToken {
		t.Errorf("issued_token_type = %v", tok.Extra("issued_token_type"))
	}
	_, err = e.c.TokenExchange(t.Context(), exchange.TokenExchangeRequest{SubjectToken: "not-a-token", SubjectTokenType: exchange.TokenTypeAccessToken})
	if !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Errorf("bad subject token error = %v, want %v", err, exchange.ErrInvalidGrant)
	}
}

func TestExternalAssertionsAtMock(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	e := setup(t, providertest.Config{}, nil)
	m, err := assertion.NewMinter(e.key, assertion.Config{ClientID: clientID, Audience: e.op.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(e.p, exchange.Config{
		ClientID:    clientID,
		RedirectURL: redirectURL,
		Assertions: assertion.SourceFunc(func(ctx context.Context) (string, error) {
			calls.Add(1)
			return m.Assertion(ctx)
		}),
		HTTPClient: e.op.HTTPClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	if _, err := e.login(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("source called %d times for 2 requests", calls.Load())
	}
}

func TestNewChecks(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	if _, err := exchange.New(nil, exchange.Config{}); !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("New(nil) error = %v", err)
	}
	_, err := exchange.New(e.p, exchange.Config{Key: e.key, Leeway: time.Hour})
	if !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("New(no client id, huge leeway) error = %v", err)
	}
	// A provider that does not list private_key_jwt fails the pre-flight.
	op := providertest.New(t, providertest.Config{})
	op.Misbehave(providertest.DiscoveryNoPrivateKeyJWT)
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: e.key}); !errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) {
		t.Errorf("New at a provider without private_key_jwt error = %v, want %v", err, provider.ErrPrivateKeyJWTUnsupported)
	}
	// A key whose algorithm the provider does not advertise (ES384: the mock,
	// like oidc-provider, accepts RS256, PS256, ES256 and EdDSA) fails too,
	// before any assertion is sent.
	p384, err := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.P384), jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var cae *provider.ClientAuthError
	if _, err := exchange.New(e.p, exchange.Config{ClientID: clientID, Key: p384}); !errors.As(err, &cae) || cae.Algorithm != jwks.ES384 {
		t.Errorf("New with an ES384 key error = %v, want a *provider.ClientAuthError for ES384", err)
	}
}

// TestResultRedacted: no formatting path of a Result reveals a token.
func TestResultRedacted(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "result", res)
	outputs := []string{
		fmt.Sprintf("%v", res), fmt.Sprintf("%+v", res), fmt.Sprintf("%#v", res), fmt.Sprintf("%s", res),
		res.String(), res.GoString(), logged.String(),
	}
	raw, _ := res.Token.Extra("id_token").(string)
	for _, out := range outputs {
		for name, secret := range map[string]string{"access token": res.Token.AccessToken, "refresh token": res.Token.RefreshToken, "id token": raw} {
			if secret == "" {
				t.Fatalf("no %s to look for", name)
			}
			if strings.Contains(out, secret) {
				t.Errorf("output %q reveals the %s", out, name)
			}
		}
	}
	if !strings.Contains(logged.String(), res.IDToken.Subject) {
		t.Errorf("log %q lacks the subject", logged.String())
	}
}

// TestMaxAgeEnforced: with max_age sent, an authentication older than it is
// refused. The mock's clock runs ten minutes behind, so auth_time is ten
// minutes old by the client's clock.
func TestMaxAgeEnforced(t *testing.T) {
	t.Parallel()
	behind := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	e := setup(t, providertest.Config{Now: behind, ClockSkew: 15 * time.Minute}, nil)
	if _, err := e.login(t.Context(), exchange.WithMaxAge(5*time.Minute)); !errors.Is(err, provider.ErrAuthTimeInvalid) {
		t.Errorf("login with max_age 5m error = %v, want %v", err, provider.ErrAuthTimeInvalid)
	}
	if _, err := e.login(t.Context(), exchange.WithMaxAge(time.Hour)); err != nil {
		t.Errorf("login with max_age 1h error = %v", err)
	}
}
