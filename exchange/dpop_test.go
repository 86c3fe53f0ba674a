package exchange_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// dpopKey is the DPoP key of the tests, another key than the client's.
func dpopKey(t testing.TB) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.Ed25519A), jwks.KeyConfig{Algorithm: jwks.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fapiSetup is setup with the mock in FAPI 2.0 mode (PAR required, DPoP
// nonces required, ES256 ID tokens) and a FAPI2 client.
func fapiSetup(t *testing.T, mod func(*provider.Provider, *exchange.Config)) *env {
	t.Helper()
	return setup(t, providertest.Config{
		RequirePushedAuthorizationRequests: true,
		DPoPNonceRequired:                  true,
		RequireDPoP:                        true,
		IDTokenAlgorithm:                   jwks.ES256,
	}, func(p *provider.Provider, c *exchange.Config) {
		c.FAPI2 = true
		c.DPoPKey = dpopKey(t)
		if mod != nil {
			mod(p, c)
		}
	})
}

func TestFAPI2Login(t *testing.T) {
	t.Parallel()
	e := fapiSetup(t, nil)
	ctx := t.Context()
	authURL, tx, err := e.c.AuthCodeURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if len(q) != 2 || q.Get("client_id") != clientID || !strings.HasPrefix(q.Get("request_uri"), "urn:") {
		t.Fatalf("browser URL query = %v, want client_id and request_uri only", q)
	}
	// The first PAR request is answered use_dpop_nonce; the retry carries
	// the nonce (and a new assertion).
	if n := e.op.Count(providertest.EndpointPAR); n != 2 {
		t.Errorf("PAR requests = %d, want 2 (nonce challenge, then success)", n)
	}
	cb, err := e.op.Authorize(ctx, authURL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.c.Callback(ctx, tx, cb.Query())
	if err != nil {
		t.Fatal(err)
	}
	if res.Token.TokenType != "DPoP" {
		t.Errorf("TokenType = %q, want DPoP", res.Token.TokenType)
	}
	// The nonce is known for the origin: the code exchange needs one POST.
	if posts, jtis, _ := e.rec.distinct(); posts != 1 || jtis != 1 {
		t.Errorf("token posts = %d with %d jtis, want 1", posts, jtis)
	}
	ts := e.c.RefreshTokenSource(res.Token, res.IDToken)
	resp, err := ts.Client(nil).Get(e.op.UserInfoEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("UserInfo with the DPoP client: status %d", resp.StatusCode)
	}
	if n := e.op.Count(providertest.EndpointUserInfo); n != 1 {
		t.Errorf("UserInfo requests = %d, want 1 (no extra round trip once the nonce is known)", n)
	}
	var claims map[string]any
	if err := e.c.UserInfo(ctx, res.Token, res.IDToken.Subject, &claims); err != nil || claims["sub"] != res.IDToken.Subject {
		t.Errorf("Client.UserInfo with a DPoP-bound token: %v, %v", err, claims)
	}
	// A bound token goes nowhere else.
	_, err = ts.Client(nil).Get("https://api.elsewhere.example/")
	if !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("request to another origin: error = %v, want ErrInvalidConfig", err)
	}
}

func TestDPoPClientCredentials(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
	tok, err := e.c.ClientCredentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" {
		t.Errorf("TokenType = %q, want DPoP", tok.TokenType)
	}
	// Without PAR the code is bound through dpop_jkt.
	authURL, _, err := e.c.AuthCodeURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if u.Query().Get("dpop_jkt") == "" {
		t.Error("authorization URL without dpop_jkt")
	}
}

func TestDPoPMisbehavingProvider(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		m     providertest.Misbehavior
		posts int
		want  error
	}{
		{"Bearer after a proof", providertest.BearerAfterDPoP, 1, exchange.ErrMalformedResponse},
		{"nonce on every request", providertest.DPoPNonceEveryRequest, 2, exchange.ErrMalformedResponse},
		{"1 MiB nonce", providertest.DPoPNonceHuge, 1, exchange.ErrMalformedResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, providertest.Config{DPoPNonceRequired: tc.m == providertest.DPoPNonceHuge}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
			e.op.Misbehave(tc.m)
			_, err := e.c.ClientCredentials(t.Context())
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			posts, jtis, _ := e.rec.distinct()
			if posts != tc.posts || jtis != posts {
				t.Errorf("posts = %d with %d distinct jtis, want %d, each with a new assertion", posts, jtis, tc.posts)
			}
		})
	}
}

func TestPARRedirectRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{RequirePushedAuthorizationRequests: true}, nil)
	e.op.Misbehave(providertest.PARRedirect)
	_, _, err := e.c.AuthCodeURL(t.Context())
	if !errors.Is(err, exchange.ErrMalformedResponse) {
		t.Fatalf("error = %v, want ErrMalformedResponse", err)
	}
	if n := e.op.Count(providertest.EndpointPARRedirected); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestPARExpiredRequestURI(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) { c.PushAuthorizationRequests = true })
	e.op.Misbehave(providertest.PARExpiredRequestURI)
	authURL, _, err := e.c.AuthCodeURL(t.Context())
	if err == nil {
		// The mock's expired request_uri still has a plausible expires_in;
		// the provider refuses it at the authorization endpoint.
		if _, err := e.op.Authorize(t.Context(), authURL); err == nil {
			t.Error("an expired request_uri was accepted")
		}
	}
}

func TestDPoPResourceNonceChallenge(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
	ts := e.c.ClientCredentialsTokenSource()
	hc := ts.Client(nil)
	e.op.Misbehave(providertest.DPoPNonceEveryRequest)
	if _, err := ts.TokenContext(t.Context()); err == nil {
		t.Fatal("token despite DPoPNonceEveryRequest")
	}
	e.op.Behave(providertest.DPoPNonceEveryRequest)
	if _, err := ts.TokenContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.op.Misbehave(providertest.DPoPNonceEveryRequest)
	before := e.op.Count(providertest.EndpointUserInfo)

	// A body that cannot be replayed: a typed error after one request.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.op.UserInfoEndpoint(), io.NopCloser(strings.NewReader("a=b")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := hc.Do(req)
	if !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("unreplayable body: error = %v, want ErrInvalidConfig", err)
	}
	if n := e.op.Count(providertest.EndpointUserInfo) - before; n != 1 {
		t.Errorf("unreplayable body: %d requests, want 1", n)
	}
	// A replayable one is retried once, then the second challenge is an
	// error, not a loop.
	before = e.op.Count(providertest.EndpointUserInfo)
	_, err = hc.Get(e.op.UserInfoEndpoint())
	if !errors.Is(err, exchange.ErrMalformedResponse) {
		t.Errorf("second challenge: error = %v, want ErrMalformedResponse", err)
	}
	if n := e.op.Count(providertest.EndpointUserInfo) - before; n != 2 {
		t.Errorf("second challenge: %d requests, want 2", n)
	}
}

func TestFAPI2RefusesWithEveryGap(t *testing.T) {
	t.Parallel()
	op, key := startOP(t, providertest.Config{}) // RS256 ID tokens, PAR not required
	p, err := provider.Discover(context.Background(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = exchange.New(p, exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirectURL, FAPI2: true, IDTokenAlgorithms: []jwks.Algorithm{jwks.RS256}})
	if !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Fatalf("error = %v, want ErrInvalidConfig", err)
	}
	for _, gap := range []string{"DPoPKey is nil", "id_token_signing_alg_values_supported", "IDTokenAlgorithms holds RS256"} {
		if !strings.Contains(err.Error(), gap) {
			t.Errorf("error does not name the gap %q:\n%v", gap, err)
		}
	}
	// A DPoP key of an algorithm the provider does not accept.
	k, _ := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.P384), jwks.KeyConfig{Algorithm: jwks.ES384})
	if _, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key, DPoPKey: k}); !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("ES384 DPoP key: error = %v, want ErrInvalidConfig", err)
	}
}

