package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/pkjwt/pkjwt/internal/digest"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

var enc = base64.RawURLEncoding

// sign makes a compact JWS of header and payload with signer under alg.
func sign(t testing.TB, signer crypto.Signer, alg, header, payload string) string {
	t.Helper()
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	a, ok := Lookup(alg)
	if !ok {
		t.Fatalf("unknown alg %s", alg)
	}
	var buf [64]byte
	msg := digest.Sum(a.Hash, []byte(in), &buf)
	var opts crypto.SignerOpts = a.Hash
	if a.Kty == "OKP" {
		msg, opts = []byte(in), crypto.Hash(0)
	}
	if a.PSS {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.Hash}
	}
	sig, err := signer.Sign(rand.Reader, msg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kty == "EC" {
		var ok bool
		if sig, ok = DERToRS(nil, sig, a.Size); !ok {
			t.Fatal("DERToRS failed on a signer's output")
		}
	}
	return in + "." + enc.EncodeToString(sig)
}

type testKey struct {
	pub crypto.PublicKey
	alg string
}

func keyOf(k *testKey) (crypto.PublicKey, string) { return k.pub, k.alg }

func verify(raw string, allow []string, keys ...testKey) (JWS, error) {
	t, err := Parse(raw, 32<<10, allow)
	if err != nil {
		return t, err
	}
	return t, Verify(&t, keys, keyOf)
}

