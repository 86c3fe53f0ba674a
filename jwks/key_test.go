package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// kmsSigner stands for a key held in a KMS: it exposes only crypto.Signer
// and counts its calls.
type kmsSigner struct {
	inner crypto.Signer
	calls atomic.Int64
}

func (s *kmsSigner) Public() crypto.PublicKey { return s.inner.Public() }
func (s *kmsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	return s.inner.Sign(r, digest, opts)
}

type ctxKey struct{}

// ctxSigner is a ContextSigner that honours its context and records the
// value the caller put in it.
type ctxSigner struct {
	kmsSigner
	seen atomic.Value // the ctxKey value of the last call
}

func (s *ctxSigner) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if v := ctx.Value(ctxKey{}); v != nil {
		s.seen.Store(v)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.kmsSigner.Sign(nil, digest, opts)
}

func (s *ctxSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("ctxSigner: Sign called instead of SignContext")
}

// lyingSigner signs with one key and claims another's public key.
type lyingSigner struct{ signer, claims crypto.Signer }

func (s lyingSigner) Public() crypto.PublicKey { return s.claims.Public() }
func (s lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return s.signer.Sign(r, d, o)
}

// brokenSigner returns fixed output or an error.
type brokenSigner struct {
	pub crypto.PublicKey
	out []byte
	err error
}

func (s brokenSigner) Public() crypto.PublicKey                                  { return s.pub }
func (s brokenSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return s.out, s.err }

func TestNewKeyExternalSigner(t *testing.T) {
	t.Parallel()
	for _, name := range []string{testkeys.RSA2048A, testkeys.P256A, testkeys.P521, testkeys.Ed25519A} {
		kms := &kmsSigner{inner: testkeys.Signer(name)}
		k, err := NewKey(t.Context(), kms, KeyConfig{})
		if err != nil {
			t.Fatalf("NewKey(kms %s) error = %v", name, err)
		}
		if kms.calls.Load() != 1 {
			t.Errorf("NewKey(kms %s) signed %d times, want 1 self-test", name, kms.calls.Load())
		}
		if k.KeyID() != testKey(t, name).KeyID() {
			t.Errorf("NewKey(kms %s) kid %q, want the thumbprint %q", name, k.KeyID(), testKey(t, name).KeyID())
		}
		signVerify(t, k)
		if _, err := k.PrivatePEM(); !errors.Is(err, errNotExportable) {
			t.Errorf("PrivatePEM() of a KMS key error = %v, want errNotExportable", err)
		}
	}
	// PS256 through an opaque signer: the signer receives PSS options.
	k, err := NewKey(t.Context(), &kmsSigner{inner: testkeys.Signer(testkeys.RSA2048B)}, KeyConfig{Algorithm: PS256})
	if err != nil {
		t.Fatal(err)
	}
	signVerify(t, k)
}

