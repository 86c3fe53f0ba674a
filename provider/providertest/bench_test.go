package providertest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// BenchmarkStart measures starting and closing a server.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := providertest.Start(providertest.Config{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkTokenClientCredentials measures one client_credentials request
// over loopback HTTP, including every assertion check (EdDSA assertion,
// signed ahead of time).
func BenchmarkTokenClientCredentials(b *testing.B) {
	edKey := testkeys.Signer(testkeys.Ed25519A)
	c := testClient()
	c.ID, c.JWKS, c.Algorithms = "ed-client", publicJWKS([]string{"ed"}, edKey), []jwks.Algorithm{jwks.EdDSA}
	s, err := providertest.Start(providertest.Config{Clients: []providertest.Client{c}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	forms := make([]string, 0, 1<<14)
	hc := s.HTTPClient()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if len(forms) <= i {
			cl := claims(s, timeNow())
			cl["iss"], cl["sub"] = "ed-client", "ed-client"
			forms = append(forms, tokenForm(signJWS(b, edKey, jose.EdDSA, "ed", nil, cl)).Encode())
		}
		b.StartTimer()
		resp, err := hc.Post(s.TokenEndpoint(), "application/x-www-form-urlencoded", strings.NewReader(forms[i]))
		if err != nil {
			b.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