func TestParseAndVerify(t *testing.T) {
	t.Parallel()
	rsaKey := testkeys.Signer(testkeys.RSA2048A)
	ecKey := testkeys.Signer(testkeys.P256A)
	edKey := testkeys.Signer(testkeys.Ed25519A)
	p384 := testkeys.Signer(testkeys.P384)
	p521 := testkeys.Signer(testkeys.P521)
	all := []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"}
	good := `{"sub":"alice"}`
	for _, tc := range []struct {
		name string
		tok  string
		keys []testKey
		want error
	}{
		{"RS256", sign(t, rsaKey, "RS256", `{"alg":"RS256","kid":"k"}`, good), []testKey{{rsaKey.Public(), ""}}, nil},
		{"PS256", sign(t, rsaKey, "PS256", `{"alg":"PS256"}`, good), []testKey{{rsaKey.Public(), ""}}, nil},
		{"ES256", sign(t, ecKey, "ES256", `{"alg":"ES256"}`, good), []testKey{{ecKey.Public(), ""}}, nil},
		{"ES384", sign(t, p384, "ES384", `{"alg":"ES384"}`, good), []testKey{{p384.Public(), ""}}, nil},
		{"ES512", sign(t, p521, "ES512", `{"alg":"ES512"}`, good), []testKey{{p521.Public(), ""}}, nil},
		{"EdDSA", sign(t, edKey, "EdDSA", `{"alg":"EdDSA"}`, good), []testKey{{edKey.Public(), ""}}, nil},
		{"second key verifies", sign(t, ecKey, "ES256", `{"alg":"ES256"}`, good), []testKey{{testkeys.Signer(testkeys.P256B).Public(), ""}, {ecKey.Public(), ""}}, nil},
		{"wrong key", sign(t, ecKey, "ES256", `{"alg":"ES256"}`, good), []testKey{{testkeys.Signer(testkeys.P256B).Public(), ""}}, ErrSignature},
		{"key restricted to another alg", sign(t, rsaKey, "RS256", `{"alg":"RS256"}`, good), []testKey{{rsaKey.Public(), "PS256"}}, ErrNoKey},
		{"ES256 on a P-384 key", sign(t, ecKey, "ES256", `{"alg":"ES256"}`, good), []testKey{{p384.Public(), ""}}, ErrNoKey},
		{"RSA key below 2048", sign(t, testkeys.Signer(testkeys.RSA1024), "RS256", `{"alg":"RS256"}`, good), []testKey{{testkeys.Signer(testkeys.RSA1024).Public(), ""}}, ErrMalformed},
		{"alg none", enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(good)) + ".", nil, ErrAlgorithm},
		{"alg nOnE, empty signature", enc.EncodeToString([]byte(`{"alg":"nOnE"}`)) + "." + enc.EncodeToString([]byte(good)) + ".", nil, ErrAlgorithm},
		{"alg hs256", enc.EncodeToString([]byte(`{"alg":"hs256"}`)) + "." + enc.EncodeToString([]byte(good)) + ".AAAA", nil, ErrAlgorithm},
		{"alg rs256 lower case", sign(t, rsaKey, "RS256", `{"alg":"rs256"}`, good), []testKey{{rsaKey.Public(), ""}}, ErrAlgorithm},
		{"alg not allowed", sign(t, rsaKey, "RS384", `{"alg":"RS384"}`, good), []testKey{{rsaKey.Public(), ""}}, ErrAlgorithm},
		{"header ALG upper case is no alg", sign(t, rsaKey, "RS256", `{"ALG":"RS256"}`, good), []testKey{{rsaKey.Public(), ""}}, ErrAlgorithm},
		{"header alg twice", sign(t, rsaKey, "RS256", `{"alg":"RS256","alg":"RS256"}`, good), []testKey{{rsaKey.Public(), ""}}, ErrMalformed},
		{"header alg not a string", sign(t, rsaKey, "RS256", `{"alg":1}`, good), nil, ErrMalformed},
		{"crit", sign(t, rsaKey, "RS256", `{"alg":"RS256","crit":["exp"]}`, good), []testKey{{rsaKey.Public(), ""}}, ErrHeader},
		{"two segments", "eyJhbGciOiJSUzI1NiJ9.e30", nil, ErrMalformed},
		{"four segments", "eyJhbGciOiJSUzI1NiJ9.e30.AA.AA", nil, ErrMalformed},
		{"padding", "eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", nil, ErrMalformed},
		{"ES256 signature of wrong length", enc.EncodeToString([]byte(`{"alg":"ES256"}`)) + ".e30." + enc.EncodeToString(make([]byte, 63)), nil, ErrMalformed},
		{"empty payload", enc.EncodeToString([]byte(`{"alg":"ES256"}`)) + ".." + enc.EncodeToString(make([]byte, 64)), nil, ErrMalformed},
		{"no key", sign(t, ecKey, "ES256", `{"alg":"ES256","kid":"x"}`, good), nil, ErrNoKey},
	} {
		_, err := verify(tc.tok, all, tc.keys...)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Parse+Verify(%s) error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestVerifyBoundsKeysTried(t *testing.T) {
	t.Parallel()
	ecKey := testkeys.Signer(testkeys.P256A)
	tok := sign(t, ecKey, "ES256", `{"alg":"ES256"}`, `{}`)
	other := testkeys.Signer(testkeys.P256B).Public()
	keys := []testKey{{other, ""}, {other, ""}, {other, ""}, {other, ""}, {ecKey.Public(), ""}}
	if _, err := verify(tok, []string{"ES256"}, keys...); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify with the right key fifth = %v, want ErrSignature (at most %d keys tried)", err, MaxKeysTried)
	}
	if _, err := verify(tok, []string{"ES256"}, keys[1:]...); err != nil {
		t.Errorf("Verify with the right key fourth = %v, want nil", err)
	}
}

func TestDERToRS(t *testing.T) {
	t.Parallel()
	for _, name := range []string{testkeys.P256A, testkeys.P256ShortX, testkeys.P384, testkeys.P521} {
		k := testkeys.Signer(name).(*ecdsa.PrivateKey)
		alg := map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[k.Curve.Params().BitSize]
		a, _ := Lookup(alg)
		for range 50 {
			h := make([]byte, a.Hash.Size())
			rand.Read(h)
			der, _ := ecdsa.SignASN1(rand.Reader, k, h)
			rs, ok := DERToRS(nil, der, a.Size)
			if !ok || len(rs) != 2*a.Size {
				t.Fatalf("DERToRS(%s) = %x, %v", name, rs, ok)
			}
			var buf [2*66 + 9]byte
			if back := rsToDER(buf[:0], rs[:a.Size], rs[a.Size:]); string(back) != string(der) {
				t.Fatalf("rsToDER(DERToRS(%x)) = %x", der, back)
			}
		}
	}
	for _, bad := range []string{"", "30", "3000", "300402010002", "3006020100020100", "30060201ff020101", "3007020200010201010000", "3006020101020101ff"} {
		b := make([]byte, len(bad)/2)
		for i := range b {
			b[i] = hexByte(bad[2*i:])
		}
		if _, ok := DERToRS(nil, b, 32); ok {
			t.Errorf("DERToRS(%s) ok, want refused", bad)
		}
	}
}

