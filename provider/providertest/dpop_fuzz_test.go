package providertest

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// dpopSentinels are the reasons verifyDPoP may give.
var dpopSentinels = []error{
	ErrDPoPProofMissing, ErrDPoPMultipleProofs, ErrDPoPMalformed, ErrDPoPType, ErrDPoPAlgorithm,
	ErrDPoPKey, ErrDPoPSignature, ErrDPoPMissingJTI, ErrDPoPReplay, ErrDPoPMethod, ErrDPoPURI,
	ErrDPoPIssuedAt, ErrDPoPAccessTokenHash, ErrDPoPNonce, ErrReplayCacheFull,
}

// FuzzDPoPProof feeds arbitrary DPoP headers to the proof checks. They must
// never panic, must refuse with one of the documented reasons, and must
// return a thumbprint when they accept.
func FuzzDPoPProof(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const issuer = "https://op.example"
	s, err := newServer(Config{Now: clock.Fixed(now), MaxJTIs: 1000})
	if err != nil {
		f.Fatal(err)
	}
	s.issuer, s.base = issuer, issuer
	key := testkeys.Signer(testkeys.P256A)
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		f.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"jti": "seed", "htm": "POST", "htu": issuer + TokenPath, "iat": now.Unix()})
	obj, err := sg.Sign(payload)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := obj.CompactSerialize()
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(good + "." + good)
	f.Add(`eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7fX0.e30.AA`)
	f.Fuzz(func(t *testing.T, h string) {
		r, _ := http.NewRequest(http.MethodPost, issuer+TokenPath, nil)
		r.Header.Set("DPoP", h)
		jkt, err := s.verifyDPoP(r, http.MethodPost, issuer+TokenPath, "")
		if err == nil {
			if len(jkt) != 43 {
				t.Fatalf("accepted with thumbprint %q", jkt)
			}
			return
		}
		for _, se := range dpopSentinels {
			if errors.Is(err, se) {
				return
			}
		}
		t.Fatalf("undocumented reason: %v", err)
	})
}
