package providertest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// handJWT builds a compact JWS by hand from header and claims, with the
// given signature bytes.
func handJWT(header, c map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(c)
	return b64(h) + "." + b64(p) + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	now := t0
	key := clientKey()
	other := testkeys.Signer(testkeys.RSA2048B)
	sign := func(mod func(c map[string]any)) string {
		c := claims(s, now)
		if mod != nil {
			mod(c)
		}
		return signJWS(t, key, jose.RS256, clientKID, nil, c)
	}
	pubPEM := func() []byte {
		der, _ := x509.MarshalPKIXPublicKey(key.Public())
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	hs256 := func(secret []byte) string {
		h, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": clientKID, "typ": "JWT"})
		p, _ := json.Marshal(claims(s, now))
		in := b64(h) + "." + b64(p)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	replayed := sign(nil)
	if st, body, _ := post(t, s, tokenForm(replayed), nil); st != 200 {
		t.Fatalf("first use of an assertion: %d %v", st, body)
	}

	tests := []struct {
		name string
		form func() url.Values
		hdr  http.Header
		want error // nil: accepted
	}{
		{name: "valid", form: func() url.Values { return tokenForm(sign(nil)) }},
		{name: "Authorization header beside the assertion", form: func() url.Values { return tokenForm(sign(nil)) },
			hdr: http.Header{"Authorization": {"Basic " + b64([]byte(clientID+":secret"))}}, want: providertest.ErrMultipleAuthMethods},
		{name: "client_secret beside the assertion", form: func() url.Values {
			f := tokenForm(sign(nil))
			f.Set("client_secret", "secret")
			return f
		}, want: providertest.ErrMultipleAuthMethods},
		{name: "client_secret alone", form: func() url.Values {
			return url.Values{"grant_type": {providertest.GrantClientCredentials}, "client_id": {clientID}, "client_secret": {"s"}}
		}, want: providertest.ErrMultipleAuthMethods},
		{name: "no authentication", form: func() url.Values {
			return url.Values{"grant_type": {providertest.GrantClientCredentials}, "client_id": {clientID}}
		}, want: providertest.ErrNoClientAuthentication},
		{name: "assertion type missing", form: func() url.Values {
			f := tokenForm(sign(nil))
			f.Del("client_assertion_type")
			return f
		}, want: providertest.ErrAssertionType},
		{name: "assertion type not exact", form: func() url.Values {
			f := tokenForm(sign(nil))
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:JWT-bearer")
			return f
		}, want: providertest.ErrAssertionType},
		{name: "JSON serialization", form: func() url.Values {
			parts := strings.Split(sign(nil), ".")
			js, _ := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
			return tokenForm(string(js))
		}, want: providertest.ErrMalformedAssertion},
		{name: "two parts", form: func() url.Values {
			a := sign(nil)
			return tokenForm(a[:strings.LastIndex(a, ".")])
		}, want: providertest.ErrMalformedAssertion},
		{name: "padded base64", form: func() url.Values {
			parts := strings.Split(sign(nil), ".")
			return tokenForm(parts[0] + "==." + parts[1] + "." + parts[2])
		}, want: providertest.ErrMalformedAssertion},
		{name: "crit header", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS256, clientKID, map[string]any{"crit": []string{"exp"}}, claims(s, now)))
		}, want: providertest.ErrMalformedAssertion},
		{name: "repeated claim", form: func() url.Values {
			c := claims(s, now)
			p, _ := json.Marshal(c)
			p = append(p[:len(p)-1], []byte(`,"sub":"someone-else"}`)...)
			h, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": clientKID})
			in := b64(h) + "." + b64(p)
			k, _ := jwks.NewKey(t.Context(), key, jwks.KeyConfig{})
			sig, _ := k.Sign(t.Context(), []byte(in))
			return tokenForm(in + "." + b64(sig))
		}, want: providertest.ErrMalformedAssertion},
		{name: "unknown client", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["iss"], c["sub"] = "nobody", "nobody" }))
		}, want: providertest.ErrUnknownClient},
		{name: "alg none", form: func() url.Values {
			return tokenForm(handJWT(map[string]any{"alg": "none", "kid": clientKID}, claims(s, now), nil))
		}, want: providertest.ErrAlgorithm},
		{name: "alg none with a signature", form: func() url.Values {
			return tokenForm(handJWT(map[string]any{"alg": "none", "kid": clientKID}, claims(s, now), []byte("sig")))
		}, want: providertest.ErrAlgorithm},
		{name: "HS256 keyed with the public key PEM", form: func() url.Values { return tokenForm(hs256(pubPEM())) }, want: providertest.ErrAlgorithm},
		{name: "alg not allowed for the client", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS512, clientKID, nil, claims(s, now)))
		}, want: providertest.ErrAlgorithm},
		{name: "unknown kid", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS256, "no-such-kid", nil, claims(s, now)))
		}, want: providertest.ErrUnknownKey},
		{name: "ES256 not allowed for the client", form: func() url.Values {
			return tokenForm(signJWS(t, testkeys.Signer(testkeys.P256A), jose.ES256, clientKID, nil, claims(s, now)))
		}, want: providertest.ErrAlgorithm},
		{name: "signed by another key under the client's kid", form: func() url.Values {
			return tokenForm(signJWS(t, other, jose.RS256, clientKID, nil, claims(s, now)))
		}, want: providertest.ErrSignature},
		{name: "kid absent, signed by the registered key", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS256, "", nil, claims(s, now)))
		}},
		{name: "kid absent, signed by another key", form: func() url.Values {
			return tokenForm(signJWS(t, other, jose.RS256, "", nil, claims(s, now)))
		}, want: providertest.ErrSignature},
		{name: "payload altered after signing", form: func() url.Values {
			parts := strings.Split(sign(nil), ".")
			c := claims(s, now)
			p, _ := json.Marshal(c)
			return tokenForm(parts[0] + "." + b64(p) + "." + parts[2])
		}, want: providertest.ErrSignature},
		{name: "iss not the client", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["iss"] = "someone" }))
		}, want: providertest.ErrIssuer},
		{name: "iss missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "iss") }))
		}, want: providertest.ErrIssuer},
		{name: "sub not the client", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["sub"] = "someone" }))
		}, want: providertest.ErrSubject},
		{name: "sub missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "sub") }))
		}, want: providertest.ErrSubject},
		{name: "aud the token endpoint (legacy) under the RFC 10070 policy", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["aud"] = s.TokenEndpoint() }))
		}, want: providertest.ErrAudience},
		{name: "aud mixing issuer and token endpoint", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["aud"] = []string{s.Issuer(), s.TokenEndpoint()} }))
		}, want: providertest.ErrAudience},
		{name: "aud array of the issuer alone", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["aud"] = []string{s.Issuer()} }))
		}, want: providertest.ErrAudience},
		{name: "aud issuer with a trailing slash", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["aud"] = s.Issuer() + "/" }))
		}, want: providertest.ErrAudience},
		{name: "aud missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "aud") }))
		}, want: providertest.ErrAudience},
		{name: "typ JWT", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS256, clientKID, map[string]any{"typ": "JWT"}, claims(s, now)))
		}},
		{name: "typ at+jwt", form: func() url.Values {
			return tokenForm(signJWS(t, key, jose.RS256, clientKID, map[string]any{"typ": "at+jwt"}, claims(s, now)))
		}, want: providertest.ErrType},
		{name: "exp missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "exp") }))
		}, want: providertest.ErrMissingExpiry},
		{name: "exp a string", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["exp"] = "2099-01-01" }))
		}, want: providertest.ErrMissingExpiry},
		{name: "exp past", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(-2*time.Minute).Unix(), now.Add(-time.Second).Unix()
			}))
		}, want: providertest.ErrExpired},
		{name: "exp now", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["iat"], c["exp"] = now.Add(-time.Minute).Unix(), now.Unix() }))
		}, want: providertest.ErrExpired},
		{name: "iat missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "iat") }))
		}, want: providertest.ErrMissingIssuedAt},
		{name: "iat in the future", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["iat"] = now.Add(10 * time.Second).Unix() }))
		}, want: providertest.ErrIssuedInFuture},
		{name: "lifetime too long", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["exp"] = now.Add(5*time.Minute + time.Second).Unix() }))
		}, want: providertest.ErrLifetime},
		{name: "lifetime exactly the maximum", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["exp"] = now.Add(5 * time.Minute).Unix() }))
		}},
		{name: "nbf in the future", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Second).Unix() }))
		}, want: providertest.ErrNotYetValid},
		{name: "nbf past", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["nbf"] = now.Add(-10 * time.Second).Unix() }))
		}},
		{name: "jti missing", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { delete(c, "jti") }))
		}, want: providertest.ErrMissingJTI},
		{name: "jti empty", form: func() url.Values {
			return tokenForm(sign(func(c map[string]any) { c["jti"] = "" }))
		}, want: providertest.ErrMissingJTI},
		{name: "jti replayed", form: func() url.Values { return tokenForm(replayed) }, want: providertest.ErrReplay},
		{name: "client_id equal to sub", form: func() url.Values {
			f := tokenForm(sign(nil))
			f.Set("client_id", clientID)
			return f
		}},
		{name: "client_id differs from sub", form: func() url.Values {
			f := tokenForm(sign(nil))
			f.Set("client_id", "client-2")
			return f
		}, want: providertest.ErrClientIDMismatch},
	}
	// A second client, so that client_id naming it reaches the sub check.
	c2 := testClient()
	c2.ID = "client-2"
	if err := s.RegisterClient(c2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		form := tc.form()
		st, body, hdr := post(t, s, form, tc.hdr)
		if tc.want == nil {
			if st != 200 {
				r, _ := s.LastRefusal()
				t.Errorf("%s: status %d %v (reason %v), want 200", tc.name, st, body, r.Reason)
			}
			continue
		}
		if st != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s: status %d error %v, want 401 invalid_client", tc.name, st, body["error"])
			continue
		}
		if hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate header", tc.name)
		}
		r, ok := s.LastRefusal()
		if !ok || !errors.Is(r.Reason, tc.want) || r.Code != "invalid_client" || r.Endpoint != providertest.EndpointToken {
			t.Errorf("%s: refusal %+v, want reason %v", tc.name, r, tc.want)
		}
		// Neither the answer nor the recorded reason repeats the assertion.
		a := form.Get("client_assertion")
		if sig := a[strings.LastIndex(a, ".")+1:]; len(sig) > 8 && (strings.Contains(r.Reason.Error(), sig) || strings.Contains(toJSON(body), sig)) {
			t.Errorf("%s: the refusal repeats the assertion's signature", tc.name)
		}
	}
}

func TestAudiencePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy     providertest.AudiencePolicy
		issuerOK   bool
		endpointOK bool
		issuerPath string
	}{
		{providertest.AudienceIssuer, true, false, "/t/"},
		{providertest.AudienceTokenEndpoint, false, true, ""},
		{providertest.AudienceIssuerOrTokenEndpoint, true, true, "/t"},
	} {
		s, _ := newServer(t, providertest.Config{Audience: tc.policy, IssuerPath: tc.issuerPath})
		for aud, ok := range map[string]bool{s.Issuer(): tc.issuerOK, s.TokenEndpoint(): tc.endpointOK, s.URL(): false} {
			c := claims(s, t0)
			c["aud"] = aud
			st, _, _ := post(t, s, tokenForm(signJWS(t, clientKey(), jose.RS256, clientKID, nil, c)), nil)
			if (st == 200) != ok {
				t.Errorf("policy %d, aud %q: status %d, want accepted=%v", tc.policy, aud, st, ok)
			}
			if !ok && !errors.Is(lastReason(t, s), providertest.ErrAudience) {
				t.Errorf("policy %d, aud %q: reason %v", tc.policy, aud, lastReason(t, s))
			}
		}
	}
}

func TestClockSkewAndLifetime(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{ClockSkew: 30 * time.Second, MaxAssertionLifetime: time.Minute})
	for _, tc := range []struct {
		name     string
		iat, exp time.Duration // relative to now
		want     error
	}{
		{"expired within skew", -50 * time.Second, -10 * time.Second, nil},
		{"expired beyond skew", -50 * time.Second, -31 * time.Second, providertest.ErrExpired},
		{"iat ahead within skew", 20 * time.Second, 50 * time.Second, nil},
		{"iat ahead beyond skew", 31 * time.Second, 50 * time.Second, providertest.ErrIssuedInFuture},
		{"lifetime over the configured maximum", 0, time.Minute + time.Second, providertest.ErrLifetime},
		{"exp before iat", 0, -time.Second, providertest.ErrLifetime},
	} {
		c := claims(s, t0)
		c["iat"], c["exp"] = t0.Add(tc.iat).Unix(), t0.Add(tc.exp).Unix()
		st, _, _ := post(t, s, tokenForm(signJWS(t, clientKey(), jose.RS256, clientKID, nil, c)), nil)
		if tc.want == nil {
			if st != 200 {
				t.Errorf("%s: status %d (%v), want 200", tc.name, st, lastReason(t, s))
			}
			continue
		}
		if st != 401 || !errors.Is(lastReason(t, s), tc.want) {
			t.Errorf("%s: status %d reason %v, want %v", tc.name, st, lastReason(t, s), tc.want)
		}
	}
}