func TestNewKeyContextSigner(t *testing.T) {
	t.Parallel()
	s := &ctxSigner{kmsSigner: kmsSigner{inner: testkeys.Signer(testkeys.P256A)}}
	ctx := context.WithValue(t.Context(), ctxKey{}, "construction")
	k, err := NewKey(ctx, s, KeyConfig{})
	if err != nil {
		t.Fatalf("NewKey(ctxSigner) error = %v", err)
	}
	if got := s.seen.Load(); got != "construction" {
		t.Errorf("self-test context value = %v, want the caller's", got)
	}
	if _, err := k.Sign(context.WithValue(t.Context(), ctxKey{}, "sign"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := s.seen.Load(); got != "sign" {
		t.Errorf("Sign context value = %v, want the caller's", got)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := k.Sign(canceled, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Sign(canceled) error = %v, want context.Canceled", err)
	}
	if _, err := NewKey(canceled, s, KeyConfig{}); !errors.Is(err, context.Canceled) || errors.Is(err, errInvalidKey) {
		t.Errorf("NewKey(canceled) error = %v, want context.Canceled and not errInvalidKey", err)
	}
}

func TestNewKeyRefusals(t *testing.T) {
	t.Parallel()
	rsaKey := func() *rsa.PrivateKey {
		// A fresh copy each time: the cases tamper with it.
		return testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey)
	}
	tamperD := rsaKey()
	tamperD.D = new(big.Int).Add(tamperD.D, big.NewInt(2))
	tamperP := rsaKey()
	tamperP.Primes[0] = new(big.Int).Add(tamperP.Primes[0], big.NewInt(2))
	swapN := rsaKey()
	swapN.N = testkeys.Signer(testkeys.RSA2048B).(*rsa.PrivateKey).N
	threePrimes := rsaKey()
	threePrimes.Primes = append(threePrimes.Primes, big.NewInt(7))
	noPrimes := rsaKey()
	noPrimes.Primes = nil
	noD := &ecdsa.PrivateKey{PublicKey: testkeys.Signer(testkeys.P256A).(*ecdsa.PrivateKey).PublicKey}
	tamperX := testkeys.Signer(testkeys.P256A).(*ecdsa.PrivateKey)
	tamperX.X = new(big.Int).Set(testkeys.Signer(testkeys.P256B).(*ecdsa.PrivateKey).X)
	ed := testkeys.Signer(testkeys.Ed25519A).(ed25519.PrivateKey)
	p256 := testkeys.Signer(testkeys.P256A)
	// An ECDSA signer that returns a DER signature of the wrong key.
	wrongSig, _ := testkeys.Signer(testkeys.P256B).Sign(nil, make([]byte, 32), crypto.SHA256)

	tests := []struct {
		name    string
		s       crypto.Signer
		cfg     KeyConfig
		wantErr error
	}{
		{"nil signer", nil, KeyConfig{}, ErrNoKey},
		{"typed nil RSA", (*rsa.PrivateKey)(nil), KeyConfig{}, errInvalidKey},
		{"typed nil ECDSA", (*ecdsa.PrivateKey)(nil), KeyConfig{}, errInvalidKey},
		{"RSA D tampered", tamperD, KeyConfig{}, errInvalidKey},
		{"RSA prime tampered", tamperP, KeyConfig{}, errInvalidKey},
		{"RSA modulus of another key", swapN, KeyConfig{}, errInvalidKey},
		{"RSA without primes", noPrimes, KeyConfig{}, errUnsupportedKey},
		{"RSA with three primes", threePrimes, KeyConfig{}, errUnsupportedKey},
		{"RSA 1024", testkeys.Signer(testkeys.RSA1024), KeyConfig{}, errWeakKey},
		{"RSA 1024 behind a KMS", &kmsSigner{inner: testkeys.Signer(testkeys.RSA1024)}, KeyConfig{}, errWeakKey},
		{"ECDSA X of another key", tamperX, KeyConfig{}, errInvalidKey},
		{"ECDSA without private scalar", noD, KeyConfig{}, errInvalidKey},
		{"P-224", p224Key(t), KeyConfig{}, errUnsupportedKey},
		{"P-224 behind a KMS", &kmsSigner{inner: p224Key(t)}, KeyConfig{}, errUnsupportedKey},
		{"short Ed25519", ed[:40], KeyConfig{}, errInvalidKey},
		{"signer lies about its key", lyingSigner{signer: testkeys.Signer(testkeys.RSA2048B), claims: testkeys.Signer(testkeys.RSA2048A)}, KeyConfig{}, errInvalidKey},
		{"signer returns a wrong signature", brokenSigner{pub: p256.Public(), out: wrongSig}, KeyConfig{}, errInvalidKey},
		{"signer returns garbage", brokenSigner{pub: p256.Public(), out: []byte("garbage")}, KeyConfig{}, errInvalidKey},
		{"signer returns an error", brokenSigner{pub: p256.Public(), err: errors.New("kms unavailable")}, KeyConfig{}, errInvalidKey},
		{"signer without public key", brokenSigner{}, KeyConfig{}, errInvalidKey},
		{"unsupported public key", brokenSigner{pub: "a string"}, KeyConfig{}, errUnsupportedKey},
		{"ES384 with P-256", p256, KeyConfig{Algorithm: ES384}, errAlgorithmMismatch},
		{"EdDSA with EC", p256, KeyConfig{Algorithm: EdDSA}, errAlgorithmMismatch},
		{"PS256 with EC", p256, KeyConfig{Algorithm: PS256}, errAlgorithmMismatch},
		{"HS256 with EC", p256, KeyConfig{Algorithm: "HS256"}, errAlgorithmMismatch},
		{"HS256 with RSA", rsaKey(), KeyConfig{Algorithm: "HS256"}, errAlgorithmMismatch},
		{"hs384 with Ed25519", ed, KeyConfig{Algorithm: "hs384"}, errAlgorithmMismatch},
		{"none", ed, KeyConfig{Algorithm: "none"}, errAlgorithmMismatch},
	}
	for _, tc := range tests {
		k, err := NewKey(t.Context(), tc.s, tc.cfg)
		if !errors.Is(err, tc.wantErr) || k != nil {
			t.Errorf("NewKey(%s) = %v, %v, want nil, %v", tc.name, k, err, tc.wantErr)
			continue
		}
		checkNoKeyBytes(t, "NewKey("+tc.name+") error", err.Error())
	}
}

func TestDefaultAlgorithms(t *testing.T) {
	t.Parallel()
	want := map[string]Algorithm{
		testkeys.RSA2048A: RS256, testkeys.RSA3072: RS256, testkeys.RSA4096: RS256,
		testkeys.P256A: ES256, testkeys.P256ShortX: ES256, testkeys.P384: ES384, testkeys.P521: ES512,
		testkeys.Ed25519A: EdDSA,
	}
	for name, alg := range want {
		if got := testKey(t, name).Algorithm(); got != alg {
			t.Errorf("ParsePEM(%s).Algorithm() = %s, want %s", name, got, alg)
		}
	}
	for _, alg := range []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512} {
		k, err := NewKey(t.Context(), testkeys.Signer(testkeys.RSA2048C), KeyConfig{Algorithm: alg})
		if err != nil {
			t.Fatalf("NewKey(RSA, %s) error = %v", alg, err)
		}
		signVerify(t, k)
	}
}

// TestNewKeyCopiesCallerKey checks that a Key does not share mutable state
// with the caller's key: changing the caller's key afterwards changes nothing.
func TestNewKeyCopiesCallerKey(t *testing.T) {
	t.Parallel()
	r := testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey)
	e := testkeys.Signer(testkeys.P384).(*ecdsa.PrivateKey)
	ed := testkeys.Signer(testkeys.Ed25519B).(ed25519.PrivateKey)
	var keys []*Key
	for _, s := range []crypto.Signer{r, e, ed} {
		k, err := NewKey(t.Context(), s, KeyConfig{})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	r.D.SetInt64(3)
	r.Primes[0].SetInt64(5)
	*e = *testkeys.Signer(testkeys.P256B).(*ecdsa.PrivateKey)
	clear(ed)
	for _, k := range keys {
		signVerify(t, k)
	}
}

// TestRSAPrecomputed checks that RSA keys from every loader are precomputed
// once at load, including the standard library's internal form.
func TestRSAPrecomputed(t *testing.T) {
	t.Parallel()
	raw := testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey)
	fromPKCS1, err := ParsePEM(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(raw), nil), KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	fromJWK, err := ParseJWK(privateJWK(t, testkeys.RSA2048A, "", ""), KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	bare := &rsa.PrivateKey{PublicKey: raw.PublicKey, D: raw.D, Primes: raw.Primes} // nothing precomputed
	fromBare, err := NewKey(t.Context(), bare, KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*Key{"PKCS#8": testKey(t, testkeys.RSA2048A), "PKCS#1": fromPKCS1, "JWK": fromJWK, "NewKey": fromBare} {
		p, ok := k.signer.s.(*rsa.PrivateKey)
		if !ok {
			t.Fatalf("%s: signer is %T", name, k.signer.s)
		}
		if p.Precomputed.Dp == nil || p.Precomputed.Dq == nil || p.Precomputed.Qinv == nil {
			t.Errorf("%s: CRT values not precomputed", name)
		}
		// The standard library keeps its own precomputed form in an
		// unexported field; when this Go version has it, it must be set.
		if f := reflect.ValueOf(p.Precomputed).FieldByName("fips"); f.IsValid() && f.IsNil() {
			t.Errorf("%s: crypto/rsa's internal precomputed key is not set", name)
		}
	}
}

// TestThumbprintRFC7638 checks the RFC 7638 §3.1 example and that every test
// key's default kid equals go-jose's SHA-256 thumbprint.
func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537})
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want || err != nil {
		t.Errorf("thumbprint(RFC 7638 §3.1 key) = %q, %v, want %q", got, err, want)
	}
	for _, k := range allTestKeys(t) {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.PublicJWKJSON()); err != nil {
			t.Fatal(err)
		}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.RawURLEncoding.EncodeToString(tp); k.KeyID() != want {
			t.Errorf("%v: kid %q, go-jose thumbprint %q", k, k.KeyID(), want)
		}
	}
}

