package providertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/jwks"
)

// Assertion is a client assertion as the token endpoint received it:
// decoded, never the raw token.
type Assertion struct {
	// Header is the decoded JOSE header (numbers as json.Number).
	Header map[string]any
	// Claims is the decoded payload (numbers as json.Number).
	Claims map[string]any
	// ClientID is the client the assertion claimed to be: the client_id
	// form parameter, else iss, else sub. It is unverified unless Accepted.
	ClientID string
	// Accepted reports whether the assertion authenticated the client.
	Accepted bool
	// Err is the reason it was refused (wrapping an Err… sentinel), or nil.
	Err error

	headerJSON, claimsJSON []byte
}

func (a *Assertion) clone() Assertion {
	c := *a
	c.Header, _ = decodeObject(a.headerJSON)
	c.Claims, _ = decodeObject(a.claimsJSON)
	return c
}

// parsedJWT is a compact JWS split and decoded, not yet verified.
type parsedJWT struct {
	raw        string
	header     map[string]any
	claims     map[string]any
	headerJSON []byte
	claimsJSON []byte
}

var b64 = base64.RawURLEncoding.Strict()

// parseCompact decodes a compact JWS (RFC 7515 §7.1) strictly: three parts
// of unpadded base64url, a JSON object header without crit and a JSON object
// payload, no member repeated, a non-empty signature.
func parseCompact(raw string) (*parsedJWT, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("providertest: assertion has %d parts, want the 3 of a compact JWS: %w", len(parts), ErrMalformedAssertion)
	}
	h, err := b64.DecodeString(parts[0])
	if err != nil || len(parts[0]) == 0 {
		return nil, fmt.Errorf("providertest: assertion header is not base64url: %w", ErrMalformedAssertion)
	}
	c, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("providertest: assertion payload is not base64url: %w", ErrMalformedAssertion)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("providertest: assertion signature is not base64url: %w", ErrMalformedAssertion)
	}
	p := &parsedJWT{raw: raw, headerJSON: h, claimsJSON: c}
	if p.header, err = decodeObject(h); err != nil {
		return nil, fmt.Errorf("providertest: assertion header: %v: %w", err, ErrMalformedAssertion)
	}
	if p.claims, err = decodeObject(c); err != nil {
		return p, fmt.Errorf("providertest: assertion payload: %v: %w", err, ErrMalformedAssertion)
	}
	if _, ok := p.header["crit"]; ok {
		return p, fmt.Errorf("providertest: assertion header has crit, which this server does not understand: %w", ErrMalformedAssertion)
	}
	if len(sig) == 0 {
		// An empty signature is only ever alg none; report the algorithm.
		return p, fmt.Errorf("providertest: assertion is unsigned (alg %.20q): %w", fmt.Sprint(p.header["alg"]), ErrAlgorithm)
	}
	return p, nil
}

// decodeObject decodes a JSON object, numbers as json.Number, refusing
// repeated members at the top level and trailing data.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not JSON")
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("member %.40q repeated", name)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not JSON")
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// authenticateClient checks the client authentication of a token request
// (OIDC Core §9 private_key_jwt, RFC 7523 §3, RFC 10070). It returns the
// authenticated client, or the client the request claimed to be with an
// error wrapping one of the Err… sentinels.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (*clientState, string, error) {
	claimed := form.Get("client_id")
	var second error
	if r.Header.Get("Authorization") != "" {
		second = fmt.Errorf("providertest: Authorization header sent: %w", ErrMultipleAuthMethods)
	} else if _, ok := form["client_secret"]; ok {
		second = fmt.Errorf("providertest: client_secret sent: %w", ErrMultipleAuthMethods)
	}
	typ, raw := form.Get("client_assertion_type"), form.Get("client_assertion")
	if second != nil && (typ != ClientAssertionType || raw == "") {
		return nil, claimed, second
	}
	if typ == "" && raw == "" {
		return nil, claimed, fmt.Errorf("providertest: no client_assertion: %w", ErrNoClientAuthentication)
	}
	if typ != ClientAssertionType {
		return nil, claimed, fmt.Errorf("providertest: client_assertion_type %.80q: %w", typ, ErrAssertionType)
	}
	if raw == "" {
		return nil, claimed, fmt.Errorf("providertest: client_assertion empty: %w", ErrNoClientAuthentication)
	}
	// With a second method the assertion is still checked, so that its jti
	// is spent: a client that retries the same request with another
	// method (x/oauth2's AuthStyleAutoDetect does) then fails with
	// ErrReplay, as it would at a strict server.
	rec := &Assertion{}
	cs, err := s.checkClientAssertion(ctx, raw, claimed, rec)
	if second != nil {
		cs, err = nil, second
	}
	if rec.headerJSON != nil {
		rec.Accepted, rec.Err = err == nil, err
		s.mu.Lock()
		s.lastAssertion = rec
		s.mu.Unlock()
	}
	if rec.ClientID != "" {
		claimed = rec.ClientID
	}
	return cs, claimed, err
}