// TestReplayRememberedUntilExp checks that a jti is refused while its
// assertion could still be valid, and that memory is bounded.
func TestReplayBoundedMemory(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{MaxJTIs: 2})
	a1, a2 := assertion(t, s, t0), assertion(t, s, t0)
	for _, a := range []string{a1, a2} {
		if st, _, _ := post(t, s, tokenForm(a), nil); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, t0)), nil); st != 401 || !errors.Is(lastReason(t, s), providertest.ErrReplayCacheFull) {
		t.Errorf("third distinct jti with a full cache: status %d reason %v, want ErrReplayCacheFull", st, lastReason(t, s))
	}
	clk.Advance(time.Minute) // a1 and a2 expire
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, clk.Now())), nil); st != 200 {
		t.Errorf("after expiry: status %d reason %v", st, lastReason(t, s))
	}
}

func TestLastAssertionRefused(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	c := claims(s, t0)
	c["aud"] = "https://elsewhere.example"
	post(t, s, tokenForm(signJWS(t, clientKey(), jose.RS256, clientKID, nil, c)), nil)
	a, ok := s.LastAssertion()
	if !ok || a.Accepted || !errors.Is(a.Err, providertest.ErrAudience) || a.Claims["aud"] != "https://elsewhere.example" || a.Header["typ"] != "client-authentication+jwt" || a.ClientID != clientID {
		t.Errorf("LastAssertion() = %+v, %v", a, ok)
	}
}

