package jwks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// TestEd25519Algorithm (RFC 9864 §2.2): an Ed25519 key loaded with
// Algorithm Ed25519 signs as "Ed25519" and publishes that alg; its key ID
// is the same as with EdDSA (the RFC 7638 thumbprint knows no alg); only an
// Ed25519 key fits; Generate makes one.
func TestEd25519Algorithm(t *testing.T) {
	t.Parallel()
	k := rtKey(t, testkeys.Ed25519A, "", jwks.Ed25519)
	if k.Algorithm() != jwks.Ed25519 {
		t.Errorf("Algorithm() = %q, want Ed25519", k.Algorithm())
	}
	if jwk := string(k.PublicJWKJSON()); !strings.Contains(jwk, `"alg":"Ed25519"`) || !strings.Contains(jwk, `"crv":"Ed25519"`) {
		t.Errorf("PublicJWKJSON() = %s, want alg Ed25519 on curve Ed25519", jwk)
	}
	if e := rtKey(t, testkeys.Ed25519A, "", jwks.EdDSA); e.KeyID() != k.KeyID() {
		t.Errorf("key ID with Ed25519 %q differs from the one with EdDSA %q", k.KeyID(), e.KeyID())
	}
	for _, name := range []string{testkeys.P256A, testkeys.RSA2048A} {
		if _, err := jwks.NewKey(context.Background(), testkeys.Signer(name), jwks.KeyConfig{Algorithm: jwks.Ed25519}); !errors.Is(err, jwks.ErrInvalidConfig) {
			t.Errorf("NewKey(%s, Ed25519) error = %v, want ErrInvalidConfig", name, err)
		}
	}
	g, err := jwks.Generate(jwks.Ed25519)
	if err != nil || g.Algorithm() != jwks.Ed25519 {
		t.Errorf("Generate(Ed25519) = %v, %v", g, err)
	}
}

// TestRemoteVerifiesEd25519: a remote set whose key says alg "Ed25519"
// verifies a token with alg "Ed25519"; names are compared exactly, so the
// key does not verify an "EdDSA" token, and a key that says "EdDSA" does not
// verify an "Ed25519" token.
func TestRemoteVerifiesEd25519(t *testing.T) {
	t.Parallel()
	ed := rtKey(t, testkeys.Ed25519A, "ed", jwks.Ed25519)
	eddsa := rtKey(t, testkeys.Ed25519B, "eddsa", jwks.EdDSA)
	rt := &rtTransport{}
	rt.set(rtSetJSON(ed, eddsa), 200, "")
	r := rtRemote(t, rt, jwks.RemoteConfig{})
	for _, tc := range []struct {
		name    string
		token   string
		wantErr error
	}{
		{"Ed25519", rtToken(t, ed, nil, `{}`), nil},
		{"Ed25519 without kid", rtToken(t, ed, map[string]any{"kid": nil}, `{}`), nil},
		{"EdDSA with the Ed25519 key's kid", rtToken(t, ed, map[string]any{"alg": "EdDSA"}, `{}`), jwks.ErrUnknownKey},
		{"Ed25519 with the EdDSA key's kid", rtToken(t, eddsa, map[string]any{"alg": "Ed25519"}, `{}`), jwks.ErrUnknownKey},
		{"EdDSA", rtToken(t, eddsa, nil, `{}`), nil},
	} {
		_, err := r.VerifySignature(t.Context(), tc.token)
		if tc.wantErr == nil && err != nil || !errors.Is(err, tc.wantErr) {
			t.Errorf("VerifySignature(%s) error = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}
