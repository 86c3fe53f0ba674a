package providertest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// parForm is a valid pushed authorization request with a client assertion.
func parForm(t *testing.T, s *providertest.Server, challenge string) url.Values {
	u, _ := url.Parse(authURL(s, challenge, "st", "n"))
	return withAuth(t, s, u.Query())
}

// push POSTs form to the PAR endpoint without following redirects.
func push(t *testing.T, s *providertest.Server, form url.Values, hdr http.Header) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.PAREndpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

// parAuthURL is the authorization request for a pushed request.
func parAuthURL(s *providertest.Server, requestURI string) string {
	return s.AuthorizationEndpoint() + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// pushOK pushes a valid request and returns the request_uri and verifier.
func pushOK(t *testing.T, s *providertest.Server) (string, string) {
	t.Helper()
	verifier, challenge := pkce()
	st, body, _ := push(t, s, parForm(t, s, challenge), nil)
	ru, _ := body["request_uri"].(string)
	if st != 201 || !strings.HasPrefix(ru, providertest.RequestURIPrefix) {
		t.Fatalf("PAR: status %d %v, want 201 with a request_uri", st, body)
	}
	return ru, verifier
}

func TestPARFlow(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	verifier, challenge := pkce()
	st, body, h := push(t, s, parForm(t, s, challenge), nil)
	if st != 201 || body["expires_in"] != 60.0 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("PAR: status %d %v Cache-Control %q, want 201 expiring in 60", st, body, h.Get("Cache-Control"))
	}
	ru := body["request_uri"].(string)
	cb, err := s.Authorize(t.Context(), parAuthURL(s, ru))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if q := cb.Query(); q.Get("code") == "" || q.Get("state") != "st" || q.Get("iss") != s.Issuer() || !strings.HasPrefix(cb.String(), redirectURI) {
		t.Fatalf("callback %v, want the pushed redirect_uri with code, state and iss", cb)
	}
	if st, body, _ := post(t, s, codeForm(t, s, cb.Query().Get("code"), verifier), nil); st != 200 || body["id_token"] == nil {
		t.Errorf("code exchange: status %d %v", st, body)
	}
	// Single use.
	if _, err := s.Authorize(t.Context(), parAuthURL(s, ru)); !errors.Is(err, providertest.ErrNotRedirected) {
		t.Errorf("second use of request_uri: error %v, want ErrNotRedirected", err)
	}
	wantRefusal(t, s, "second use", providertest.ErrRequestURIReused)
	if n := s.Count(providertest.EndpointPAR); n != 1 {
		t.Errorf("Count(EndpointPAR) = %d, want 1", n)
	}
}

func TestPARExpiry(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{PARLifetime: 10 * time.Second})
	ru, _ := pushOK(t, s)
	clk.Advance(10 * time.Second)
	if _, err := s.Authorize(t.Context(), parAuthURL(s, ru)); !errors.Is(err, providertest.ErrNotRedirected) {
		t.Errorf("expired request_uri: error %v, want ErrNotRedirected", err)
	}
	wantRefusal(t, s, "expired request_uri", providertest.ErrRequestURIExpired)
}

func TestPARRequired(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{RequirePushedAuthorizationRequests: true})
	_, challenge := pkce()
	if _, err := s.Authorize(t.Context(), authURL(s, challenge, "st", "n")); !errors.Is(err, providertest.ErrNotRedirected) {
		t.Errorf("plain request: error %v, want ErrNotRedirected", err)
	}
	wantRefusal(t, s, "plain request", providertest.ErrPARRequired)
	ru, _ := pushOK(t, s)
	authorizeCode(t, s, parAuthURL(s, ru))
	resp, err := s.HTTPClient().Get(s.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	if doc["require_pushed_authorization_requests"] != true || doc["pushed_authorization_request_endpoint"] != s.PAREndpoint() {
		t.Errorf("discovery: require %v endpoint %v", doc["require_pushed_authorization_requests"], doc["pushed_authorization_request_endpoint"])
	}
}