// TestKeyRedaction formats keys every way a program might and checks that
// no private material appears.
func TestKeyRedaction(t *testing.T) {
	t.Parallel()
	for _, name := range []string{testkeys.RSA2048A, testkeys.P256A, testkeys.Ed25519A} {
		k := testKey(t, name)
		var logs bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		logger.Info("key", "key", k, "value", *k, "any", any(k))
		logger.Info("group", slog.Any("k", k), slog.Group("g", "k", k))
		//lint:ignore SA9005 the test checks that JSON gets nothing of a Key
		jsonPtr, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		jsonVal, _ := json.Marshal(struct {
			K  *Key
			V  Key
			KS []*Key
		}{k, *k, []*Key{k}})
		outputs := map[string]string{
			"%v":             fmt.Sprintf("%v", k),
			"%+v":            fmt.Sprintf("%+v", k),
			"%#v":            fmt.Sprintf("%#v", k),
			"%s":             fmt.Sprintf("%s", k),
			"%q":             fmt.Sprintf("%q", k),
			"%x":             fmt.Sprintf("%x", k),
			"%d":             fmt.Sprintf("%d", k),
			"value %v":       fmt.Sprintf("%v", *k),
			"value %+v":      fmt.Sprintf("%+v", *k),
			"value %#v":      fmt.Sprintf("%#v", *k),
			"in a struct":    fmt.Sprintf("%+v %#v", struct{ K *Key }{k}, struct{ K *Key }{k}),
			"in a slice":     fmt.Sprintf("%v %#v", []*Key{k}, []*Key{k}),
			"Sprint":         fmt.Sprint(k, *k),
			"Sprintln":       fmt.Sprintln(k),
			"String":         k.String(),
			"GoString":       k.GoString(),
			"slog JSON":      logs.String(),
			"json.Marshal":   string(jsonPtr),
			"json in struct": string(jsonVal),
			"error wrapping": fmt.Errorf("loading %v: %w", k, errInvalidKey).Error(),
		}
		for how, out := range outputs {
			checkNoKeyBytes(t, name+" "+how, out)
		}
		// The redacted forms do say which key it is.
		for _, how := range []string{"%v", "%+v", "%#v", "%s", "slog JSON"} {
			if !strings.Contains(outputs[how], k.KeyID()) {
				t.Errorf("%s %s = %q, want the kid", name, how, outputs[how])
			}
		}
		// A Key has no exported fields: JSON gets nothing of it.
		if outputs["json.Marshal"] != `{}` {
			t.Errorf("json.Marshal(key) = %s, want {}", outputs["json.Marshal"])
		}
	}
	var nilKey *Key
	if s := fmt.Sprintf("%v %+v %s", nilKey, nilKey, nilKey); !strings.Contains(s, "nil") {
		t.Errorf("nil key formats as %q", s)
	}
}