// TestFAPI2MockRefusesWithoutDPoP runs the login without DPoP against the
// mock in FAPI 2.0 mode: the code exchange is refused, as oidc-provider
// refuses it.
func TestFAPI2MockRefusesWithoutDPoP(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{RequirePushedAuthorizationRequests: true, RequireDPoP: true}, nil)
	_, err := e.login(t.Context())
	var te *exchange.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_dpop_proof" {
		t.Fatalf("login without DPoP: error = %v, want invalid_dpop_proof", err)
	}
}

// TestDPoPTokenWithoutKey checks that a DPoP token handed to the token
// source of a client without a DPoP key is not sent at all (it would go
// without a proof).
func TestDPoPTokenWithoutKey(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	ts := e.c.RefreshTokenSource(&oauth2.Token{AccessToken: "bound", TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, nil)
	before := e.op.Count(providertest.EndpointUserInfo)
	if _, err := ts.Client(nil).Get(e.op.UserInfoEndpoint()); !errors.Is(err, exchange.ErrMalformedResponse) {
		t.Errorf("error = %v, want ErrMalformedResponse", err)
	}
	if e.op.Count(providertest.EndpointUserInfo) != before {
		t.Error("the token was sent")
	}
}

// TestDPoPConcurrent runs token and resource requests of one DPoP client
// concurrently (run with -race): the nonce memory is shared.
func TestDPoPConcurrent(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{DPoPNonceRequired: true}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
	ts := e.c.ClientCredentialsTokenSource()
	hc := ts.Client(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := e.c.ClientCredentials(t.Context()); err != nil {
				t.Error(err)
			}
			resp, err := hc.Get(e.op.UserInfoEndpoint())
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
}

// TestDPoPTokenTypeAnyCase checks that a token whose type is DPoP in any
// letter case, or that has no type at all in a token source of a client
// with a DPoP key, is sent only with a proof and only to an allowed origin;
// and that a token of another type, or a DPoP one without a key, is not
// sent at all.
func TestDPoPTokenTypeAnyCase(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var gotAuth, gotProof string
	var hits int
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		gotAuth, gotProof = r.Header.Get("Authorization"), r.Header.Get("DPoP")
	}))
	t.Cleanup(rs.Close)
	withKey := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
	noKey := setup(t, providertest.Config{}, nil)
	for _, tc := range []struct {
		name    string
		c       *exchange.Client
		typ     string
		allowed bool   // the resource server's origin is given with WithResource
		wantErr error  // nil: sent
		scheme  string // the Authorization scheme it must go with
	}{
		{"DPoP elsewhere", withKey.c, "DPoP", false, exchange.ErrInvalidConfig, ""},
		{"dpop elsewhere", withKey.c, "dpop", false, exchange.ErrInvalidConfig, ""},
		{"Dpop elsewhere", withKey.c, "Dpop", false, exchange.ErrInvalidConfig, ""},
		{"empty type elsewhere", withKey.c, "", false, exchange.ErrInvalidConfig, ""},
		{"dpop allowed", withKey.c, "dpop", true, nil, "DPoP"},
		{"empty type allowed", withKey.c, "", true, nil, "DPoP"},
		{"Bearer with a key", withKey.c, "bearer", false, nil, "Bearer"},
		{"dpop without a key", noKey.c, "dpop", true, exchange.ErrMalformedResponse, ""},
		{"empty type without a key", noKey.c, "", false, nil, "Bearer"},
		{"N_A", noKey.c, "N_A", false, exchange.ErrMalformedResponse, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []exchange.Option
			if tc.allowed {
				opts = append(opts, exchange.WithResource(rs.URL+"/"))
			}
			mu.Lock()
			hits, gotAuth, gotProof = 0, "", ""
			mu.Unlock()
			ts := tc.c.RefreshTokenSource(&oauth2.Token{AccessToken: "bound-secret", TokenType: tc.typ, Expiry: time.Now().Add(time.Hour)}, nil, opts...)
			resp, err := ts.Client(rs.Client()).Get(rs.URL + "/api")
			if err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error = %v, want %v", err, tc.wantErr)
				}
				if hits != 0 {
					t.Errorf("the token was sent (Authorization scheme %q)", strings.Fields(gotAuth + " ")[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.scheme + " bound-secret"; gotAuth != want {
				t.Errorf("Authorization scheme = %q, want %q", strings.Fields(gotAuth + " ")[0], tc.scheme)
			}
			if (gotProof != "") != (tc.scheme == "DPoP") {
				t.Errorf("DPoP proof sent = %v, want %v", gotProof != "", tc.scheme == "DPoP")
			}
		})
	}
}