func TestRequireExplicitTyping(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{RequireExplicitTyping: true})
	for _, tc := range []struct {
		typ  any // nil: absent
		want bool
	}{
		{"client-authentication+jwt", true},
		{"application/Client-Authentication+JWT", true},
		{"JWT", false},
		{nil, false},
		{42, false},
	} {
		h := map[string]any{"typ": tc.typ}
		c := claims(s, t0)
		var a string
		if tc.typ == nil {
			// go-jose's WithType always sets typ; build this one by hand.
			k, _ := jwks.NewKey(t.Context(), clientKey(), jwks.KeyConfig{KeyID: clientKID})
			hj, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": clientKID})
			pj, _ := json.Marshal(c)
			in := b64(hj) + "." + b64(pj)
			sig, _ := k.Sign(t.Context(), []byte(in))
			a = in + "." + b64(sig)
		} else {
			a = signJWS(t, clientKey(), jose.RS256, clientKID, h, c)
		}
		st, _, _ := post(t, s, tokenForm(a), nil)
		if (st == 200) != tc.want {
			t.Errorf("typ %v: status %d, want accepted=%v", tc.typ, st, tc.want)
		}
		if !tc.want && !errors.Is(lastReason(t, s), providertest.ErrType) {
			t.Errorf("typ %v: reason %v", tc.typ, lastReason(t, s))
		}
	}
}

