package testkeys

import (
	"github.com/go-jose/go-jose/v4"
)

// PublicJWK returns k's public JWK (a *jwks.Key, say) as a go-jose value, for
// tests that hand keys to go-jose or register them with providertest. It
// panics when k's JSON is not a JWK.
func PublicJWK(k interface{ PublicJWKJSON() []byte }) jose.JSONWebKey {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(k.PublicJWKJSON()); err != nil {
		panic("testkeys: public JWK does not parse: " + err.Error())
	}
	return jwk
}
