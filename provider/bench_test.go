package provider_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// BenchmarkVerify compares full ID token verification (every check on,
// keys cached) with the bare signature check on the same token: "raw" is
// SHA-256 and rsa.VerifyPKCS1v15 (or ecdsa.VerifyASN1, the fastest
// standard-library path) over the token's own
// signing input, the limit any verifier has. "parallel" is "idtoken" under
// b.RunParallel, and "raw-parallel" is "raw" under b.RunParallel: the
// speed-up the machine itself gives the signature check.
//
//	go test -run '^$' -bench BenchmarkVerify -benchmem -count 6 ./provider/
//
// Verification runs on the module's one JOSE reader (internal/jose): one
// validating pass over header and claims (no json.Valid before a walk, no
// reflection), hashes into fixed-size arrays, the signature checked with the
// standard library, keys taken from the cache without a lock. Medians of six
// runs of the command above (sub-benchmarks raw and idtoken) on a 2-core
// x86-64 VM, Go 1.26.8, load average about 2, in process CPU time per
// operation (reportCPU), which stays meaningful when the machine is shared:
//
//	                CPU ns/op   B/op  allocs
//	RS256/raw           30400   1376       9
//	RS256/idtoken       35321   2448      22
//	ES256/raw           71994    576      10
//	ES256/idtoken       75048   1600      24
//
// idtoken/raw: 1.16 (RS256) and 1.04 (ES256, against ecdsa.VerifyASN1 on a
// DER signature made once outside the loop).
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		alg jwks.Algorithm
		key string
	}{{jwks.RS256, testkeys.RSA2048A}, {jwks.ES256, testkeys.P256A}} {
		b.Run(string(bc.alg), func(b *testing.B) {
			key := testKey(b, bc.key, "k1")
			f := newFakeIDP(b, key, testKey(b, testkeys.RSA2048B, "k2"))
			p := f.discover(b, provider.Config{})
			v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{bc.alg}})
			if err != nil {
				b.Fatal(err)
			}
			c := idClaims(f.issuer())
			c["at_hash"] = atHash("access-token-1")
			c["acr"] = "urn:mace:incommon:iap:silver"
			c["email"] = "ada@example.com"
			c["email_verified"] = true
			c["name"] = "Ada Lovelace"
			tok := signJWT(b, key, nil, c)
			exp := provider.Expected{Nonce: "n-0S6_WzA2Mj", AccessToken: "access-token-1", MaxAge: time.Hour, ACR: []string{"urn:mace:incommon:iap:silver"}}
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok, exp); err != nil { // warms the key cache
				b.Fatal(err)
			}
			dot := strings.LastIndexByte(tok, '.')
			input := []byte(tok[:dot])
			sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])

			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				switch pub := key.Public().(type) {
				case *rsa.PublicKey:
					for b.Loop() {
						h := sha256.Sum256(input)
						if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
							b.Fatal("signature")
						}
					}
				case *ecdsa.PublicKey:
					// The fastest standard-library path: the DER form made
					// once, outside the loop, and ecdsa.VerifyASN1.
					der := derSig(b, sig)
					for b.Loop() {
						h := sha256.Sum256(input)
						if !ecdsa.VerifyASN1(pub, h[:], der) {
							b.Fatal("signature")
						}
					}
				}
			})
			var der []byte
			if len(sig) == 64 {
				der = derSig(b, sig)
			}
			b.Run("raw-parallel", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						h := sha256.Sum256(input)
						var ok bool
						switch pub := key.Public().(type) {
						case *rsa.PublicKey:
							ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
						case *ecdsa.PublicKey:
							ok = ecdsa.VerifyASN1(pub, h[:], der)
						}
						if !ok {
							b.Error("signature")
							return
						}
					}
				})
			})
			b.Run("idtoken", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					if _, err := v.Verify(ctx, tok, exp); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := v.Verify(ctx, tok, exp); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// derSig turns a JWS ES256 signature (R‖S) into ASN.1 DER.
func derSig(b *testing.B, sig []byte) []byte {
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	if err != nil {
		b.Fatal(err)
	}
	return der
}

// reportCPU reports the process CPU time per operation ("cpu-ns/op") of the
// benchmark it is deferred in. Wall time (ns/op) on a loaded machine also
// measures the other processes; CPU time does much less so. For "parallel"
// it is the CPU time of all workers, so equal figures for "idtoken" and
// "parallel" mean that two free cores give twice the throughput.
func reportCPU(b *testing.B) func() {
	c0 := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		}
	}
}
