package assertion_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// fixedNow is the clock of every test.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// algCase is one algorithm with a pre-generated key for it.
type algCase struct {
	alg  jwks.Algorithm
	name string // testkeys name
}

var allAlgs = []algCase{
	{jwks.RS256, testkeys.RSA2048A},
	{jwks.PS256, testkeys.RSA2048B},
	{jwks.ES256, testkeys.P256A},
	{jwks.ES256, testkeys.P256ShortX},
	{jwks.ES384, testkeys.P384},
	{jwks.ES512, testkeys.P521},
	{jwks.EdDSA, testkeys.Ed25519A},
}

// newKey loads a pre-generated test key for alg.
func newKey(t testing.TB, name string, alg jwks.Algorithm) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(t.Context(), testkeys.Signer(name), jwks.KeyConfig{Algorithm: alg})
	if err != nil {
		t.Fatalf("jwks.NewKey(%s, %s) error = %v", name, alg, err)
	}
	return k
}

// selfSigned returns a self-signed certificate for the named test key.
func selfSigned(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	s := testkeys.Signer(name)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pkjwt test client"},
		NotBefore:    fixedNow.Add(-time.Hour),
		NotAfter:     fixedNow.Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("x509.CreateCertificate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("x509.ParseCertificate: %v", err)
	}
	return c
}

// verified is a token that go-jose parsed and verified.
type verified struct {
	header    map[string]json.RawMessage // the protected header, as sent
	claims    map[string]any             // the payload, decoded with UseNumber
	rawClaims []byte
}

// verifyToken parses tok with go-jose allowing only key's algorithm, verifies
// it with key's public JWK, and decodes header and claims. It never prints
// the token on failure.
func verifyToken(t testing.TB, tok string, key *jwks.Key) verified {
	t.Helper()
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(key.Algorithm())})
	if err != nil {
		t.Fatalf("jose.ParseSigned(alg %s) error = %v", key.Algorithm(), err)
	}
	payload, err := obj.Verify(testkeys.PublicJWK(key))
	if err != nil {
		t.Fatalf("go-jose Verify(alg %s, kid %s) error = %v", key.Algorithm(), key.KeyID(), err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header segment is not base64url: %v", err)
	}
	var v verified
	if err := json.Unmarshal(hb, &v.header); err != nil {
		t.Fatalf("header is not a JSON object: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&v.claims); err != nil {
		t.Fatalf("payload is not a JSON object: %v", err)
	}
	v.rawClaims = payload
	return v
}

// headerString returns a header member as a string, or fails.
func (v verified) headerString(t testing.TB, name string) string {
	t.Helper()
	var s string
	raw, ok := v.header[name]
	if !ok {
		t.Fatalf("header has no %q", name)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("header %q is not a string: %s", name, raw)
	}
	return s
}

// num returns a numeric claim, or fails.
func (v verified) num(t testing.TB, name string) int64 {
	t.Helper()
	n, ok := v.claims[name].(json.Number)
	if !ok {
		t.Fatalf("claim %q = %#v, want a number", name, v.claims[name])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %q = %s, want an integer", name, n)
	}
	return i
}

// keysOf returns the sorted member names of m.
func keysOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// swapSource is a KeySource whose key a test can change, like a ring.
type swapSource struct {
	key atomic.Pointer[jwks.Key]
	err error
}

func (s *swapSource) SigningKey() (*jwks.Key, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.key.Load(), nil
}

// failingSigner signs normally until fail is set, then returns an error.
type failingSigner struct {
	crypto.Signer
	fail atomic.Bool
}

func (f *failingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if f.fail.Load() {
		return nil, errKMS
	}
	return f.Signer.Sign(r, digest, opts)
}

// errKMS stands for a remote signer's failure; its text must not leak
// anything either.
var errKMS = errors.New("kms: throttled")
