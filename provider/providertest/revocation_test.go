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

const otherClientID = "client-2"

// otherClient is a second registered client, with the same key.
func otherClient() providertest.Client {
	c := testClient()
	c.ID = otherClientID
	return c
}

// assertionFor is a valid client assertion for client id.
func assertionFor(t *testing.T, s *providertest.Server, id string) string {
	c := claims(s, t0)
	c["iss"], c["sub"] = id, id
	return signJWS(t, clientKey(), jose.RS256, clientKID, nil, c)
}

// authForm is form with a client assertion for client id.
func authForm(t *testing.T, s *providertest.Server, id string, form url.Values) url.Values {
	form.Set("client_assertion_type", providertest.ClientAssertionType)
	form.Set("client_assertion", assertionFor(t, s, id))
	return form
}

// postForm POSTs form to u and returns the status, body and headers.
func postForm(t *testing.T, s *providertest.Server, u string, form url.Values) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// revoke revokes tok as client id and checks the 200.
func revoke(t *testing.T, s *providertest.Server, id, tok string) {
	t.Helper()
	st, body, _ := postForm(t, s, s.RevocationEndpoint(), authForm(t, s, id, url.Values{"token": {tok}}))
	if st != 200 || len(body) != 0 {
		t.Fatalf("revoke as %s: status %d body %q, want 200 and no body", id, st, body)
	}
}

// introspect introspects tok as client id.
func introspect(t *testing.T, s *providertest.Server, id, tok string) map[string]any {
	t.Helper()
	st, body, h := postForm(t, s, s.IntrospectionEndpoint(), authForm(t, s, id, url.Values{"token": {tok}, "token_type_hint": {"access_token"}}))
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("Cache-Control") != "no-store" {
		r, _ := s.LastRefusal()
		t.Fatalf("introspect as %s: status %d, type %q, cache %q, refusal %v", id, st, h.Get("Content-Type"), h.Get("Cache-Control"), r.Reason)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("introspection response is not JSON: %v", err)
	}
	return m
}

// refresh redeems rt as the test client.
func refresh(t *testing.T, s *providertest.Server, rt string) (int, map[string]any) {
	t.Helper()
	st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {rt}}), nil)
	return st, body
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{Clients: []providertest.Client{testClient(), otherClient()}})
	first := login(t, s, t0)
	at1, rt1 := first["access_token"].(string), first["refresh_token"].(string)
	st, second := refresh(t, s, rt1)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, second)
	}
	at2, rt2 := second["access_token"].(string), second["refresh_token"].(string)

	// Another client's revocation is answered 200 and does nothing.
	revoke(t, s, otherClientID, at1)
	revoke(t, s, otherClientID, rt2)
	revoke(t, s, clientID, "never-issued")
	if introspect(t, s, clientID, at1)["active"] != true || introspect(t, s, clientID, rt2)["active"] != true {
		t.Fatalf("tokens revoked by another client")
	}

	// An access token alone.
	revoke(t, s, clientID, at2)
	if introspect(t, s, clientID, at2)["active"] != false {
		t.Errorf("revoked access token still active")
	}
	if st, _, _ := userinfo(t, s, at2); st != 401 {
		t.Errorf("userinfo with a revoked access token: %d, want 401", st)
	}
	if introspect(t, s, clientID, at1)["active"] != true {
		t.Errorf("revoking one access token revoked another")
	}

	// A refresh token: its family with it.
	revoke(t, s, clientID, rt2)
	if introspect(t, s, clientID, at1)["active"] != false {
		t.Errorf("revoking the refresh token left an access token of its family active")
	}
	if st, body := refresh(t, s, rt2); st != 400 || !errors.Is(lastReason(t, s), providertest.ErrInvalidRefreshToken) {
		t.Errorf("refresh with a revoked refresh token: %d %v reason %v", st, body, lastReason(t, s))
	}
	if got := s.Count(providertest.EndpointRevocation); got != 5 {
		t.Errorf("Count(EndpointRevocation) = %d, want 5", got)
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	for _, format := range []providertest.TokenFormat{providertest.TokenOpaque, providertest.TokenJWT} {
		s, clk := newServer(t, providertest.Config{AccessTokens: format, AccessTokenLifetime: 30 * time.Second, Clients: []providertest.Client{testClient(), otherClient()}})
		tok := login(t, s, t0)
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		got := introspect(t, s, clientID, at)
		want := map[string]any{
			"active": true, "sub": "248289761001", "client_id": clientID, "scope": "openid email", "token_type": "Bearer",
			"iss": s.Issuer(), "aud": clientID, "iat": float64(t0.Unix()), "exp": float64(t0.Add(30 * time.Second).Unix()),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("format %d: introspection %s = %v, want %v", format, k, got[k], v)
			}
		}
		if _, hasJTI := got["jti"]; hasJTI != (format == providertest.TokenJWT) {
			t.Errorf("format %d: introspection jti present %v", format, hasJTI)
		}
		if got := introspect(t, s, clientID, rt); got["active"] != true || got["sub"] != "248289761001" || got["token_type"] != nil {
			t.Errorf("format %d: refresh token introspection %v", format, got)
		}
		for name, tc := range map[string]struct{ client, token string }{
			"another client's token": {otherClientID, at},
			"unknown token":          {clientID, "never-issued"},
			"ID token":               {clientID, tok["id_token"].(string)},
		} {
			if got := introspect(t, s, tc.client, tc.token); len(got) != 1 || got["active"] != false {
				t.Errorf("format %d: %s: %v, want only active false", format, name, got)
			}
		}
		clk.Advance(30 * time.Second) // the assertions, valid a minute, are still fresh
		if got := introspect(t, s, clientID, at); got["active"] != false {
			t.Errorf("format %d: expired access token: %v", format, got)
		}
	}
}