// TestUserInfoDPoPTokenTypeAnyCase checks that Client.UserInfo sends a
// bound token whose type is DPoP in another letter case, or absent, with a
// proof: as a bearer token the provider would refuse it.
func TestUserInfoDPoPTokenTypeAnyCase(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) { c.DPoPKey = dpopKey(t) })
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"DPoP", "dpop", "DPOP", ""} {
		tok := *res.Token
		tok.TokenType = typ
		var claims map[string]any
		if err := e.c.UserInfo(t.Context(), &tok, res.IDToken.Subject, &claims); err != nil {
			t.Errorf("UserInfo with token_type %q: %v", typ, err)
		}
	}
}

// TestFAPI2AssertionAlgorithmAfterRotation checks that a FAPI2 client
// checks the algorithm of every assertion, not only the key's in New: once
// its key ring rotates to an RS256 key, nothing is sent to the token, PAR
// or revocation endpoint, whether the ring is Config.Key or the key source
// of an *assertion.Minter in Config.Assertions.
func TestFAPI2AssertionAlgorithmAfterRotation(t *testing.T) {
	t.Parallel()
	rsa, err := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.RSA2048A), jwks.KeyConfig{Algorithm: jwks.RS256})
	if err != nil {
		t.Fatal(err)
	}
	for _, viaMinter := range []bool{false, true} {
		t.Run(fmt.Sprint("minter=", viaMinter), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			var ringNow atomic.Pointer[time.Time]
			ringNow.Store(&start)
			e := fapiSetup(t, func(p *provider.Provider, c *exchange.Config) {
				ring, err := jwks.NewRing(jwks.RingConfig{Now: func() time.Time { return *ringNow.Load() }},
					jwks.Entry{Key: c.Key.(*jwks.Key), Activate: start.Add(-time.Hour)},
					jwks.Entry{Key: rsa, Activate: start.Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				c.Key = ring
				if viaMinter {
					m, err := assertion.NewMinter(ring, assertion.Config{ClientID: clientID, Audience: p.Issuer()})
					if err != nil {
						t.Fatal(err)
					}
					c.Key, c.Assertions = nil, m
				}
			})
			if _, err := e.c.ClientCredentials(t.Context()); err != nil {
				t.Fatalf("with the ES256 key: %v", err)
			}
			later := start.Add(2 * time.Hour)
			ringNow.Store(&later)
			counts := func() [3]int {
				return [3]int{e.op.Count(providertest.EndpointToken), e.op.Count(providertest.EndpointPAR), e.op.Count(providertest.EndpointRevocation)}
			}
			before := counts()
			for name, call := range map[string]func() error{
				"token":      func() error { _, err := e.c.ClientCredentials(t.Context()); return err },
				"PAR":        func() error { _, _, err := e.c.AuthCodeURL(t.Context()); return err },
				"revocation": func() error { return e.c.Revoke(t.Context(), "some-token", "") },
			} {
				if err := call(); !errors.Is(err, exchange.ErrInvalidConfig) {
					t.Errorf("%s request after rotating to RS256: error = %v, want ErrInvalidConfig", name, err)
				}
			}
			if after := counts(); after != before {
				t.Errorf("requests (token, PAR, revocation) = %v before, %v after: an RS256 assertion was sent", before, after)
			}
		})
	}
}
