package providertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// sentinels are the reasons checkClientAssertion may give.
var sentinels = []error{
	ErrMalformedAssertion, ErrUnknownClient, ErrAlgorithm, ErrUnknownKey, ErrSignature,
	ErrIssuer, ErrSubject, ErrAudience, ErrType, ErrMissingExpiry, ErrExpired,
	ErrMissingIssuedAt, ErrIssuedInFuture, ErrLifetime, ErrNotYetValid, ErrMissingJTI,
	ErrReplay, ErrReplayCacheFull, ErrClientIDMismatch, ErrClientJWKS,
}

// FuzzClientAssertion feeds arbitrary client_assertion strings to the
// checks. They must never panic, must refuse with one of the documented
// reasons, and must accept only an assertion that go-jose verifies with
// the registered key.
func FuzzClientAssertion(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const issuer = "https://op.example"
	key := testkeys.Signer(testkeys.P256A)
	pub := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Use: "sig"}
	s, err := newServer(Config{
		Now:     clock.Fixed(now),
		MaxJTIs: 1000,
		Clients: []Client{{ID: "c1", JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}, Algorithms: []jwks.Algorithm{jwks.ES256}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	s.issuer, s.base = issuer, issuer

	sign := func(c map[string]any, hdr map[jose.HeaderKey]any) string {
		opts := &jose.SignerOptions{ExtraHeaders: hdr}
		sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, opts)
		if err != nil {
			f.Fatal(err)
		}
		p, _ := json.Marshal(c)
		obj, err := sg.Sign(p)
		if err != nil {
			f.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}
	valid := map[string]any{"iss": "c1", "sub": "c1", "aud": issuer, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "seed"}
	good := sign(valid, nil)
	f.Add(good)
	f.Add(sign(valid, map[jose.HeaderKey]any{"typ": "JWT"}))
	f.Add(sign(map[string]any{"iss": "c1", "sub": "c1", "aud": []string{issuer}, "iat": 1.5, "exp": 1e300, "nbf": "x", "jti": 7}, nil))
	f.Add(sign(map[string]any{"iss": "c1", "sub": "c1", "aud": issuer, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "seed2", "iss2": map[string]any{"a": []any{1, nil}}}, map[jose.HeaderKey]any{"crit": []string{"b64"}, "b64": false}))
	f.Add(good[:len(good)-2])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add(good + ".")
	f.Add("")
	f.Add("...")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJjMSIsInN1YiI6ImMxIn0.")
	f.Add("eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AAAA")
	f.Add(`{"protected":"e30","payload":"e30","signature":"AAAA"}`)
	f.Add("eyJhbGciOiJFUzI1NiJ9.W10.AAAA")
	f.Add("eyJhbGciOiJFUzI1NiJ9.bnVsbA.AAAA")

	f.Fuzz(func(t *testing.T, raw string) {
		rec := &Assertion{}
		cs, err := s.checkClientAssertion(t.Context(), raw, "", rec)
		if err != nil {
			if cs != nil {
				t.Fatalf("refused with a client: %v", err)
			}
			known := false
			for _, e := range sentinels {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Fatalf("refusal %v wraps no documented reason", err)
			}
			if strings.Contains(err.Error(), raw) && len(raw) > 20 {
				t.Fatalf("error message repeats the assertion")
			}
			return
		}
		if cs == nil || cs.ID != "c1" {
			t.Fatalf("accepted without the client")
		}
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("accepted an assertion go-jose does not parse: %v", err)
		}
		if _, err := jws.Verify(key.Public()); err != nil {
			t.Fatalf("accepted an assertion whose signature does not verify: %v", err)
		}
	})
}

// FuzzDecodeObject checks the strict JSON object decoder.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `[]`, `{"a":{"a":1,"a":2}}`, `{} x`, `{"a":1e999}`, `{"a":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeObject(b)
		if err != nil {
			return
		}
		var std map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("decodeObject accepted what encoding/json refuses: %v", err)
		}
		if len(std) != len(m) {
			t.Fatalf("decodeObject gave %d members, encoding/json %d", len(m), len(std))
		}
	})
}