// TestCheckNoKeyBytesWorks proves the redaction checker would catch a leak.
func TestCheckNoKeyBytesWorks(t *testing.T) {
	t.Parallel()
	for _, name := range []string{testkeys.RSA2048A, testkeys.P256A, testkeys.Ed25519A} {
		s := testkeys.Signer(name)
		leaks := []string{
			string(testkeys.PEM(name)),
			fmt.Sprintf("%v", s),
			fmt.Sprintf("%+v", s),
			fmt.Sprintf("%#v", s),
		}
		for i, leak := range leaks {
			ft := &testing.T{}
			found := false
			for _, secret := range secretForms(ft, name) {
				found = found || strings.Contains(leak, secret)
			}
			if !found {
				t.Errorf("secretForms(%s) does not recognise leak %d", name, i)
			}
		}
		// Private JWK members in base64url are recognised.
		jwk := privateJWK(t, name, "", "")
		found := false
		for _, secret := range secretForms(t, name) {
			found = found || strings.Contains(string(jwk), secret)
		}
		if !found {
			t.Errorf("secretForms(%s) does not recognise the private JWK", name)
		}
	}
}

func TestPEMRoundTrip(t *testing.T) {
	t.Parallel()
	for _, k := range allTestKeys(t) {
		priv, err := k.PrivatePEM()
		if err != nil {
			t.Fatalf("%v: PrivatePEM() error = %v", k, err)
		}
		if blk, _ := pem.Decode(priv); blk == nil || blk.Type != "PRIVATE KEY" {
			t.Fatalf("%v: PrivatePEM() is not a PRIVATE KEY block", k)
		}
		again, err := ParsePEM(priv, KeyConfig{Algorithm: k.Algorithm()})
		if err != nil || again.KeyID() != k.KeyID() {
			t.Errorf("%v: ParsePEM(PrivatePEM()) = %v, %v", k, again, err)
		}
		blk, _ := pem.Decode(k.PublicPEM())
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			t.Fatalf("%v: PublicPEM() does not parse: %v", k, err)
		}
		if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.Public()) {
			t.Errorf("%v: PublicPEM() holds another key", k)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.PublicJWKJSON()); err != nil || !jwk.IsPublic() || jwk.KeyID != k.KeyID() || jwk.Algorithm != string(k.Algorithm()) || jwk.Use != "sig" {
			t.Errorf("%v: PublicJWKJSON() = %s (%v)", k, k.PublicJWKJSON(), err)
		}
		if got, err := k.SigningKey(); got != k || err != nil {
			t.Errorf("%v: SigningKey() = %v, %v", k, got, err)
		}
	}
}

