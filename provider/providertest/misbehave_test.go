package providertest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

func TestMisbehaviorNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, m := range providertest.Misbehaviors() {
		n := m.String()
		if strings.HasPrefix(n, "Misbehavior(") || seen[n] {
			t.Errorf("misbehavior %d has name %q", int(m), n)
		}
		seen[n] = true
	}
	if got := providertest.Misbehavior(0).String(); got != "Misbehavior(0)" {
		t.Errorf("Misbehavior(0).String() = %q", got)
	}
}

// verifies reports whether tok verifies with some key of set (by kid when
// the header has one) under alg.
func verifies(tok string, set jose.JSONWebKeySet, alg jose.SignatureAlgorithm) bool {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return false
	}
	kid := jws.Signatures[0].Header.KeyID
	for _, k := range set.Keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if _, err := jws.Verify(k); err == nil {
			return true
		}
	}
	return false
}

func atHash(at string) string {
	sum := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func TestIDTokenMisbehaviors(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, s *providertest.Server, resp map[string]any, h, c map[string]any)
	tests := []struct {
		m     providertest.Misbehavior
		alg   jwks.Algorithm
		check check
	}{
		{providertest.IDTokenWrongIssuer, "", func(t *testing.T, s *providertest.Server, _, _, c map[string]any) {
			if c["iss"] == s.Issuer() || c["iss"] == nil {
				t.Errorf("iss = %v", c["iss"])
			}
		}},
		{providertest.IDTokenMissingSubject, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if _, ok := c["sub"]; ok {
				t.Errorf("sub present")
			}
		}},
		{providertest.IDTokenWrongAudience, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if c["aud"] == clientID || c["aud"] == nil {
				t.Errorf("aud = %v", c["aud"])
			}
		}},
		{providertest.IDTokenMissingAudience, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if _, ok := c["aud"]; ok {
				t.Errorf("aud present")
			}
		}},
		{providertest.IDTokenExtraAudienceWithoutAZP, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			aud, _ := c["aud"].([]any)
			if _, ok := c["azp"]; len(aud) != 2 || aud[0] != clientID || ok {
				t.Errorf("aud = %v azp = %v", c["aud"], c["azp"])
			}
		}},
		{providertest.IDTokenMissingIssuedAt, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if _, ok := c["iat"]; ok {
				t.Errorf("iat present")
			}
		}},
		{providertest.IDTokenIssuedInFuture, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if c["iat"].(float64) <= float64(t0.Unix()) {
				t.Errorf("iat = %v", c["iat"])
			}
		}},
		{providertest.IDTokenExpired, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if c["exp"].(float64) >= float64(t0.Unix()) {
				t.Errorf("exp = %v", c["exp"])
			}
		}},
		{providertest.IDTokenWrongNonce, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if c["nonce"] == "nonce-1" || c["nonce"] == nil {
				t.Errorf("nonce = %v", c["nonce"])
			}
		}},
		{providertest.IDTokenMissingNonce, "", func(t *testing.T, _ *providertest.Server, _, _, c map[string]any) {
			if _, ok := c["nonce"]; ok {
				t.Errorf("nonce present")
			}
		}},
		{providertest.IDTokenAlgNone, "", func(t *testing.T, _ *providertest.Server, resp, h, _ map[string]any) {
			if h["alg"] != "none" || !strings.HasSuffix(resp["id_token"].(string), ".") {
				t.Errorf("header %v, token not ending in an empty signature", h)
			}
		}},
		{providertest.IDTokenCorruptSignature, jwks.RS256, func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			if h["alg"] != "RS256" || verifies(resp["id_token"].(string), fetchJWKS(t, s), jose.RS256) {
				t.Errorf("corrupt RS256 signature verifies (header %v)", h)
			}
		}},
		{providertest.IDTokenCorruptSignature, jwks.ES256, func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			if h["alg"] != "ES256" || verifies(resp["id_token"].(string), fetchJWKS(t, s), jose.ES256) {
				t.Errorf("corrupt ES256 signature verifies (header %v)", h)
			}
		}},
		{providertest.IDTokenHS256WithPublicKey, "", func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			tok := resp["id_token"].(string)
			i := strings.LastIndex(tok, ".")
			set := fetchJWKS(t, s)
			keys := set.Key(h["kid"].(string))
			if h["alg"] != "HS256" || len(keys) != 1 {
				t.Fatalf("header %v", h)
			}
			pem := pemOf(t, keys[0].Key)
			m := hmac.New(sha256.New, pem)
			m.Write([]byte(tok[:i]))
			if base64.RawURLEncoding.EncodeToString(m.Sum(nil)) != tok[i+1:] {
				t.Errorf("HS256 signature is not keyed with the public key PEM")
			}
		}},
		{providertest.IDTokenUnpublishedKey, "", func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			set := fetchJWKS(t, s)
			if kid, _ := h["kid"].(string); kid == "" || len(set.Key(kid)) != 0 || verifies(resp["id_token"].(string), set, jose.RS256) {
				t.Errorf("kid %v is published or the token verifies", h["kid"])
			}
		}},
		{providertest.IDTokenNoKIDOneKey, "", func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			set := fetchJWKS(t, s)
			if _, ok := h["kid"]; ok || len(set.Keys) != 1 || !verifies(resp["id_token"].(string), set, jose.RS256) {
				t.Errorf("header %v, %d keys published", h, len(set.Keys))
			}
		}},
		{providertest.IDTokenNoKIDSeveralKeys, "", func(t *testing.T, s *providertest.Server, resp, h, _ map[string]any) {
			set := fetchJWKS(t, s)
			if _, ok := h["kid"]; ok || len(set.Keys) < 2 || !verifies(resp["id_token"].(string), set, jose.RS256) {
				t.Errorf("header %v, %d keys published", h, len(set.Keys))
			}
		}},
		{providertest.IDTokenWrongATHash, "", func(t *testing.T, _ *providertest.Server, resp, _, c map[string]any) {
			if c["at_hash"] == nil || c["at_hash"] == atHash(resp["access_token"].(string)) {
				t.Errorf("at_hash = %v", c["at_hash"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.m.String()+string(tc.alg), func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, providertest.Config{IDTokenAlgorithm: tc.alg})
			s.Misbehave(tc.m)
			resp := login(t, s, t0)
			h, c := splitJWT(t, resp["id_token"].(string))
			tc.check(t, s, resp, h, c)
			// Reset restores a valid token.
			s.Reset()
			resp = login(t, s, t0)
			alg := jose.SignatureAlgorithm(tc.alg)
			if alg == "" {
				alg = jose.RS256
			}
			if !verifies(resp["id_token"].(string), fetchJWKS(t, s), alg) {
				t.Errorf("after Reset the ID token does not verify")
			}
			if _, c := splitJWT(t, resp["id_token"].(string)); c["at_hash"] != atHash(resp["access_token"].(string)) || c["nonce"] != "nonce-1" {
				t.Errorf("after Reset: at_hash %v nonce %v", c["at_hash"], c["nonce"])
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	kid0 := s.SigningKeyID()
	// Between logins.
	s.Misbehave(providertest.RotateBetweenLogins)
	h1, _ := splitJWT(t, login(t, s, t0)["id_token"].(string))
	second := login(t, s, t0)
	h2, _ := splitJWT(t, second["id_token"].(string))
	if h1["kid"] != kid0 || h2["kid"] == kid0 {
		t.Errorf("kids %v then %v, want %s then another", h1["kid"], h2["kid"], kid0)
	}
	if !verifies(second["id_token"].(string), fetchJWKS(t, s), jose.RS256) {
		t.Errorf("second login's token does not verify")
	}
	s.Reset()
	// Right before signing: a JWKS fetched before the login lacks the kid.
	before := fetchJWKS(t, s)
	s.Misbehave(providertest.RotateBeforeSigning)
	resp := login(t, s, t0)
	h, _ := splitJWT(t, resp["id_token"].(string))
	if len(before.Key(h["kid"].(string))) != 0 {
		t.Errorf("kid %v was already published before the login", h["kid"])
	}
	after := fetchJWKS(t, s)
	if !verifies(resp["id_token"].(string), after, jose.RS256) || len(after.Keys) != 2 {
		t.Errorf("after rotation: token does not verify or %d keys published, want 2", len(after.Keys))
	}
	// RotateKeys by hand.
	k := s.SigningKeyID()
	s.RotateKeys()
	if s.SigningKeyID() == k || func() bool { p := s.PublicKeys(); return len(p.Key(k)) != 1 }() {
		t.Errorf("RotateKeys: signing kid unchanged or previous key not published")
	}
}

func TestJWKSDecoys(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	raw := func() string {
		resp, err := s.HTTPClient().Get(s.JWKSURL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, tc := range []struct {
		m    providertest.Misbehavior
		want string
	}{
		{providertest.JWKSEncryptionKey, `"use":"enc"`},
		{providertest.JWKSSymmetricKey, `"kty":"oct"`},
		{providertest.JWKSSecp256k1Key, `"crv":"secp256k1"`},
	} {
		s.Misbehave(tc.m)
		doc := raw()
		s.Reset()
		if !strings.Contains(doc, tc.want) || !strings.Contains(doc, s.SigningKeyID()) {
			t.Errorf("%s: JWKS %s lacks %s or the real key", tc.m, doc, tc.want)
		}
	}
	s.Misbehave(providertest.JWKSDecoySameKID)
	var doc struct{ Keys []json.RawMessage }
	json.Unmarshal([]byte(raw()), &doc)
	var set jose.JSONWebKeySet
	json.Unmarshal([]byte(raw()), &set)
	same := set.Key(s.SigningKeyID())
	if len(same) != 2 || same[0].Key == same[1].Key {
		t.Fatalf("decoy: %d keys with the signing kid", len(same))
	}
	resp := login(t, s, t0)
	jws, _ := jose.ParseSignedCompact(resp["id_token"].(string), []jose.SignatureAlgorithm{jose.RS256})
	if _, err := jws.Verify(same[0]); err == nil {
		t.Errorf("the first key under the kid (the decoy) verifies the token")
	}
	if _, err := jws.Verify(same[1]); err != nil {
		t.Errorf("the real key does not verify the token: %v", err)
	}
}

func getJSON(t *testing.T, s *providertest.Server, u string) (int, map[string]any, int) {
	t.Helper()
	resp, err := s.HTTPClient().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, len(b)
}

func TestDiscoveryMisbehaviors(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{TLS: true})
	s.Misbehave(providertest.DiscoveryIssuerMismatch)
	if _, doc, _ := getJSON(t, s, s.DiscoveryURL()); doc["issuer"] == s.Issuer() {
		t.Errorf("issuer not mismatched")
	}
	s.Reset()
	s.Misbehave(providertest.DiscoveryHTTPEndpoints)
	_, doc, _ := getJSON(t, s, s.DiscoveryURL())
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"} {
		if !strings.HasPrefix(doc[k].(string), "http://") {
			t.Errorf("%s = %v, want http", k, doc[k])
		}
	}
	s.Reset()
	s.Misbehave(providertest.DiscoveryNoPrivateKeyJWT)
	if _, doc, _ := getJSON(t, s, s.DiscoveryURL()); strings.Contains(toJSON(doc["token_endpoint_auth_methods_supported"]), "private_key_jwt") {
		t.Errorf("private_key_jwt still listed")
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestTransportMisbehaviors(t *testing.T) {
	t.Parallel()
	const size = 256 << 10
	s, _ := newServer(t, providertest.Config{OversizeBytes: size})
	for _, tc := range []struct {
		m providertest.Misbehavior
		u string
	}{
		{providertest.OversizedDiscovery, s.DiscoveryURL()},
		{providertest.OversizedJWKS, s.JWKSURL()},
	} {
		s.Misbehave(tc.m)
		st, doc, n := getJSON(t, s, tc.u)
		s.Reset()
		if st != 200 || n < size || doc == nil {
			t.Errorf("%s: status %d, %d bytes, JSON ok %v; want 200, ≥ %d bytes, valid JSON", tc.m, st, n, doc != nil, size)
		}
	}
	s.Misbehave(providertest.OversizedToken)
	st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), nil)
	if st != 200 || len(toJSON(body)) < size {
		t.Errorf("OversizedToken: status %d, %d bytes", st, len(toJSON(body)))
	}
	s.Reset()
	for _, tc := range []struct {
		m providertest.Misbehavior
		u string
	}{
		{providertest.ServerErrorDiscovery, s.DiscoveryURL()},
		{providertest.ServerErrorJWKS, s.JWKSURL()},
		{providertest.ServerErrorUserInfo, s.UserInfoEndpoint()},
	} {
		s.Misbehave(tc.m)
		st, _, _ := getJSON(t, s, tc.u)
		s.Reset()
		if st != 500 {
			t.Errorf("%s: status %d, want 500", tc.m, st)
		}
	}
	s.Misbehave(providertest.ServerErrorToken)
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, t0)), nil); st != 500 {
		t.Errorf("ServerErrorToken: status %d", st)
	}
	s.Reset()
	// Token responses.
	s.Misbehave(providertest.TokenNoIDToken)
	if r := login(t, s, t0); r["id_token"] != nil || r["access_token"] == nil {
		t.Errorf("TokenNoIDToken: %v", r)
	}
	s.Reset()
	s.Misbehave(providertest.TokenIDTokenWrongType)
	if r := login(t, s, t0); toJSON(r["id_token"]) != "12345" {
		t.Errorf("TokenIDTokenWrongType: id_token %v", r["id_token"])
	}
	s.Reset()
	s.Misbehave(providertest.TokenErrorIn200)
	if r := login(t, s, t0); r["error"] == nil || r["access_token"] == nil {
		t.Errorf("TokenErrorIn200: %v", r)
	}
	s.Reset()
}

func TestAuthorizeMisbehaviors(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	for _, tc := range []struct {
		m     providertest.Misbehavior
		check func(q map[string][]string) bool
	}{
		{providertest.AuthorizeWrongIssuer, func(q map[string][]string) bool { return len(q["iss"]) == 1 && q["iss"][0] != s.Issuer() }},
		{providertest.AuthorizeMissingIssuer, func(q map[string][]string) bool { return q["iss"] == nil && q["code"] != nil }},
		{providertest.AuthorizeWrongState, func(q map[string][]string) bool { return len(q["state"]) == 1 && q["state"][0] != "st" }},
		{providertest.AuthorizeError, func(q map[string][]string) bool {
			return q["code"] == nil && len(q["error"]) == 1 && q["error"][0] == "access_denied" && q["state"][0] == "st" && q["iss"][0] == s.Issuer()
		}},
	} {
		s.Misbehave(tc.m)
		_, challenge := pkce()
		cb, err := s.Authorize(t.Context(), authURL(s, challenge, "st", "n"))
		s.Reset()
		if err != nil || !tc.check(cb.Query()) {
			t.Errorf("%s: callback %v, error %v", tc.m, cb, err)
		}
	}
}

func TestSlowHonoursContext(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{SlowDelay: time.Hour})
	for _, m := range []providertest.Misbehavior{providertest.SlowDiscovery, providertest.SlowJWKS, providertest.SlowToken} {
		s.Misbehave(m)
	}
	for _, u := range []string{s.DiscoveryURL(), s.JWKSURL(), s.TokenEndpoint()} {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		_, err := s.HTTPClient().Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("GET %s: error %v, want a deadline", u, err)
		}
	}
}

func TestSlowEndsOnClose(t *testing.T) {
	t.Parallel()
	s, err := providertest.Start(providertest.Config{SlowDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Misbehave(providertest.SlowDiscovery)
	done := make(chan error, 1)
	go func() {
		resp, err := s.HTTPClient().Get(s.DiscoveryURL())
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.Count(providertest.EndpointDiscovery) == 0 {
		runtime.Gosched() // wait until the handler is in its delay
	}
	s.Close()
	s.Close() // idempotent
	<-done    // returns: Close ended the delay instead of waiting an hour
}