// checkClientAssertion runs every check on raw. rec receives what was decoded.
func (s *Server) checkClientAssertion(ctx context.Context, raw, formClientID string, rec *Assertion) (*clientState, error) {
	p, err := parseCompact(raw)
	if p != nil {
		rec.Header, rec.headerJSON = p.header, p.headerJSON
		rec.Claims, rec.claimsJSON = p.claims, p.claimsJSON
	}
	if err != nil {
		return nil, err
	}
	iss, _ := p.claims["iss"].(string)
	sub, _ := p.claims["sub"].(string)
	if formClientID != "" && formClientID != sub {
		rec.ClientID = formClientID
		return nil, fmt.Errorf("providertest: client_id %.60q differs from sub %.60q: %w", formClientID, sub, ErrClientIDMismatch)
	}
	// The client to check against: the client_id parameter when sent, else
	// the first of iss and sub that names a registered client.
	s.mu.Lock()
	var cs *clientState
	switch {
	case formClientID != "":
		rec.ClientID = formClientID
		cs = s.clients[formClientID]
	default:
		for _, id := range []string{iss, sub} {
			if id == "" {
				continue
			}
			if rec.ClientID == "" {
				rec.ClientID = id
			}
			if c := s.clients[id]; c != nil {
				cs, rec.ClientID = c, id
				break
			}
		}
	}
	s.mu.Unlock()
	if cs == nil {
		return nil, fmt.Errorf("providertest: client %.60q is not registered: %w", rec.ClientID, ErrUnknownClient)
	}
	if err := s.verifySignature(ctx, p, cs); err != nil {
		return nil, err
	}
	if iss != cs.ID {
		return nil, fmt.Errorf("providertest: iss %.60q is not client %q: %w", fmt.Sprint(p.claims["iss"]), cs.ID, ErrIssuer)
	}
	if sub != cs.ID {
		return nil, fmt.Errorf("providertest: sub %.60q is not client %q: %w", fmt.Sprint(p.claims["sub"]), cs.ID, ErrSubject)
	}
	if err := s.checkAudience(p.claims["aud"]); err != nil {
		return nil, err
	}
	if t, ok := p.header["typ"]; ok || s.cfg.RequireExplicitTyping {
		// Media types compare without case, "application/" optional (RFC
		// 7515 §4.1.9).
		ts, _ := t.(string)
		ts = strings.TrimPrefix(strings.ToLower(ts), "application/")
		if ts != "client-authentication+jwt" && (ts != "jwt" || s.cfg.RequireExplicitTyping) {
			return nil, fmt.Errorf("providertest: typ %.40q is not accepted: %w", fmt.Sprint(t), ErrType)
		}
	}
	exp, err := s.checkTimes(p.claims)
	if err != nil {
		return nil, err
	}
	jti, _ := p.claims["jti"].(string)
	if jti == "" {
		return nil, fmt.Errorf("providertest: jti missing or not a string: %w", ErrMissingJTI)
	}
	if err := s.rememberJTI(cs.ID, jti, exp); err != nil {
		return nil, err
	}
	return cs, nil
}

// verifySignature checks alg against the client's allowed list, finds the
// candidate keys and verifies the signature with go-jose.
func (s *Server) verifySignature(ctx context.Context, p *parsedJWT, cs *clientState) error {
	algName, _ := p.header["alg"].(string)
	if algName == "" || refusedAlg(algName) || !slices.Contains(cs.algs, jose.SignatureAlgorithm(algName)) {
		return fmt.Errorf("providertest: alg %.20q not allowed for client %q: %w", fmt.Sprint(p.header["alg"]), cs.ID, ErrAlgorithm)
	}
	alg := jwks.Algorithm(algName)
	kid, hasKID := p.header["kid"]
	kidStr, _ := kid.(string)
	if hasKID && kidStr == "" {
		return fmt.Errorf("providertest: kid is empty or not a string: %w", ErrUnknownKey)
	}
	keys, err := s.clientKeys(ctx, cs, kidStr)
	if err != nil {
		return err
	}
	var cands []jose.JSONWebKey
	for _, k := range keys {
		if hasKID && k.KeyID != kidStr {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != algName {
			continue
		}
		if !keyFits(k.Key, alg) {
			continue
		}
		cands = append(cands, k)
	}
	if len(cands) == 0 {
		return fmt.Errorf("providertest: client %q has no %s key with kid %.60q: %w", cs.ID, alg, kidStr, ErrUnknownKey)
	}
	jws, err := jose.ParseSignedCompact(p.raw, cs.algs)
	if err != nil {
		return fmt.Errorf("providertest: go-jose refused the JWS: %v: %w", err, ErrMalformedAssertion)
	}
	for _, k := range cands {
		payload, err := jws.Verify(k.Key)
		if err == nil && bytes.Equal(payload, p.claimsJSON) {
			return nil
		}
	}
	return fmt.Errorf("providertest: signature does not verify with the %d key(s) of client %q: %w", len(cands), cs.ID, ErrSignature)
}

// keyFits reports whether a public key can verify alg.
func keyFits(key any, alg jwks.Algorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case jwks.ES256:
			return k.Curve == elliptic.P256()
		case jwks.ES384:
			return k.Curve == elliptic.P384()
		case jwks.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jwks.EdDSA
	}
	return false
}

