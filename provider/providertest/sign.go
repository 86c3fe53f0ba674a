package providertest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"maps"
	"time"

	"github.com/pkjwt/pkjwt/jwks"
)

func b64enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomString returns n random bytes as base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64enc(b)
}

// signJWT signs header and claims with key as a compact JWS. The header's
// alg is set from the key.
func signJWT(ctx context.Context, key *jwks.Key, header, claims map[string]any) (string, error) {
	header["alg"] = string(key.Algorithm())
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64enc(h) + "." + b64enc(c)
	sig, err := key.Sign(ctx, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64enc(sig), nil
}

// tokenHash is at_hash (OIDC Core §3.1.3.6): the left half of the hash of
// the token with the hash of the ID token's alg (SHA-512 for EdDSA with
// Ed25519), base64url.
func tokenHash(alg jwks.Algorithm, token string) string {
	var h hash.Hash
	switch alg {
	case jwks.RS384, jwks.PS384, jwks.ES384:
		h = sha512.New384()
	case jwks.RS512, jwks.PS512, jwks.ES512, jwks.EdDSA:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return b64enc(sum[:len(sum)/2])
}

// registeredClaims are the ID token claims User.Claims cannot set.
var registeredClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "at_hash": true, "c_hash": true, "sid": true, "azp": true,
}

// idTokenParams are the facts an ID token states.
type idTokenParams struct {
	clientID    string
	user        User
	nonce       string
	authTime    time.Time
	sid         string
	accessToken string
}

// signingPlan is what the ID token signer must do, decided under s.mu.
type signingPlan struct {
	key       *jwks.Key // signs (or, for HS256, gives the public key)
	omitKID   bool
	misbehave map[Misbehavior]bool
}

// planSigning picks the key and snapshot of switches, rotating as the
// Rotate… switches demand.
func (s *Server) planSigning() signingPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on(RotateBeforeSigning) {
		s.keys.rotate()
	}
	p := signingPlan{key: s.keys.current(), misbehave: maps.Clone(s.misbehaving)}
	if s.on(IDTokenUnpublishedKey) {
		p.key = s.keys.next()
	}
	p.omitKID = s.on(IDTokenNoKIDOneKey) || s.on(IDTokenNoKIDSeveralKeys)
	if s.on(RotateBetweenLogins) {
		s.keys.rotate()
	}
	return p
}

// idToken builds and signs an ID token (OIDC Core §2), applying the ID
// token misbehaviors switched on.
func (s *Server) idToken(ctx context.Context, p idTokenParams) (string, error) {
	plan := s.planSigning()
	m := plan.misbehave
	now := s.now()
	c := map[string]any{}
	for k, v := range p.user.Claims {
		if !registeredClaims[k] {
			c[k] = v
		}
	}
	c["iss"] = s.issuer
	c["sub"] = p.user.Subject
	c["iat"] = now.Unix()
	c["exp"] = now.Add(s.cfg.IDTokenLifetime).Unix()
	c["auth_time"] = p.authTime.Unix()
	if p.sid != "" {
		c["sid"] = p.sid
	}
	if p.nonce != "" {
		c["nonce"] = p.nonce
	}
	if p.accessToken != "" {
		c["at_hash"] = tokenHash(plan.key.Algorithm(), p.accessToken)
	}
	if len(s.cfg.ExtraAudiences) > 0 {
		c["aud"] = append([]string{p.clientID}, s.cfg.ExtraAudiences...)
		c["azp"] = p.clientID
	} else {
		c["aud"] = p.clientID
	}
	switch {
	case m[IDTokenWrongIssuer]:
		c["iss"] = s.issuer + "/wrong-issuer"
	}
	if m[IDTokenMissingSubject] {
		delete(c, "sub")
	}
	if m[IDTokenWrongAudience] {
		c["aud"] = "another-client"
		delete(c, "azp")
	}
	if m[IDTokenExtraAudienceWithoutAZP] {
		c["aud"] = []string{p.clientID, "another-client"}
		delete(c, "azp")
	}
	if m[IDTokenMissingAudience] {
		delete(c, "aud")
	}
	if m[IDTokenMissingIssuedAt] {
		delete(c, "iat")
	}
	if m[IDTokenIssuedInFuture] {
		c["iat"] = now.Add(time.Hour).Unix()
		c["exp"] = now.Add(time.Hour + s.cfg.IDTokenLifetime).Unix()
	}
	if m[IDTokenExpired] {
		c["iat"] = now.Add(-time.Hour - s.cfg.IDTokenLifetime).Unix()
		c["exp"] = now.Add(-time.Hour).Unix()
	}
	if m[IDTokenWrongNonce] {
		c["nonce"] = "not-the-nonce-" + randomString(8)
	}
	if m[IDTokenMissingNonce] {
		delete(c, "nonce")
	}
	if m[IDTokenWrongATHash] {
		c["at_hash"] = tokenHash(plan.key.Algorithm(), "not-the-access-token")
	}
	header := map[string]any{"typ": "JWT", "kid": plan.key.KeyID()}
	if plan.omitKID {
		delete(header, "kid")
	}
	switch {
	case m[IDTokenAlgNone]:
		header["alg"] = "none"
		delete(header, "kid")
		h, _ := json.Marshal(header)
		b, _ := json.Marshal(c)
		return b64enc(h) + "." + b64enc(b) + ".", nil
	case m[IDTokenHS256WithPublicKey]:
		header["alg"] = "HS256"
		h, _ := json.Marshal(header)
		b, _ := json.Marshal(c)
		input := b64enc(h) + "." + b64enc(b)
		mac := hmac.New(sha256.New, plan.key.PublicPEM())
		mac.Write([]byte(input))
		return input + "." + b64enc(mac.Sum(nil)), nil
	}
	tok, err := signJWT(ctx, plan.key, header, c)
	if err != nil {
		return "", err
	}
	if m[IDTokenCorruptSignature] {
		tok = corruptSignature(tok)
	}
	return tok, nil
}

// corruptSignature flips one bit in the middle of the signature.
func corruptSignature(tok string) string {
	i := len(tok) - 1
	for i >= 0 && tok[i] != '.' {
		i--
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) == 0 {
		return tok
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:i+1] + b64enc(sig)
}

// jwtToken signs an access or refresh token in JWT form (RFC 9068 for access
// tokens) with the current key; no misbehavior applies.
func (s *Server) jwtToken(ctx context.Context, typ string, claims map[string]any) (string, error) {
	s.mu.Lock()
	key := s.keys.current()
	s.mu.Unlock()
	return signJWT(ctx, key, map[string]any{"typ": typ, "kid": key.KeyID()}, claims)
}
