package assertion

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// BenchmarkMint compares minting a complete client assertion ("assertion")
// with the bare signature over an input of the same size with the same key
// ("raw": hash and crypto.Signer.Sign, the physical floor). Run:
//
//	go test -run '^$' -bench BenchmarkMint -benchmem -count 6 ./assertion/
func BenchmarkMint(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  string
		alg  jwks.Algorithm
	}{
		{"RS256", testkeys.RSA2048A, jwks.RS256},
		{"ES256", testkeys.P256A, jwks.ES256},
		{"EdDSA", testkeys.Ed25519A, jwks.EdDSA},
	} {
		b.Run(tc.name, func(b *testing.B) {
			signer := testkeys.Signer(tc.key)
			key, err := jwks.NewKey(b.Context(), signer, jwks.KeyConfig{Algorithm: tc.alg})
			if err != nil {
				b.Fatal(err)
			}
			m, err := NewMinter(key, Config{
				ClientID: "s6BhdRkqt3",
				Audience: "https://server.example.com",
				Now:      func() time.Time { return time.Unix(1795000000, 0) },
			})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := m.Assertion(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			input := []byte(strings.Repeat("x", strings.LastIndexByte(tok, '.')))
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if tc.alg == jwks.EdDSA {
						_, err = signer.Sign(nil, input, crypto.Hash(0))
					} else {
						d := sha256.Sum256(input)
						_, err = signer.Sign(rand.Reader, d[:], crypto.SHA256)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("assertion", func(b *testing.B) {
				b.ReportAllocs()
				ctx := b.Context()
				for b.Loop() {
					if _, err := m.Assertion(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
