package providertest_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

func TestRegisterClientValidation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	priv := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: clientKey(), KeyID: "priv"}}}
	pub := publicJWKS([]string{"k"}, clientKey())
	for _, tc := range []struct {
		name string
		c    providertest.Client
	}{
		{"no ID", providertest.Client{JWKS: pub}},
		{"no keys", providertest.Client{ID: "x"}},
		{"two key sources", providertest.Client{ID: "x", JWKS: pub, JWKSURL: "https://x.example/jwks"}},
		{"private key", providertest.Client{ID: "x", JWKS: priv}},
		{"alg none", providertest.Client{ID: "x", JWKS: pub, Algorithms: []jwks.Algorithm{"none"}}},
		{"alg HS256", providertest.Client{ID: "x", JWKS: pub, Algorithms: []jwks.Algorithm{"HS256"}}},
		{"unknown grant", providertest.Client{ID: "x", JWKS: pub, GrantTypes: []string{"password"}}},
		{"relative redirect", providertest.Client{ID: "x", JWKS: pub, RedirectURIs: []string{"/cb"}}},
		{"redirect with fragment", providertest.Client{ID: "x", JWKS: pub, RedirectURIs: []string{"https://a.example/cb#f"}}},
		{"jwks_uri not a URL", providertest.Client{ID: "x", JWKSURL: "jwks.json"}},
		{"JWKS JSON without a usable key", providertest.Client{ID: "x", JWKSJSON: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}},
	} {
		if err := s.RegisterClient(tc.c); err == nil {
			t.Errorf("RegisterClient(%s) = nil, want an error", tc.name)
		}
	}
	if _, err := providertest.Start(providertest.Config{IssuerPath: "tenant"}); err == nil {
		t.Errorf("Start with an issuer path without a leading slash = nil error")
	}
	if _, err := providertest.Start(providertest.Config{IDTokenAlgorithm: jwks.RS512}); err == nil {
		t.Errorf("Start with RS512 ID tokens = nil error")
	}
}

// TestClientJWKSJSON registers raw JSON holding unusable keys beside the
// real one: they are skipped.
func TestClientJWKSJSON(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	real, _ := json.Marshal(jose.JSONWebKey{Key: clientKey().Public(), KeyID: clientKID, Use: "sig"})
	enc, _ := json.Marshal(jose.JSONWebKey{Key: testkeys.Signer(testkeys.RSA2048B).Public(), KeyID: "enc", Use: "enc"})
	doc := `{"keys":[{"kty":"EC","crv":"secp256k1","x":"eb5mfvncu6xVoGKVzocLBwKb_NstzijZWfKBWxb4F5g","y":"SDradyajxGVdpPv8DhEIqP0XtEimhVQZnEfQj_sQ1Lg"},` + string(enc) + `,` + string(real) + `]}`
	c := testClient()
	c.ID, c.JWKS, c.JWKSJSON = "json-client", jose.JSONWebKeySet{}, []byte(doc)
	if err := s.RegisterClient(c); err != nil {
		t.Fatal(err)
	}
	cl := claims(s, t0)
	cl["iss"], cl["sub"] = "json-client", "json-client"
	if st, _, _ := post(t, s, tokenForm(signJWS(t, clientKey(), jose.RS256, clientKID, nil, cl)), nil); st != 200 {
		t.Errorf("status %d reason %v", st, lastReason(t, s))
	}
	cl["jti"] = nextJTI()
	if st, _, _ := post(t, s, tokenForm(signJWS(t, testkeys.Signer(testkeys.RSA2048B), jose.RS256, "enc", nil, cl)), nil); st != 401 || !errors.Is(lastReason(t, s), providertest.ErrUnknownKey) {
		t.Errorf("signed by the enc key: status %d reason %v", st, lastReason(t, s))
	}
}

// jwksHost serves a client's JWKS that the test can replace.
type jwksHost struct {
	mu      sync.Mutex
	set     jose.JSONWebKeySet
	noCache int
	status  int
	cache   string // Cache-Control of the response, when set
}

func (h *jwksHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("Cache-Control") == "no-cache" {
		h.noCache++
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
		return
	}
	if h.cache != "" {
		w.Header().Set("Cache-Control", h.cache)
	}
	json.NewEncoder(w).Encode(h.set)
}