// TestRevocationIntrospectionRefusals checks the client authentication and
// request checks of both endpoints.
func TestRevocationIntrospectionRefusals(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	replayed := assertion(t, s, t0)
	for _, ep := range []struct {
		e providertest.Endpoint
		u string
	}{
		{providertest.EndpointRevocation, s.RevocationEndpoint()},
		{providertest.EndpointIntrospection, s.IntrospectionEndpoint()},
	} {
		withAssertion := func(a string) url.Values {
			return url.Values{"token": {"t"}, "client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {a}}
		}
		wrongAud := claims(s, t0)
		wrongAud["aud"] = s.TokenEndpoint()
		for _, tc := range []struct {
			name     string
			form     url.Values
			status   int
			code     string
			want     error
			noSecret bool
		}{
			{"no client authentication", url.Values{"token": {"t"}}, 401, "invalid_client", providertest.ErrNoClientAuthentication, false},
			{"client secret", url.Values{"token": {"t"}, "client_id": {clientID}, "client_secret": {"s"}}, 401, "invalid_client", providertest.ErrMultipleAuthMethods, false},
			{"fresh assertion", withAssertion(replayed), 200, "", nil, false},
			{"replayed assertion", withAssertion(replayed), 401, "invalid_client", providertest.ErrReplay, false},
			{"assertion for the token endpoint", withAssertion(signJWS(t, clientKey(), jose.RS256, clientKID, nil, wrongAud)), 401, "invalid_client", providertest.ErrAudience, false},
			{"unknown client", authForm(t, s, "nobody", url.Values{"token": {"t"}}), 401, "invalid_client", providertest.ErrUnknownClient, false},
			{"no token", withAuth(t, s, url.Values{}), 400, "invalid_request", providertest.ErrInvalidRequest, false},
		} {
			if tc.name == "fresh assertion" {
				replayed = assertion(t, s, t0) // a new one for the next endpoint
			}
			n := len(s.Refusals())
			st, body, h := postForm(t, s, ep.u, tc.form)
			if st != tc.status {
				t.Errorf("%s %s: status %d, want %d (%s)", ep.e, tc.name, st, tc.status, body)
				continue
			}
			if tc.want == nil {
				if len(s.Refusals()) != n {
					t.Errorf("%s %s: a refusal was recorded", ep.e, tc.name)
				}
				continue
			}
			var m map[string]any
			json.Unmarshal(body, &m)
			r, _ := s.LastRefusal()
			if m["error"] != tc.code || r.Endpoint != ep.e || !errors.Is(r.Reason, tc.want) {
				t.Errorf("%s %s: error %v, refusal at %s reason %v; want %s, %v", ep.e, tc.name, m["error"], r.Endpoint, r.Reason, tc.code, tc.want)
			}
			if tc.status == 401 && !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_client"`) {
				t.Errorf("%s %s: WWW-Authenticate %q", ep.e, tc.name, h.Get("WWW-Authenticate"))
			}
		}
		// GET is refused.
		resp, err := s.HTTPClient().Get(ep.u + "?token=t")
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if r, _ := s.LastRefusal(); resp.StatusCode != 400 || r.Endpoint != ep.e || !errors.Is(r.Reason, providertest.ErrInvalidRequest) {
			t.Errorf("%s GET: status %d reason %v", ep.e, resp.StatusCode, r.Reason)
		}
	}
}
