package provider_test

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// ed25519Key loads the pre-generated Ed25519 key with RFC 9864's
// fully-specified algorithm name.
func ed25519Key(t *testing.T, kid string) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.Ed25519A), jwks.KeyConfig{KeyID: kid, Algorithm: jwks.Ed25519})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPreflightEd25519 (RFC 9864): a provider that lists only "Ed25519" for
// client authentication, as oidc-provider can, accepts a client whose key
// signs as Ed25519. A key loaded as EdDSA is refused (its assertions would
// say "EdDSA", which such a provider refuses), with a message that names
// the fix; a provider that lists both accepts either.
func TestPreflightEd25519(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t)
	f.edit(func(m map[string]any) {
		m["token_endpoint_auth_signing_alg_values_supported"] = []string{"ES256", "Ed25519"}
	})
	p := f.discover(t, provider.Config{ClientAuthAlgorithm: jwks.Ed25519})
	if err := p.CheckPrivateKeyJWT(jwks.Ed25519); err != nil {
		t.Errorf("CheckPrivateKeyJWT(Ed25519) = %v, want nil", err)
	}
	_, err := provider.Discover(t.Context(), f.issuer(), provider.Config{ClientAuthAlgorithm: jwks.EdDSA})
	var ce *provider.ClientAuthError
	if !errors.As(err, &ce) || !errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) {
		t.Fatalf("Discover(EdDSA, provider lists Ed25519) error = %v, want a *ClientAuthError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "RFC 9864") || !strings.Contains(msg, "jwks.KeyConfig{Algorithm: jwks.Ed25519}") {
		t.Errorf("Discover(EdDSA, provider lists Ed25519) error = %q, want it to name the Ed25519 algorithm to load the key with", msg)
	}

	f.edit(func(m map[string]any) { m["token_endpoint_auth_signing_alg_values_supported"] = []string{"EdDSA"} })
	_, err = provider.Discover(t.Context(), f.issuer(), provider.Config{ClientAuthAlgorithm: jwks.Ed25519})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "jwks.KeyConfig{Algorithm: jwks.EdDSA}") {
		t.Errorf("Discover(Ed25519, provider lists EdDSA) error = %v, want a *ClientAuthError naming EdDSA", err)
	}

	f.edit(func(m map[string]any) {
		m["token_endpoint_auth_signing_alg_values_supported"] = []string{"Ed25519", "EdDSA"}
	})
	for _, alg := range []jwks.Algorithm{jwks.EdDSA, jwks.Ed25519} {
		if _, err := provider.Discover(t.Context(), f.issuer(), provider.Config{ClientAuthAlgorithm: alg}); err != nil {
			t.Errorf("Discover(%s, provider lists both) error = %v", alg, err)
		}
	}
}

// TestIDTokenEd25519: an ID token with alg "Ed25519" (RFC 9864) verifies
// with the provider's Ed25519 key when the provider lists Ed25519 and the
// allow-list has it, at_hash included (SHA-512, as for EdDSA). EdDSA in the
// allow-list does not admit it, and an Ed25519 token does not verify with a
// key published for EdDSA.
func TestIDTokenEd25519(t *testing.T) {
	t.Parallel()
	ed := ed25519Key(t, "ed")
	eddsa := testKey(t, testkeys.Ed25519B, "eddsa") // published with alg EdDSA
	f := newFakeIDP(t, ed, eddsa)
	f.edit(func(m map[string]any) {
		m["id_token_signing_alg_values_supported"] = []string{"RS256", "EdDSA", "Ed25519"}
	})
	p := f.discover(t, provider.Config{})
	const nonce = "n-0S6_WzA2Mj"
	const accessToken = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
	sum := sha512.Sum512([]byte(accessToken))
	claims := idClaims(f.issuer())
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:32])
	tok := signJWT(t, ed, nil, claims)

	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{jwks.Ed25519}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(t.Context(), tok, provider.Expected{Nonce: nonce, AccessToken: accessToken}); err != nil || id.Subject != "user-42" {
		t.Errorf("Verify(Ed25519 token) = %v, %v; want user-42", id, err)
	}
	if _, err := v.Verify(t.Context(), tok, provider.Expected{Nonce: nonce, AccessToken: accessToken + "x"}); !errors.Is(err, provider.ErrAccessTokenHashMismatch) {
		t.Errorf("Verify(Ed25519 token, another access token) error = %v, want ErrAccessTokenHashMismatch", err)
	}
	// An Ed25519 token signed by the key published for EdDSA: no key fits.
	other := signJWT(t, eddsa, map[string]any{"alg": "Ed25519"}, idClaims(f.issuer()))
	if _, err := v.Verify(t.Context(), other, provider.Expected{Nonce: nonce}); !errors.Is(err, jwks.ErrUnknownKey) {
		t.Errorf("Verify(Ed25519 token, key published for EdDSA) error = %v, want jwks.ErrUnknownKey", err)
	}

	only, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{jwks.EdDSA}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only.Verify(t.Context(), tok, provider.Expected{Nonce: nonce}); !errors.Is(err, provider.ErrUnsupportedAlgorithm) {
		t.Errorf("Verify(Ed25519 token, allow-list EdDSA) error = %v, want ErrUnsupportedAlgorithm", err)
	}

	// A provider that does not list Ed25519: the allow-list is empty.
	f.edit(func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []string{"RS256", "EdDSA"} })
	p2 := f.discover(t, provider.Config{})
	if _, err := p2.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{jwks.Ed25519}}); !errors.Is(err, provider.ErrUnsupportedAlgorithm) {
		t.Errorf("IDTokenVerifier(Ed25519, provider lists EdDSA only) error = %v, want ErrUnsupportedAlgorithm", err)
	}
}