func TestKeyIDIsEscaped(t *testing.T) {
	t.Parallel()
	k, err := NewKey(t.Context(), testkeys.Signer(testkeys.P256A), KeyConfig{KeyID: `a"b\c</script>`})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(k.PublicJWKJSON(), &m); err != nil || m["kid"] != `a"b\c</script>` {
		t.Errorf("PublicJWKJSON() with an odd kid = %s (%v)", k.PublicJWKJSON(), err)
	}
	if bytes.Contains(k.PublicJWKJSON(), []byte("</script>")) {
		t.Errorf("PublicJWKJSON() does not escape HTML in the kid")
	}
}

func TestDERToRS(t *testing.T) {
	t.Parallel()
	e := testkeys.Signer(testkeys.P521).(*ecdsa.PrivateKey)
	digest := make([]byte, 64)
	r, s, err := ecdsa.Sign(strings.NewReader(strings.Repeat("x", 1000)), e, digest)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := asn1Marshal(r, s)
	out, err := derToRS(der, 66)
	if err != nil || len(out) != 132 {
		t.Fatalf("derToRS() = %d bytes, %v", len(out), err)
	}
	if !ecdsa.Verify(&e.PublicKey, digest, new(big.Int).SetBytes(out[:66]), new(big.Int).SetBytes(out[66:])) {
		t.Errorf("derToRS() output does not verify")
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 600)
	for name, der := range map[string][]byte{
		"empty":     nil,
		"trailing":  append(der, 0),
		"oversized": mustDER(huge, s),
		"zero R":    mustDER(new(big.Int), s),
		"negative":  mustDER(new(big.Int).Neg(r), s),
	} {
		if _, err := derToRS(der, 66); !errors.Is(err, errInvalidKey) {
			t.Errorf("derToRS(%s) error = %v, want errInvalidKey", name, err)
		}
	}
}

func asn1Marshal(r, s *big.Int) ([]byte, error) {
	return asn1MarshalStruct(struct{ R, S *big.Int }{r, s})
}

func mustDER(r, s *big.Int) []byte { b, _ := asn1Marshal(r, s); return b }

