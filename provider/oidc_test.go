package provider_test

import (
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// TestRemoteAsGoOIDCKeySet checks the seam for go-oidc users: a
// jwks.Remote serves as the oidc.KeySet of go-oidc's own verifier.
func TestRemoteAsGoOIDCKeySet(t *testing.T) {
	t.Parallel()
	key := testKey(t, testkeys.RSA2048A, "a")
	f := newFakeIDP(t, key)
	r, err := jwks.NewRemote(f.issuer()+"/jwks", jwks.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := oidc.NewVerifier(f.issuer(), r, &oidc.Config{ClientID: "client-1", Now: func() time.Time { return testNow }})
	tok, err := v.Verify(t.Context(), signJWT(t, key, nil, idClaims(f.issuer())))
	if err != nil {
		t.Fatalf("go-oidc Verify with a jwks.Remote: %v", err)
	}
	if tok.Subject != "user-42" {
		t.Fatalf("Subject = %q", tok.Subject)
	}
	if _, err := v.Verify(t.Context(), signJWT(t, testKey(t, testkeys.RSA2048C, "a"), nil, idClaims(f.issuer()))); err == nil {
		t.Fatal("go-oidc accepted a token signed by another key")
	}
}