func TestPARRefusals(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	_, challenge := pkce()
	tests := []struct {
		name   string
		mod    func(f url.Values)
		status int
		want   error
	}{
		{"no client authentication", func(f url.Values) { f.Del("client_assertion"); f.Del("client_assertion_type") }, 401, providertest.ErrNoClientAuthentication},
		{"aud is the PAR endpoint", func(f url.Values) {
			c := claims(s, t0)
			c["aud"] = s.PAREndpoint()
			f.Set("client_assertion", signJWS(t, clientKey(), jose.RS256, clientKID, nil, c))
		}, 401, providertest.ErrAudience},
		{"client_id differs from the assertion", func(f url.Values) { f.Set("client_id", "client-2") }, 401, providertest.ErrClientIDMismatch},
		{"request_uri inside", func(f url.Values) { f.Set("request_uri", providertest.RequestURIPrefix+"x") }, 400, providertest.ErrInvalidRequest},
		{"request object", func(f url.Values) { f.Set("request", "a.b.c") }, 400, providertest.ErrInvalidRequest},
		{"redirect_uri not registered", func(f url.Values) { f.Set("redirect_uri", redirectURI+"/x") }, 400, providertest.ErrRedirectURI},
		{"response_type token", func(f url.Values) { f.Set("response_type", "token") }, 400, providertest.ErrInvalidRequest},
		{"no openid", func(f url.Values) { f.Set("scope", "email") }, 400, providertest.ErrScope},
		{"no PKCE", func(f url.Values) { f.Del("code_challenge") }, 400, providertest.ErrPKCE},
		{"dpop_jkt malformed", func(f url.Values) { f.Set("dpop_jkt", "short") }, 400, providertest.ErrInvalidRequest},
	}
	for _, tc := range tests {
		f := parForm(t, s, challenge)
		tc.mod(f)
		if st, _, _ := push(t, s, f, nil); st != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, st, tc.status)
		}
		wantRefusal(t, s, tc.name, tc.want)
	}
	// A proof and a dpop_jkt that disagree.
	f := parForm(t, s, challenge)
	f.Set("dpop_jkt", thumbprint(t, dpopKeyB()))
	if st, _, _ := push(t, s, f, dpopHeader(proof(t, s, proofSpec{htu: s.PAREndpoint()}))); st != 400 {
		t.Errorf("dpop_jkt and proof disagree: status %d, want 400", st)
	}
	wantRefusal(t, s, "dpop_jkt and proof disagree", providertest.ErrDPoPKeyMismatch)
	// A proof for the token endpoint.
	if st, _, _ := push(t, s, parForm(t, s, challenge), dpopHeader(proof(t, s, proofSpec{}))); st != 400 {
		t.Errorf("proof for the token endpoint: status %d, want 400", st)
	}
	wantRefusal(t, s, "proof for the token endpoint", providertest.ErrDPoPURI)
	// GET is refused.
	resp, err := s.HTTPClient().Get(s.PAREndpoint())
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != 400 {
		t.Errorf("GET: status %d, want 400", resp.StatusCode)
	}

	// At the authorization endpoint.
	other := providertest.Client{ID: "client-2", JWKS: publicJWKS([]string{clientKID}, clientKey()), RedirectURIs: []string{redirectURI}}
	if err := s.RegisterClient(other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		url  func(ru string) string
		want error
	}{
		{"unknown request_uri", func(string) string { return parAuthURL(s, providertest.RequestURIPrefix+"unknown") }, providertest.ErrInvalidRequestURI},
		{"client_id missing", func(ru string) string {
			return s.AuthorizationEndpoint() + "?" + url.Values{"request_uri": {ru}}.Encode()
		}, providertest.ErrInvalidRequestURI},
		{"another client", func(ru string) string {
			return s.AuthorizationEndpoint() + "?" + url.Values{"client_id": {"client-2"}, "request_uri": {ru}}.Encode()
		}, providertest.ErrInvalidRequestURI},
		{"conflicting state", func(ru string) string { return parAuthURL(s, ru) + "&state=other" }, providertest.ErrInvalidRequestURI},
		{"conflicting redirect_uri", func(ru string) string {
			return parAuthURL(s, ru) + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb")
		}, providertest.ErrInvalidRequestURI},
	} {
		ru, _ := pushOK(t, s)
		if _, err := s.Authorize(t.Context(), tc.url(ru)); !errors.Is(err, providertest.ErrNotRedirected) {
			t.Errorf("%s: error %v, want ErrNotRedirected", tc.name, err)
		}
		wantRefusal(t, s, tc.name, tc.want)
		// A refused attempt does not spend the request_uri.
		authorizeCode(t, s, parAuthURL(s, ru))
	}
	// A parameter equal to the pushed one is accepted.
	ru, _ := pushOK(t, s)
	authorizeCode(t, s, parAuthURL(s, ru)+"&state=st&response_type=code")
}

func TestPARMisbehaviors(t *testing.T) {
	t.Parallel()
	t.Run("PARExpiredRequestURI", func(t *testing.T) {
		t.Parallel()
		s, _ := newServer(t, providertest.Config{})
		s.Misbehave(providertest.PARExpiredRequestURI)
		_, challenge := pkce()
		st, body, _ := push(t, s, parForm(t, s, challenge), nil)
		if st != 201 || body["expires_in"] != 0.0 {
			t.Fatalf("PAR: status %d %v, want 201 with expires_in 0", st, body)
		}
		if _, err := s.Authorize(t.Context(), parAuthURL(s, body["request_uri"].(string))); !errors.Is(err, providertest.ErrNotRedirected) {
			t.Errorf("Authorize: error %v, want ErrNotRedirected", err)
		}
		wantRefusal(t, s, "expired request_uri", providertest.ErrRequestURIExpired)
	})
	t.Run("PARRedirect", func(t *testing.T) {
		t.Parallel()
		s, _ := newServer(t, providertest.Config{})
		s.Misbehave(providertest.PARRedirect)
		_, challenge := pkce()
		st, _, h := push(t, s, parForm(t, s, challenge), nil)
		if st != http.StatusTemporaryRedirect || h.Get("Location") == "" || h.Get("Location") == s.PAREndpoint() {
			t.Fatalf("PAR: status %d Location %q, want 307 elsewhere", st, h.Get("Location"))
		}
		wantRefusal(t, s, "PARRedirect", providertest.ErrMisbehaving)
		if n := s.Count(providertest.EndpointPARRedirected); n != 0 {
			t.Errorf("Count(EndpointPARRedirected) = %d before following", n)
		}
		// A client that follows is counted.
		f := parForm(t, s, challenge)
		resp, err := s.HTTPClient().PostForm(s.PAREndpoint(), f)
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if n := s.Count(providertest.EndpointPARRedirected); n != 1 {
			t.Errorf("Count(EndpointPARRedirected) = %d after following, want 1", n)
		}
	})
}
