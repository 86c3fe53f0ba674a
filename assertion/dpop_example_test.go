package assertion_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// ExampleDPoP_Proof makes a DPoP proof for a token request and one for a
// resource request, which carries the access token's hash (ath). The key is
// the thumbprint's: send it as dpop_jkt, and expect it as cnf.jkt in bound
// tokens.
func ExampleDPoP_Proof() {
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.Ed25519A), jwks.KeyConfig{})
	if err != nil {
		log.Fatal(err)
	}
	d, err := assertion.NewDPoP(key, assertion.DPoPConfig{Now: func() time.Time { return time.Unix(1795000000, 0) }})
	if err != nil {
		log.Fatal(err)
	}
	show := func(proof string) {
		parts := strings.Split(proof, ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		c, _ := base64.RawURLEncoding.DecodeString(parts[1])
		fmt.Println(string(h))
		fmt.Println(string(c[strings.Index(string(c), `"htm"`)-1:]))
	}
	proof, err := d.Proof(context.Background(), "POST", "https://as.example.com/token", "server-nonce-1", "")
	if err != nil {
		log.Fatal(err)
	}
	show(proof)
	proof, err = d.Proof(context.Background(), "GET", "https://api.example.com/v1/items?page=2", "", "the-access-token")
	if err != nil {
		log.Fatal(err)
	}
	show(proof)
	fmt.Println(d.Thumbprint() != "")
	// Output:
	// {"alg":"EdDSA","typ":"dpop+jwt","jwk":{"crv":"Ed25519","kty":"OKP","x":"ADb5ijwq27uIGgn-vcEdFym_hUHpGLCjHLseGT4VEOY"}}
	// ,"htm":"POST","htu":"https://as.example.com/token","iat":1795000000,"nonce":"server-nonce-1"}
	// {"alg":"EdDSA","typ":"dpop+jwt","jwk":{"crv":"Ed25519","kty":"OKP","x":"ADb5ijwq27uIGgn-vcEdFym_hUHpGLCjHLseGT4VEOY"}}
	// ,"htm":"GET","htu":"https://api.example.com/v1/items","iat":1795000000,"ath":"uby9Z8Gb_H_x4fPjwNzgu794b860ifwPsbwnlfNiCFs"}
	// true
}
