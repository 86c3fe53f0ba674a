package exchange_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"strings"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// Example_fapi2 is a FAPI 2.0 login: the authorization request is pushed
// (PAR) with a fresh assertion and a DPoP proof, the browser URL carries
// only client_id and request_uri, and the tokens are bound to the DPoP key;
// the provider demands DPoP nonces, which the client answers once each.
func Example_fapi2() {
	key, err := jwks.Generate(jwks.ES256) // signs client assertions
	if err != nil {
		log.Fatal(err)
	}
	dpopKey, err := jwks.Generate(jwks.ES256) // signs DPoP proofs
	if err != nil {
		log.Fatal(err)
	}
	op, p := startProviderWith(providertest.Config{
		Now:                                fixedNow,
		RequirePushedAuthorizationRequests: true,
		DPoPNonceRequired:                  true,
		IDTokenAlgorithm:                   jwks.ES256,
	}, key, "https://rp.example/callback")
	defer op.Close()
	defer p.Close()

	client, err := exchange.New(p, exchange.Config{
		ClientID: "s6BhdRkqt3", Key: key, RedirectURL: "https://rp.example/callback",
		FAPI2: true, DPoPKey: dpopKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	authURL, tx, err := client.AuthCodeURL(ctx) // POSTs to the PAR endpoint
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	fmt.Println("browser URL carries:", strings.Join([]string{"client_id=" + u.Query().Get("client_id"), "request_uri"}, ", "), len(u.Query()) == 2)
	callback, err := op.Authorize(ctx, authURL)
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Callback(ctx, tx, callback.Query())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", res.Token.TokenType)
	fmt.Println("PAR requests:", op.Count(providertest.EndpointPAR), "(the first answered use_dpop_nonce)")
	fmt.Println("token requests:", op.Count(providertest.EndpointToken), "(the nonce was already known)")
	// Output:
	// browser URL carries: client_id=s6BhdRkqt3, request_uri true
	// token type: DPoP
	// PAR requests: 2 (the first answered use_dpop_nonce)
	// token requests: 1 (the nonce was already known)
}
