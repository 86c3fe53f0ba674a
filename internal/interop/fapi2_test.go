package interop_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// These tests run the library's FAPI 2.0 client (exchange.Config.FAPI2:
// PAR, DPoP with nonces, PKCE, iss, private_key_jwt with the issuer as
// audience) against the fapi2 instance of server.mjs.

// countingTransport counts the requests it carries, by method and URL
// without query.
type countingTransport struct {
	// guards n
	mu sync.Mutex
	n  map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u.RawQuery = ""
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.Method+" "+u.String()]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count(method, u string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method+" "+u]
}

// fapi2DPoPKey is the DPoP key of the tests: another key than any client's
// assertion key.
func fapi2DPoPKey(t *testing.T) *jwks.Key {
	t.Helper()
	k, err := loadKey(testkeys.Ed25519B, jwks.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFAPI2Client returns the library's FAPI 2.0 client for clientID at the
// fapi2 instance, its requests counted by the returned transport.
func newFAPI2Client(t *testing.T, clientID string, mod func(*exchange.Config)) (*exchange.Client, *provider.Provider, *countingTransport) {
	t.Helper()
	key, err := extraKey(clientID)
	if err != nil {
		t.Fatal(err)
	}
	p := discoverOP(t, fapi2OP, key.Algorithm())
	ct := &countingTransport{}
	cfg := exchange.Config{
		ClientID: clientID, Key: key, RedirectURL: redirectURI,
		FAPI2: true, DPoPKey: fapi2DPoPKey(t),
		HTTPClient: &http.Client{Transport: ct},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := exchange.New(p, cfg)
	if err != nil {
		t.Fatalf("exchange.New(%s, FAPI2): %v", clientID, err)
	}
	return c, p, ct
}

// TestInteropFAPI2Login runs the whole FAPI 2.0 login with the library for
// a PS256, an ES256 and an EdDSA client: PAR with a fresh assertion and a
// DPoP proof (the provider demands a nonce first), the browser with
// client_id and request_uri only, iss checked, the code exchange with a
// proof, a DPoP-bound token and a verified PS256 ID token; then a DPoP
// refresh and a DPoP request to UserInfo.
func TestInteropFAPI2Login(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, id := range []string{clientFAPI2PS256, clientFAPI2ES256, clientFAPI2EdDSA} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			c, p, ct := newFAPI2Client(t, id, nil)
			res, err := loginWith(ctx, c)
			if err != nil {
				t.Fatalf("FAPI 2.0 login: %v", err)
			}
			if res.Token.TokenType != "DPoP" || res.IDToken == nil || res.IDToken.Subject != subject {
				t.Fatalf("token_type %q, ID token %v; want DPoP and a verified ID token for %s", res.Token.TokenType, res.IDToken != nil, subject)
			}
			md := p.Metadata()
			if n := ct.count(http.MethodPost, md.PushedAuthorizationRequestEndpoint); n != 2 {
				t.Errorf("PAR requests = %d, want 2 (use_dpop_nonce, then the retry)", n)
			}
			if n := ct.count(http.MethodPost, md.TokenEndpoint); n != 1 {
				t.Errorf("token requests = %d, want 1 (the nonce was known from PAR)", n)
			}

			ts := c.RefreshTokenSource(expired(res.Token), res.IDToken)
			tok, err := ts.TokenContext(ctx)
			if err != nil {
				t.Fatalf("DPoP refresh: %v", err)
			}
			if tok.TokenType != "DPoP" || tok.AccessToken == res.Token.AccessToken {
				t.Errorf("refresh: token_type %q, new access token %v", tok.TokenType, tok.AccessToken != res.Token.AccessToken)
			}

			resp, err := ts.Client(nil).Get(md.UserInfoEndpoint)
			if err != nil {
				t.Fatalf("UserInfo with DPoP: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("UserInfo with DPoP: status %d: %s", resp.StatusCode, body)
			}
			var claims map[string]any
			if err := c.UserInfo(ctx, tok, res.IDToken.Subject, &claims); err != nil || claims["sub"] != subject {
				t.Errorf("Client.UserInfo with DPoP: %v, sub %v", err, claims["sub"])
			}
		})
	}
}

// TestInteropFAPI2ClientCredentials gets a DPoP-bound token with the
// client_credentials grant: the first request of a new client is answered
// use_dpop_nonce and retried once with a new assertion and proof; the next
// one needs a single request.
func TestInteropFAPI2ClientCredentials(t *testing.T) {
	needInterop(t)
	t.Parallel()
	c, p, ct := newFAPI2Client(t, clientFAPI2ES256, nil)
	for i, want := range []int{2, 3} {
		tok, err := c.ClientCredentials(t.Context())
		if err != nil {
			t.Fatalf("client credentials #%d: %v", i+1, err)
		}
		if tok.TokenType != "DPoP" {
			t.Errorf("token_type %q, want DPoP", tok.TokenType)
		}
		if n := ct.count(http.MethodPost, p.Metadata().TokenEndpoint); n != want {
			t.Errorf("after call #%d: %d token requests, want %d", i+1, n, want)
		}
	}
}

// TestInteropFAPI2NonceChallenge shows the library's answer to the
// provider's nonce challenges at the PAR, token and UserInfo endpoints:
// one retry each time a nonce is new, never a loop.
func TestInteropFAPI2NonceChallenge(t *testing.T) {
	needInterop(t)
	t.Parallel()
	c, p, ct := newFAPI2Client(t, clientFAPI2EdDSA, nil)
	md := p.Metadata()
	if _, _, err := c.AuthCodeURL(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ct.count(http.MethodPost, md.PushedAuthorizationRequestEndpoint); n != 2 {
		t.Errorf("first PAR: %d requests, want 2", n)
	}
	if _, _, err := c.AuthCodeURL(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ct.count(http.MethodPost, md.PushedAuthorizationRequestEndpoint); n != 3 {
		t.Errorf("second PAR: %d requests in all, want 3 (the nonce is remembered)", n)
	}
	ts := c.ClientCredentialsTokenSource()
	resp, err := ts.Client(nil).Get(md.UserInfoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A client_credentials token has no user: UserInfo refuses it, but
	// after the proof was accepted (no nonce challenge loop).
	if n := ct.count(http.MethodGet, md.UserInfoEndpoint); n > 2 {
		t.Errorf("UserInfo: %d requests, want at most 2", n)
	}
}

// TestInteropFAPI2RefusedWithoutDPoP runs the same login without DPoP: the
// library refuses a FAPI2 configuration without a DPoP key, and the
// provider refuses the code exchange of a client that does not send a
// proof.
func TestInteropFAPI2RefusedWithoutDPoP(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := extraKey(clientFAPI2Probe)
	if err != nil {
		t.Fatal(err)
	}
	p := discoverOP(t, fapi2OP, key.Algorithm())
	_, err = exchange.New(p, exchange.Config{ClientID: clientFAPI2Probe, Key: key, RedirectURL: redirectURI, FAPI2: true})
	if !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Fatalf("FAPI2 without a DPoP key: error = %v, want ErrInvalidConfig", err)
	}
	c, err := exchange.New(p, exchange.Config{
		ClientID: clientFAPI2Probe, Key: key, RedirectURL: redirectURI,
		IDTokenAlgorithms: []jwks.Algorithm{jwks.PS256},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = loginWith(t.Context(), c)
	var te *exchange.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("login without DPoP: error = %v, want the provider's refusal (*exchange.TokenError)", err)
	}
	t.Logf("the provider refused the login without DPoP: %v", err)
}