func TestClientJWKSURL(t *testing.T) {
	t.Parallel()
	host := &jwksHost{set: publicJWKS([]string{"k1"}, clientKey())}
	hs := httptest.NewServer(host)
	t.Cleanup(hs.Close)
	s, clk := newServer(t, providertest.Config{ClientJWKSMaxAge: 10 * time.Minute, ClientJWKSMinRefresh: time.Minute})
	c := testClient()
	c.ID, c.JWKS, c.JWKSURL = "remote", jose.JSONWebKeySet{}, hs.URL+"/jwks"
	if err := s.RegisterClient(c); err != nil {
		t.Fatal(err)
	}
	send := func(key string, kid string) (int, error) {
		cl := claims(s, clk.Now())
		cl["iss"], cl["sub"] = "remote", "remote"
		signer := clientKey()
		if key == "B" {
			signer = testkeys.Signer(testkeys.RSA2048B)
		}
		st, _, _ := post(t, s, tokenForm(signJWS(t, signer, jose.RS256, kid, nil, cl)), nil)
		if st == 200 {
			return st, nil
		}
		return st, lastReason(t, s)
	}
	fetches := func() int { return s.Count(providertest.EndpointClientJWKS) }
	if st, err := send("A", "k1"); st != 200 || fetches() != 1 {
		t.Fatalf("first: %d %v, %d fetches", st, err, fetches())
	}
	if st, err := send("A", "k1"); st != 200 || fetches() != 1 {
		t.Errorf("cached: %d %v, %d fetches, want 1", st, err, fetches())
	}
	// The client rotates to k2. Within the minimum refresh interval the
	// server does not refetch.
	host.mu.Lock()
	host.set = publicJWKS([]string{"k2"}, testkeys.Signer(testkeys.RSA2048B))
	host.mu.Unlock()
	if st, err := send("B", "k2"); st != 401 || !errors.Is(err, providertest.ErrUnknownKey) || fetches() != 1 {
		t.Errorf("unknown kid within the interval: %d %v, %d fetches", st, err, fetches())
	}
	clk.Advance(time.Minute)
	if st, err := send("B", "k2"); st != 200 || fetches() != 2 || host.noCache != 1 {
		t.Errorf("unknown kid after the interval: %d %v, %d fetches, %d no-cache", st, err, fetches(), host.noCache)
	}
	// k1 is gone from the fresh set.
	if st, err := send("A", "k1"); st != 401 || !errors.Is(err, providertest.ErrUnknownKey) {
		t.Errorf("retired kid: %d %v", st, err)
	}
	// After the maximum age the set is fetched again, even for a known kid.
	clk.Advance(10 * time.Minute)
	host.mu.Lock()
	host.status = 500
	host.mu.Unlock()
	n := fetches()
	if st, err := send("B", "k2"); st != 401 || !errors.Is(err, providertest.ErrClientJWKS) || fetches() != n+1 {
		t.Errorf("expired cache with a failing jwks_uri: %d %v, %d fetches", st, err, fetches())
	}
	// The failure is not retried within the minimum interval, then is.
	host.mu.Lock()
	host.status = 0
	host.mu.Unlock()
	if st, err := send("B", "k2"); st != 401 || !errors.Is(err, providertest.ErrClientJWKS) || fetches() != n+1 {
		t.Errorf("retry within the interval: %d %v, %d fetches", st, err, fetches())
	}
	clk.Advance(time.Minute)
	if st, err := send("B", "k2"); st != 200 || fetches() != n+2 {
		t.Errorf("retry after the interval: %d %v, %d fetches", st, err, fetches())
	}
}

