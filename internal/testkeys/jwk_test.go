package testkeys

import (
	"crypto/ecdsa"
	"testing"
)

type jwkJSON string

func (j jwkJSON) PublicJWKJSON() []byte { return []byte(j) }

func TestPublicJWK(t *testing.T) {
	t.Parallel()
	// RFC 7517 Appendix A.1, the EC key.
	const in = `{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"}`
	jwk := PublicJWK(jwkJSON(in))
	if _, ok := jwk.Key.(*ecdsa.PublicKey); !ok || jwk.KeyID != "1" || !jwk.IsPublic() {
		t.Errorf("PublicJWK(RFC 7517 A.1) = %+v", jwk)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("PublicJWK(not a JWK) did not panic")
		}
	}()
	PublicJWK(jwkJSON(`{"kty":"nope"}`))
}