func hexByte(s string) byte {
	v := func(c byte) byte {
		if c >= 'a' {
			return c - 'a' + 10
		}
		return c - '0'
	}
	return v(s[0])<<4 | v(s[1])
}

func TestTypIs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got  []byte
		want string
		ok   bool
	}{
		{nil, "", true},
		{[]byte("JWT"), "", true},
		{[]byte("jwt"), "", true},
		{[]byte("application/JWT"), "", true},
		{[]byte("at+jwt"), "", false},
		{[]byte("logout+jwt"), "", false},
		{[]byte(""), "", false},
		{[]byte("at+jwt"), "at+jwt", true},
		{[]byte("application/AT+JWT"), "at+jwt", true},
		{nil, "at+jwt", false},
	} {
		if got := TypIs(tc.got, tc.want); got != tc.ok {
			t.Errorf("TypIs(%q, %q) = %v, want %v", tc.got, tc.want, got, tc.ok)
		}
	}
}

// TestEd25519 (RFC 9864 §2.2): "Ed25519" is an algorithm of its own, the
// fully-specified name of EdDSA over Ed25519. A token so named verifies
// with an Ed25519 key when the allow-list has "Ed25519"; the names are
// compared exactly, so neither stands in for the other in an allow-list or
// a key's alg, and only an Ed25519 key fits.
func TestEd25519(t *testing.T) {
	t.Parallel()
	edKey := testkeys.Signer(testkeys.Ed25519A)
	a, ok := Lookup("Ed25519")
	if !ok || a.Kty != "OKP" || a.Hash != 0 {
		t.Fatalf(`Lookup("Ed25519") = %+v, %v; want an OKP entry without a hash`, a, ok)
	}
	if _, ok := Lookup("ed25519"); ok {
		t.Error(`Lookup("ed25519") found an entry; names are compared exactly`)
	}
	tok := sign(t, edKey, "Ed25519", `{"alg":"Ed25519"}`, `{"sub":"alice"}`)
	for _, tc := range []struct {
		name  string
		allow []string
		keys  []testKey
		want  error
	}{
		{"allowed, key without alg", []string{"Ed25519"}, []testKey{{edKey.Public(), ""}}, nil},
		{"allowed, key with alg Ed25519", []string{"RS256", "Ed25519"}, []testKey{{edKey.Public(), "Ed25519"}}, nil},
		{"only EdDSA allowed", []string{"EdDSA"}, []testKey{{edKey.Public(), ""}}, ErrAlgorithm},
		{"key restricted to EdDSA", []string{"Ed25519", "EdDSA"}, []testKey{{edKey.Public(), "EdDSA"}}, ErrNoKey},
		{"an EC key", []string{"Ed25519"}, []testKey{{testkeys.Signer(testkeys.P256A).Public(), ""}}, ErrNoKey},
		{"another Ed25519 key", []string{"Ed25519"}, []testKey{{testkeys.Signer(testkeys.Ed25519B).Public(), ""}}, ErrSignature},
	} {
		_, err := verify(tok, tc.allow, tc.keys...)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Parse+Verify(Ed25519, %s) error = %v, want %v", tc.name, err, tc.want)
		}
	}
	// An EdDSA token is not an Ed25519 one either.
	eddsa := sign(t, edKey, "EdDSA", `{"alg":"EdDSA"}`, `{}`)
	if _, err := verify(eddsa, []string{"Ed25519"}, testKey{edKey.Public(), ""}); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("Parse+Verify(EdDSA token, allow Ed25519) error = %v, want ErrAlgorithm", err)
	}
	if err := CheckKey(testkeys.Signer(testkeys.RSA2048A).Public(), a); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("CheckKey(RSA key, Ed25519) = %v, want ErrKeyMismatch", err)
	}
}