// checkAudience applies Config.Audience: the sole value. Under
// AudienceIssuer it must be a JSON string, as RFC 10070 and oidc-provider's
// strict (FAPI 2.0) mode require; the legacy policies also take an array of
// one string, as RFC 7523 §3 allows.
func (s *Server) checkAudience(v any) error {
	var aud string
	switch a := v.(type) {
	case string:
		aud = a
	case []any:
		if len(a) != 1 {
			return fmt.Errorf("providertest: aud has %d values, want one: %w", len(a), ErrAudience)
		}
		if s.cfg.Audience == AudienceIssuer {
			return fmt.Errorf("providertest: aud is an array; RFC 10070 wants the issuer as a single string: %w", ErrAudience)
		}
		aud, _ = a[0].(string)
	case nil:
		return fmt.Errorf("providertest: aud missing: %w", ErrAudience)
	}
	ok := false
	switch s.cfg.Audience {
	case AudienceIssuer:
		ok = aud == s.issuer
	case AudienceTokenEndpoint:
		ok = aud == s.TokenEndpoint()
	case AudienceIssuerOrTokenEndpoint:
		ok = aud == s.issuer || aud == s.TokenEndpoint()
	}
	if !ok {
		return fmt.Errorf("providertest: aud %.80q not accepted: %w", aud, ErrAudience)
	}
	return nil
}

// numericDate reads a NumericDate (RFC 7519 §2), clamped to years 1970–9999.
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	f = math.Max(0, math.Min(f, 253402300799))
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), true
}

// checkTimes checks exp, iat, nbf and the lifetime. It returns exp.
func (s *Server) checkTimes(claims map[string]any) (time.Time, error) {
	now, skew := s.now(), s.cfg.ClockSkew
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return time.Time{}, fmt.Errorf("providertest: exp missing or not a number: %w", ErrMissingExpiry)
	}
	if !now.Before(exp.Add(skew)) {
		return time.Time{}, fmt.Errorf("providertest: expired at %s (now %s, skew %s): %w", exp.Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew, ErrExpired)
	}
	iat, ok := numericDate(claims["iat"])
	if !ok {
		return time.Time{}, fmt.Errorf("providertest: iat missing or not a number: %w", ErrMissingIssuedAt)
	}
	if iat.After(now.Add(skew)) {
		return time.Time{}, fmt.Errorf("providertest: iat %s is ahead of now %s: %w", iat.Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrIssuedInFuture)
	}
	if life := exp.Sub(iat); life < 0 || life > s.cfg.MaxAssertionLifetime {
		return time.Time{}, fmt.Errorf("providertest: exp − iat is %s, at most %s allowed: %w", life, s.cfg.MaxAssertionLifetime, ErrLifetime)
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok {
			return time.Time{}, fmt.Errorf("providertest: nbf not a number: %w", ErrNotYetValid)
		}
		if nbf.After(now.Add(skew)) {
			return time.Time{}, fmt.Errorf("providertest: nbf %s is ahead of now %s: %w", nbf.Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrNotYetValid)
		}
	}
	return exp, nil
}

// rememberJTI records jti for client until exp (plus skew), refusing one
// still remembered. When MaxJTIs are remembered it forgets expired ones; if
// none has expired it fails closed.
func (s *Server) rememberJTI(client, jti string, exp time.Time) error {
	key := client + "\x00" + jti
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, seen := s.jtis[key]; seen && now.Before(until) {
		return fmt.Errorf("providertest: jti of client %q seen before: %w", client, ErrReplay)
	}
	if len(s.jtis) >= s.cfg.MaxJTIs {
		for k, until := range s.jtis {
			if !now.Before(until) {
				delete(s.jtis, k)
			}
		}
		if len(s.jtis) >= s.cfg.MaxJTIs {
			return fmt.Errorf("providertest: %d jti values remembered: %w", len(s.jtis), ErrReplayCacheFull)
		}
	}
	s.jtis[key] = exp.Add(s.cfg.ClockSkew)
	return nil
}
