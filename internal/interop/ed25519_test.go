package interop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// TestInteropEd25519 (RFC 9864): oidc-provider lists "Ed25519" beside
// "EdDSA" for client authentication. A client whose key is registered with
// alg "Ed25519" and signs its assertions as "Ed25519" passes the pre-flight
// and logs in. The same key signing as "EdDSA" is refused: oidc-provider
// compares the assertion's alg with the registered key's alg exactly, which
// is why the library never rewrites one name into the other.
func TestInteropEd25519(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientEd25519)
	if err != nil {
		t.Fatal(err)
	}
	if key.Algorithm() != jwks.Ed25519 {
		t.Fatalf("client key algorithm = %s, want Ed25519", key.Algorithm())
	}
	c := newClient(t, strictOP, clientEd25519, key, assertion.ProfileRFC10070)
	p := discoverOP(t, strictOP, key.Algorithm())
	if listed := p.Metadata().TokenEndpointAuthSigningAlgorithms; !slices.Contains(listed, "Ed25519") {
		t.Fatalf("token_endpoint_auth_signing_alg_values_supported = %q, want Ed25519 listed", listed)
	}
	res, err := loginWith(t.Context(), c)
	if err != nil {
		t.Fatalf("login with an Ed25519 assertion: %v", err)
	}
	if res.IDToken.Subject != subject {
		t.Errorf("login: sub = %q, want %q", res.IDToken.Subject, subject)
	}

	eddsa, err := loadKey(testkeys.Ed25519A, jwks.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	mark := env.refusalMark(t, strictOP, clientEd25519)
	wrong := newClient(t, strictOP, clientEd25519, eddsa, assertion.ProfileRFC10070)
	if _, err := wrong.ClientCredentials(t.Context()); !errors.Is(err, exchange.ErrInvalidClient) {
		t.Errorf("ClientCredentials with an EdDSA assertion against the key registered for Ed25519: error = %v, want exchange.ErrInvalidClient", err)
	}
	if got := env.refusalsSince(t, strictOP, clientEd25519, mark); len(got) == 0 {
		t.Error("the provider logged no refusal of the EdDSA assertion")
	}
}