// BenchmarkRSASign compares a loaded (precomputed) key with the same key
// not precomputed, which is what loading once saves on every signature.
func BenchmarkRSASign(b *testing.B) {
	k := testKey(b, testkeys.RSA2048A)
	raw := testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey)
	bare := *k
	bare.signer = &signerBox{&rsa.PrivateKey{PublicKey: raw.PublicKey, D: raw.D, Primes: raw.Primes}}
	input := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0")
	for name, key := range map[string]*Key{"precomputed": k, "not-precomputed": &bare} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := key.Sign(b.Context(), input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rsa4097 returns the pre-generated RSA key of 4097 bits in
// testdata/rsa4097.pem, one bit above maxSigningRSABits. Its PEM label reads
// TESTING KEY, as in internal/testkeys, and is rewritten here.
func rsa4097(t testing.TB) (pemBytes []byte, key *rsa.PrivateKey) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rsa4097.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pemBytes = bytes.ReplaceAll(b, []byte("TESTING KEY"), []byte("PRIVATE KEY"))
	blk, _ := pem.Decode(pemBytes)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key = k.(*rsa.PrivateKey)
	if bits := key.N.BitLen(); bits != maxSigningRSABits+1 {
		t.Fatalf("testdata/rsa4097.pem has %d bits, want %d", bits, maxSigningRSABits+1)
	}
	return pemBytes, key
}

// TestSigningRSAAboveMaxRefused: an RSA signing key above maxSigningRSABits
// is refused by every loader with errUnsupportedKey and a message saying
// why, rather than loading and then failing at verifiers (go-jose, and so
// providers and providertest, refuse RSA keys above 4096 bits). Keys of
// exactly maxSigningRSABits load (TestDefaultAlgorithms).
func TestSigningRSAAboveMaxRefused(t *testing.T) {
	pemBytes, key := rsa4097(t)
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), nil)
	jwk, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// A JWK with only n, e and d, which go-jose refuses before any check
	// of ours could run.
	jwkNoPrimes := editJWK(t, jwk, func(m map[string]any) {
		for _, k := range []string{"p", "q", "dp", "dq", "qi"} {
			delete(m, k)
		}
	})
	file := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	const envName = "PKJWT_TEST_RSA4097"
	t.Setenv(envName, base64.StdEncoding.EncodeToString(pemBytes))

	tests := []struct {
		name string
		load func() (*Key, error)
	}{
		{"ParsePEM PKCS#8", func() (*Key, error) { return ParsePEM(pemBytes, KeyConfig{}) }},
		{"ParsePEM PKCS#1", func() (*Key, error) { return ParsePEM(pkcs1, KeyConfig{}) }},
		{"ParsePEM PS256", func() (*Key, error) { return ParsePEM(pemBytes, KeyConfig{Algorithm: PS256}) }},
		{"ParsePEM base64", func() (*Key, error) {
			return ParsePEM([]byte(base64.StdEncoding.EncodeToString(pemBytes)), KeyConfig{})
		}},
		{"LoadPEMEnv", func() (*Key, error) { return LoadPEMEnv(envName, KeyConfig{}) }},
		{"LoadPEMFile", func() (*Key, error) { return LoadPEMFile(file, KeyConfig{}) }},
		{"ParseJWK", func() (*Key, error) { return ParseJWK(jwk, KeyConfig{}) }},
		{"ParseJWK without primes", func() (*Key, error) { return ParseJWK(jwkNoPrimes, KeyConfig{}) }},
		{"NewKey in memory", func() (*Key, error) { return NewKey(t.Context(), key, KeyConfig{}) }},
		{"NewKey behind a KMS", func() (*Key, error) { return NewKey(t.Context(), &kmsSigner{inner: key}, KeyConfig{}) }},
		{"GenerateRSA 8192", func() (*Key, error) { return GenerateRSA(8192, RS256) }},
	}
	for _, tc := range tests {
		k, err := tc.load()
		if !errors.Is(err, errUnsupportedKey) || k != nil {
			t.Errorf("%s(RSA above %d bits) = %v, %v, want nil, errUnsupportedKey", tc.name, maxSigningRSABits, k, err)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"at most 4096 bits", "go-jose"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s(RSA above %d bits) error %q does not say %q", tc.name, maxSigningRSABits, msg, want)
			}
		}
		if strings.Contains(msg, "inconsistent") {
			t.Errorf("%s(RSA above %d bits) error %q calls a sound key inconsistent", tc.name, maxSigningRSABits, msg)
		}
		checkNoKeyBytes(t, tc.name+" error", msg)
	}
}