// TestSecondMethodSpendsJTI: an assertion sent beside an Authorization
// header is refused, and resending it alone is a replay — what a client
// using x/oauth2's AuthStyleAutoDetect would do.
func TestSecondMethodSpendsJTI(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	a := assertion(t, s, t0)
	hdr := http.Header{"Authorization": {"Basic " + b64([]byte(clientID+":"))}}
	if st, _, _ := post(t, s, tokenForm(a), hdr); st != 401 || !errors.Is(lastReason(t, s), providertest.ErrMultipleAuthMethods) {
		t.Fatalf("with a header: %d %v", st, lastReason(t, s))
	}
	if la, ok := s.LastAssertion(); !ok || la.Accepted || !errors.Is(la.Err, providertest.ErrMultipleAuthMethods) {
		t.Errorf("LastAssertion() = %+v", la)
	}
	if st, _, _ := post(t, s, tokenForm(a), nil); st != 401 || !errors.Is(lastReason(t, s), providertest.ErrReplay) {
		t.Errorf("resent alone: %d %v, want ErrReplay", st, lastReason(t, s))
	}
}

// TestClientAuthAlgorithms: by default the server accepts, and advertises,
// only what oidc-provider accepts by default (RS256, PS256, ES256, EdDSA),
// so an ES384 assertion that a real provider refuses is refused here too;
// Config.ClientAuthAlgorithms widens the list.
func TestClientAuthAlgorithms(t *testing.T) {
	t.Parallel()
	p384 := testkeys.Signer(testkeys.P384)
	es384Client := providertest.Client{ID: "es384", JWKS: publicJWKS([]string{"k384"}, p384), GrantTypes: []string{providertest.GrantClientCredentials}}
	es384Assertion := func(s *providertest.Server) string {
		c := claims(s, t0)
		c["iss"], c["sub"] = "es384", "es384"
		return signJWS(t, p384, jose.ES384, "k384", nil, c)
	}
	advertised := func(s *providertest.Server) []any {
		resp, err := s.HTTPClient().Get(s.DiscoveryURL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		algs, _ := doc["token_endpoint_auth_signing_alg_values_supported"].([]any)
		return algs
	}

	t.Run("default", func(t *testing.T) {
		s, _ := newServer(t, providertest.Config{})
		if got := fmt.Sprint(advertised(s)); got != "[RS256 PS256 ES256 EdDSA]" {
			t.Errorf("advertised %s, want [RS256 PS256 ES256 EdDSA]", got)
		}
		// A client with no Algorithms gets the server's list: ES384 is not in it.
		if err := s.RegisterClient(es384Client); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := post(t, s, tokenForm(es384Assertion(s)), nil); st != 401 || !errors.Is(lastReason(t, s), providertest.ErrAlgorithm) {
			t.Errorf("ES384 assertion: status %d reason %v, want 401 ErrAlgorithm", st, lastReason(t, s))
		}
		// Asking for ES384 explicitly is a registration error.
		c := es384Client
		c.Algorithms = []jwks.Algorithm{jwks.ES384}
		if err := s.RegisterClient(c); err == nil {
			t.Error("RegisterClient with ES384 outside ClientAuthAlgorithms = nil error")
		}
	})
	t.Run("widened", func(t *testing.T) {
		s, _ := newServer(t, providertest.Config{ClientAuthAlgorithms: []jwks.Algorithm{jwks.RS256, jwks.PS256, jwks.ES384}})
		if got := fmt.Sprint(advertised(s)); got != "[RS256 PS256 ES384]" {
			t.Errorf("advertised %s, want [RS256 PS256 ES384]", got)
		}
		if err := s.RegisterClient(es384Client); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := post(t, s, tokenForm(es384Assertion(s)), nil); st != 200 {
			t.Errorf("ES384 assertion: status %d reason %v, want 200", st, lastReason(t, s))
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, algs := range [][]jwks.Algorithm{{"none"}, {"HS256"}, {jwks.RS256, "XS999"}} {
			if _, err := providertest.Start(providertest.Config{ClientAuthAlgorithms: algs}); err == nil {
				t.Errorf("Start with ClientAuthAlgorithms %v = nil error", algs)
			}
		}
	})
}