// TestClientJWKSURLMaxAge: like oidc-provider, the server keeps a client's
// set for its Cache-Control max-age and does not refetch on an unknown kid
// before then, so a key published less than max-age before use is refused.
func TestClientJWKSURLMaxAge(t *testing.T) {
	t.Parallel()
	host := &jwksHost{set: publicJWKS([]string{"k1"}, clientKey()), cache: "public, max-age=600"}
	hs := httptest.NewServer(host)
	t.Cleanup(hs.Close)
	s, clk := newServer(t, providertest.Config{ClientJWKSMaxAge: 5 * time.Minute, ClientJWKSMinRefresh: time.Minute})
	c := testClient()
	c.ID, c.JWKS, c.JWKSURL = "remote", jose.JSONWebKeySet{}, hs.URL+"/jwks"
	if err := s.RegisterClient(c); err != nil {
		t.Fatal(err)
	}
	send := func(signer crypto.Signer, kid string) (int, error) {
		cl := claims(s, clk.Now())
		cl["iss"], cl["sub"] = "remote", "remote"
		st, _, _ := post(t, s, tokenForm(signJWS(t, signer, jose.RS256, kid, nil, cl)), nil)
		if st == 200 {
			return st, nil
		}
		return st, lastReason(t, s)
	}
	fetches := func() int { return s.Count(providertest.EndpointClientJWKS) }
	if st, err := send(clientKey(), "k1"); st != 200 || fetches() != 1 {
		t.Fatalf("first: %d %v, %d fetches", st, err, fetches())
	}
	host.mu.Lock()
	host.set = publicJWKS([]string{"k2"}, testkeys.Signer(testkeys.RSA2048B))
	host.mu.Unlock()
	// Past the server's own minimum interval (1m) and maximum age (5m), but
	// within the set's max-age (10m): no refetch.
	clk.Advance(6 * time.Minute)
	if st, err := send(testkeys.Signer(testkeys.RSA2048B), "k2"); st != 401 || !errors.Is(err, providertest.ErrUnknownKey) || fetches() != 1 {
		t.Errorf("unknown kid within max-age: %d %v, %d fetches, want 401 ErrUnknownKey and 1 fetch", st, err, fetches())
	}
	clk.Advance(4 * time.Minute)
	if st, err := send(testkeys.Signer(testkeys.RSA2048B), "k2"); st != 200 || fetches() != 2 {
		t.Errorf("unknown kid after max-age: %d %v, %d fetches, want 200 and 2 fetches", st, err, fetches())
	}
}

// TestConcurrentTokenRequests sends 1,000 token requests in parallel: 900
// distinct assertions, and 100 of them a second time. Exactly one of each
// pair succeeds, so the jti check-and-remember is atomic.
func TestConcurrentTokenRequests(t *testing.T) {
	t.Parallel()
	edKey := testkeys.Signer(testkeys.Ed25519A)
	c := testClient()
	c.ID, c.JWKS, c.Algorithms = "ed-client", publicJWKS([]string{"ed"}, edKey), []jwks.Algorithm{jwks.EdDSA}
	s, _ := newServer(t, providertest.Config{Clients: []providertest.Client{c}})
	const n, replays = 900, 100
	forms := make([]string, n)
	for i := range forms {
		cl := claims(s, t0)
		cl["iss"], cl["sub"] = "ed-client", "ed-client"
		forms[i] = tokenForm(signJWS(t, edKey, jose.EdDSA, "ed", nil, cl)).Encode()
	}
	hc := s.HTTPClient()
	hc.Transport = &http.Transport{MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64}
	t.Cleanup(hc.CloseIdleConnections)
	var ok, replay, other atomic.Int64
	var tokens sync.Map
	var wg sync.WaitGroup
	for i := range n + replays {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.TokenEndpoint(), strings.NewReader(forms[i%n]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := hc.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			io.Copy(io.Discard, resp.Body) // so that the connection is reused
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				if _, dup := tokens.LoadOrStore(body["access_token"], true); dup {
					other.Add(1)
				}
				ok.Add(1)
			case resp.StatusCode == 401:
				replay.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != n || replay.Load() != replays || other.Load() != 0 {
		t.Errorf("accepted %d, refused %d, other %d; want %d, %d, 0", ok.Load(), replay.Load(), other.Load(), n, replays)
	}
	if got := s.Count(providertest.EndpointToken); got != n+replays {
		t.Errorf("Count(token) = %d, want %d", got, n+replays)
	}
	for _, r := range s.Refusals() {
		if !errors.Is(r.Reason, providertest.ErrReplay) {
			t.Errorf("refusal %v, want ErrReplay", r.Reason)
			break
		}
	}
}
