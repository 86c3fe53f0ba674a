package jwks

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

var (
	oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidEd448     = asn1.ObjectIdentifier{1, 3, 101, 113}
)

func pemBlock(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers})
}

func mustASN1(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sec1Key is the SEC1 ECPrivateKey structure (RFC 5915), written by hand so
// that a curve the standard library does not know can be encoded.
type sec1Key struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
}

type pkcs8Key struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// secp256k1DER returns a secp256k1 private key as SEC1 and as PKCS#8 DER.
func secp256k1DER(t testing.TB) (sec1, pkcs8 []byte) {
	scalar := bytes.Repeat([]byte{0x11}, 32)
	sec1 = mustASN1(t, sec1Key{Version: 1, PrivateKey: scalar, NamedCurveOID: oidSecp256k1})
	inner := mustASN1(t, sec1Key{Version: 1, PrivateKey: scalar})
	pkcs8 = mustASN1(t, pkcs8Key{
		Algo:       pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyECDSA, Parameters: asn1.RawValue{FullBytes: mustASN1(t, oidSecp256k1)}},
		PrivateKey: inner,
	})
	return sec1, pkcs8
}

// p224Key returns a fixed P-224 key: a curve the standard library parses
// but this package refuses.
func p224Key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P224(), bytes.Repeat([]byte{0x22}, 28))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pkcs1Raw is the PKCS#1 RSAPrivateKey structure, for writing inconsistent
// keys the standard library would refuse to marshal.
type pkcs1Raw struct {
	Version      int
	N            *big.Int
	E            int
	D, P, Q      *big.Int
	Dp, Dq, Qinv *big.Int
}

func rsaDER(t testing.TB, k *rsa.PrivateKey, tamperD bool) []byte {
	k.Precompute()
	d := k.D
	if tamperD {
		d = new(big.Int).Add(k.D, big.NewInt(2))
	}
	return mustASN1(t, pkcs1Raw{N: k.N, E: k.E, D: d, P: k.Primes[0], Q: k.Primes[1],
		Dp: k.Precomputed.Dp, Dq: k.Precomputed.Dq, Qinv: k.Precomputed.Qinv})
}

func TestParsePEMRefusals(t *testing.T) {
	t.Parallel()
	rsaA := testkeys.PEM(testkeys.RSA2048A)
	blk, _ := pem.Decode(rsaA)
	sec1k1, pkcs8k1 := secp256k1DER(t)
	p224 := p224Key(t)
	p224SEC1, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	p224PKCS8, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	x25519, _ := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{0x33}, 32))
	x25519PKCS8, err := x509.MarshalPKCS8PrivateKey(x25519)
	if err != nil {
		t.Fatal(err)
	}
	ed448PKCS8 := mustASN1(t, pkcs8Key{Algo: pkix.AlgorithmIdentifier{Algorithm: oidEd448}, PrivateKey: mustASN1(t, bytes.Repeat([]byte{1}, 57))})
	rsa1024 := testkeys.Signer(testkeys.RSA1024).(*rsa.PrivateKey)
	rsa2048 := testkeys.Signer(testkeys.RSA2048B).(*rsa.PrivateKey)
	tampered := rsaDER(t, rsa2048, true)
	tamperedPKCS8 := mustASN1(t, pkcs8Key{Algo: pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyRSA, Parameters: asn1.NullRawValue}, PrivateKey: tampered})
	cert := pemBlock("CERTIFICATE", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil)

	tests := []struct {
		name    string
		in      []byte
		cfg     KeyConfig
		wantErr error
	}{
		{"empty", nil, KeyConfig{}, ErrNoKey},
		{"no PEM block", []byte("not a key at all"), KeyConfig{}, ErrNoKey},
		{"base64 without armour", []byte(base64.StdEncoding.EncodeToString(blk.Bytes)), KeyConfig{}, ErrNoKey},
		{"OpenSSH key", pemBlock("OPENSSH PRIVATE KEY", []byte("openssh-key-v1"), nil), KeyConfig{}, ErrNoKey},
		{"legacy encrypted (Proc-Type)", pemBlock("RSA PRIVATE KEY", bytes.Repeat([]byte{7}, 64),
			map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}), KeyConfig{}, errEncryptedKey},
		{"legacy encrypted EC", pemBlock("EC PRIVATE KEY", bytes.Repeat([]byte{7}, 64),
			map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}), KeyConfig{}, errEncryptedKey},
		{"PKCS#8 encrypted", pemBlock("ENCRYPTED PRIVATE KEY", bytes.Repeat([]byte{7}, 64), nil), KeyConfig{}, errEncryptedKey},
		{"two keys", append(append([]byte{}, rsaA...), testkeys.PEM(testkeys.P256A)...), KeyConfig{}, errMultipleKeys},
		{"the same key twice", append(append([]byte{}, rsaA...), rsaA...), KeyConfig{}, errMultipleKeys},
		{"key and certificate", append(append([]byte{}, rsaA...), cert...), KeyConfig{}, errMultipleKeys},
		{"public key", testKey(t, testkeys.RSA2048A).PublicPEM(), KeyConfig{}, errNotPrivateKey},
		{"PKCS#1 public key", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa2048.PublicKey), nil), KeyConfig{}, errNotPrivateKey},
		{"certificate", cert, KeyConfig{}, errNotPrivateKey},
		{"RSA 1024 PKCS#8", testkeys.PEM(testkeys.RSA1024), KeyConfig{}, errWeakKey},
		{"RSA 1024 PKCS#1", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024), nil), KeyConfig{}, errWeakKey},
		{"secp256k1 SEC1", pemBlock("EC PRIVATE KEY", sec1k1, nil), KeyConfig{}, errUnsupportedKey},
		{"secp256k1 PKCS#8", pemBlock("PRIVATE KEY", pkcs8k1, nil), KeyConfig{}, errUnsupportedKey},
		{"P-224 SEC1", pemBlock("EC PRIVATE KEY", p224SEC1, nil), KeyConfig{}, errUnsupportedKey},
		{"P-224 PKCS#8", pemBlock("PRIVATE KEY", p224PKCS8, nil), KeyConfig{}, errUnsupportedKey},
		{"X25519 PKCS#8", pemBlock("PRIVATE KEY", x25519PKCS8, nil), KeyConfig{}, errUnsupportedKey},
		{"Ed448 PKCS#8", pemBlock("PRIVATE KEY", ed448PKCS8, nil), KeyConfig{}, errUnsupportedKey},
		{"inconsistent PKCS#1", pemBlock("RSA PRIVATE KEY", tampered, nil), KeyConfig{}, errInvalidKey},
		{"inconsistent PKCS#8", pemBlock("PRIVATE KEY", tamperedPKCS8, nil), KeyConfig{}, errInvalidKey},
		{"PEM body not base64", []byte("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"), KeyConfig{}, errMalformedKey},
		{"PEM without END line", rsaA[:len(rsaA)-30], KeyConfig{}, errMalformedKey},
		{"garbage PKCS#8", pemBlock("PRIVATE KEY", []byte("garbage"), nil), KeyConfig{}, errMalformedKey},
		{"truncated PKCS#8", pemBlock("PRIVATE KEY", blk.Bytes[:len(blk.Bytes)/2], nil), KeyConfig{}, errMalformedKey},
		{"garbage PKCS#1", pemBlock("RSA PRIVATE KEY", []byte("garbage"), nil), KeyConfig{}, errMalformedKey},
		{"garbage SEC1", pemBlock("EC PRIVATE KEY", []byte("garbage"), nil), KeyConfig{}, errMalformedKey},
		{"oversize", append(bytes.Repeat([]byte("#"), maxKeyInput), rsaA...), KeyConfig{}, errMalformedKey},
		{"ES384 with P-256", testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: ES384}, errAlgorithmMismatch},
		{"ES256 with P-384", testkeys.PEM(testkeys.P384), KeyConfig{Algorithm: ES256}, errAlgorithmMismatch},
		{"EdDSA with EC", testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: EdDSA}, errAlgorithmMismatch},
		{"PS256 with EC", testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: PS256}, errAlgorithmMismatch},
		{"RS256 with Ed25519", testkeys.PEM(testkeys.Ed25519A), KeyConfig{Algorithm: RS256}, errAlgorithmMismatch},
		{"ES256 with RSA", rsaA, KeyConfig{Algorithm: ES256}, errAlgorithmMismatch},
		{"HS256 with RSA", rsaA, KeyConfig{Algorithm: "HS256"}, errAlgorithmMismatch},
		{"HS256 with EC", testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: "HS256"}, errAlgorithmMismatch},
		{"HS512 with Ed25519", testkeys.PEM(testkeys.Ed25519A), KeyConfig{Algorithm: "HS512"}, errAlgorithmMismatch},
		{"none", rsaA, KeyConfig{Algorithm: "none"}, errAlgorithmMismatch},
		{"lower-case rs256", rsaA, KeyConfig{Algorithm: "rs256"}, errAlgorithmMismatch},
		{"unknown ES256K", testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: "ES256K"}, errAlgorithmMismatch},
	}
	for _, tc := range tests {
		k, err := ParsePEM(tc.in, tc.cfg)
		if !errors.Is(err, tc.wantErr) || k != nil {
			t.Errorf("ParsePEM(%s) = %v, %v, want nil, %v", tc.name, k, err, tc.wantErr)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "jwks: ") || len(msg) > 400 {
			t.Errorf("ParsePEM(%s) error %q: want a short message starting with \"jwks: \"", tc.name, msg)
		}
		checkNoKeyBytes(t, "ParsePEM("+tc.name+") error", err.Error())
	}
}

// checkNoKeyBytes fails when s contains a recognisable piece of any test
// key: a line of its PEM body, or its private scalar in base64url or hex.
func checkNoKeyBytes(t *testing.T, what, s string) {
	t.Helper()
	for _, name := range testkeys.Names() {
		for _, secret := range secretForms(t, name) {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains private material of %s", what, name)
			}
		}
	}
}

// secretForms returns fragments of the named key's private material as they
// could leak: PEM body lines, the private scalar (D, or the Ed25519 seed) in
// base64url, standard base64 and hex.
func secretForms(t testing.TB, name string) []string {
	if v, ok := secretCache.Load(name); ok {
		return v.([]string)
	}
	out := computeSecretForms(name)
	secretCache.Store(name, out)
	return out
}

var secretCache sync.Map // name -> []string

func computeSecretForms(name string) []string {
	var out []string
	for _, line := range strings.Split(string(testkeys.PEM(name)), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			out = append(out, line[8:32])
		}
	}
	var d []byte
	switch k := testkeys.Signer(name).(type) {
	case *rsa.PrivateKey:
		d = k.D.Bytes()
		out = append(out, k.D.String()[10:40], k.Primes[0].String()[10:40]) // as fmt prints a big.Int
	case *ecdsa.PrivateKey:
		d, _ = k.Bytes()
		out = append(out, new(big.Int).SetBytes(d).String()[10:40])
	default:
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		d = der[len(der)-32:] // the Ed25519 seed
	}
	mid := d[:min(len(d), 24)]
	out = append(out,
		base64.RawURLEncoding.EncodeToString(mid)[4:],
		base64.StdEncoding.EncodeToString(mid)[4:28],
		hexString(mid),
		strings.ToUpper(hexString(mid)),
		strings.Trim(fmt.Sprint(mid[4:16]), "[]"), // %v of a []byte
		strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", mid[4:12]), "[]byte{"), "}"), // %#v of a []byte
	)
	return out
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestParsePEMFormats(t *testing.T) {
	t.Parallel()
	rsaSigner := testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey)
	ecSigner := testkeys.Signer(testkeys.P384).(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(ecSigner)
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(testkeys.PEM(testkeys.P256A), []byte("\n"), []byte("\r\n"))
	tests := []struct {
		name    string
		in      []byte
		cfg     KeyConfig
		wantKid string
		wantAlg Algorithm
	}{
		{"PKCS#1 RSA", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaSigner), nil), KeyConfig{}, testKey(t, testkeys.RSA2048A).KeyID(), RS256},
		{"SEC1 P-384", pemBlock("EC PRIVATE KEY", sec1, nil), KeyConfig{}, testKey(t, testkeys.P384).KeyID(), ES384},
		{"text around the block", append(append([]byte("# signing key\n"), testkeys.PEM(testkeys.Ed25519A)...), "trailer\n"...), KeyConfig{}, testKey(t, testkeys.Ed25519A).KeyID(), EdDSA},
		{"CRLF", crlf, KeyConfig{}, testKey(t, testkeys.P256A).KeyID(), ES256},
		{"explicit kid and PS256", testkeys.PEM(testkeys.RSA2048A), KeyConfig{KeyID: "2026-11", Algorithm: PS256}, "2026-11", PS256},
		{"RS512", testkeys.PEM(testkeys.RSA3072), KeyConfig{Algorithm: RS512}, testKey(t, testkeys.RSA3072).KeyID(), RS512},
		{"P-521", testkeys.PEM(testkeys.P521), KeyConfig{}, testKey(t, testkeys.P521).KeyID(), ES512},
	}
	for _, tc := range tests {
		k, err := ParsePEM(tc.in, tc.cfg)
		if err != nil {
			t.Errorf("ParsePEM(%s) error = %v", tc.name, err)
			continue
		}
		if k.KeyID() != tc.wantKid || k.Algorithm() != tc.wantAlg {
			t.Errorf("ParsePEM(%s) = kid %q alg %s, want %q %s", tc.name, k.KeyID(), k.Algorithm(), tc.wantKid, tc.wantAlg)
		}
		signVerify(t, k)
	}
}

// signVerify signs a probe with k and verifies it with VerifySignature and
// with go-jose, as a compact JWS.
func signVerify(t testing.TB, k *Key) {
	t.Helper()
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + string(k.Algorithm()) + `","kid":` + string(jsonString(k.KeyID())) + `}`))
	input := hdr + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"probe"}`))
	sig, err := k.Sign(t.Context(), []byte(input))
	if err != nil {
		t.Fatalf("%v: Sign() error = %v", k, err)
	}
	if err := VerifySignature(k.Public(), k.Algorithm(), []byte(input), sig); err != nil {
		t.Fatalf("%v: VerifySignature() error = %v", k, err)
	}
	jws, err := jose.ParseSignedCompact(input+"."+base64.RawURLEncoding.EncodeToString(sig), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm())})
	if err != nil {
		t.Fatalf("%v: go-jose ParseSigned() error = %v", k, err)
	}
	if _, err := jws.Verify(k.Public()); err != nil {
		t.Fatalf("%v: go-jose Verify() error = %v", k, err)
	}
}

func jsonString(s string) []byte { b, _ := json.Marshal(s); return b }

// base64Forms returns pemBytes base64-encoded the ways the guides do it.
func base64Forms(pemBytes []byte) map[string]string {
	one := base64.StdEncoding.EncodeToString(pemBytes)
	var wrapped strings.Builder // `openssl base64`: 64 columns
	for i := 0; i < len(one); i += 64 {
		wrapped.WriteString(one[i:min(i+64, len(one))])
		wrapped.WriteByte('\n')
	}
	w := wrapped.String()
	return map[string]string{
		"openssl base64 (64 columns, trailing newline)": w,
		"openssl base64 without trailing newline":       strings.TrimSuffix(w, "\n"),
		"openssl base64 with CRLF":                      strings.ReplaceAll(w, "\n", "\r\n"),
		"base64 one line":                               one,
		"base64 one line with newline":                  one + "\n",
		"base64 one line with CRLF":                     one + "\r\n",
		"surrounded by spaces":                          "  " + one + " \t",
		"76 columns (GNU base64)":                       wrapAt(one, 76),
		"URL-safe alphabet, no padding":                 base64.RawURLEncoding.EncodeToString(pemBytes),
		"plain PEM":                                     string(pemBytes),
		"plain PEM with CRLF":                           strings.ReplaceAll(string(pemBytes), "\n", "\r\n"),
		"plain PEM with escaped newlines":               strings.ReplaceAll(string(pemBytes), "\n", `\n`),
		"plain PEM with escaped CRLF":                   strings.ReplaceAll(string(pemBytes), "\n", `\r\n`),
	}
}

func wrapAt(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))] + "\n")
	}
	return b.String()
}

func TestParsePEMBase64(t *testing.T) {
	t.Parallel()
	for _, name := range []string{testkeys.RSA2048A, testkeys.P256ShortX, testkeys.Ed25519B} {
		want := testKey(t, name)
		for form, in := range base64Forms(testkeys.PEM(name)) {
			k, err := ParsePEM([]byte(in), KeyConfig{})
			if err != nil {
				t.Errorf("ParsePEM(%s, %s) error = %v", name, form, err)
				continue
			}
			if k.KeyID() != want.KeyID() {
				t.Errorf("ParsePEM(%s, %s) kid = %q, want %q", name, form, k.KeyID(), want.KeyID())
			}
		}
	}
}

func TestParsePEMBase64Refusals(t *testing.T) {
	t.Parallel()
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	two := append(append([]byte{}, testkeys.PEM(testkeys.P256A)...), testkeys.PEM(testkeys.P256B)...)
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"empty", "", ErrNoKey},
		{"white space", " \r\n\t", ErrNoKey},
		{"not base64", "this is not base64!", errMalformedKey},
		{"truncated base64", enc(testkeys.PEM(testkeys.P256A))[:101], errMalformedKey},
		{"base64 of text", enc([]byte("hello, world")), ErrNoKey},
		{"base64 of DER", enc(testKey(t, testkeys.P256A).PublicPEM()[30:]), ErrNoKey},
		{"base64 of two keys", enc(two), errMultipleKeys},
		{"base64 of RSA 1024", enc(testkeys.PEM(testkeys.RSA1024)), errWeakKey},
		{"base64 of a public key", enc(testKey(t, testkeys.P256A).PublicPEM()), errNotPrivateKey},
		{"base64 of encrypted", enc(pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}, nil)), errEncryptedKey},
		{"oversize", strings.Repeat("A", 3*maxKeyInput), errMalformedKey},
	}
	for _, tc := range tests {
		k, err := ParsePEM([]byte(tc.in), KeyConfig{})
		if !errors.Is(err, tc.wantErr) || k != nil {
			t.Errorf("ParsePEM(%s) = %v, %v, want nil, %v", tc.name, k, err, tc.wantErr)
		}
	}
}

func TestLoadPEMEnv(t *testing.T) {
	// t.Setenv: not parallel.
	const name = "PKJWT_TEST_SIGNING_KEY"
	want := testKey(t, testkeys.RSA2048B)
	for form, v := range base64Forms(testkeys.PEM(testkeys.RSA2048B)) {
		t.Setenv(name, v)
		k, err := LoadPEMEnv(name, KeyConfig{})
		if err != nil || k.KeyID() != want.KeyID() {
			t.Errorf("LoadPEMEnv(%s) = %v, %v, want kid %s", form, k, err, want.KeyID())
		}
	}
	t.Setenv(name, "")
	if _, err := LoadPEMEnv(name, KeyConfig{}); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), name) {
		t.Errorf("LoadPEMEnv(empty) error = %v, want ErrNoKey naming the variable", err)
	}
	os.Unsetenv(name)
	if _, err := LoadPEMEnv(name, KeyConfig{}); !errors.Is(err, ErrNoKey) {
		t.Errorf("LoadPEMEnv(unset) error = %v, want ErrNoKey", err)
	}
	bad := base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.RSA1024))
	t.Setenv(name, bad)
	_, err := LoadPEMEnv(name, KeyConfig{})
	if !errors.Is(err, errWeakKey) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), bad[40:80]) {
		t.Errorf("LoadPEMEnv(RSA 1024) error = %v, want errWeakKey naming the variable and not its value", err)
	}
	checkNoKeyBytes(t, "LoadPEMEnv error", err.Error())
}

func TestLoadPEMFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(good, testkeys.PEM(testkeys.P521), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadPEMFile(good, KeyConfig{}); err != nil || k.KeyID() != testKey(t, testkeys.P521).KeyID() {
		t.Errorf("LoadPEMFile(good) = %v, %v", k, err)
	}
	if _, err := LoadPEMFile(filepath.Join(dir, "missing.pem"), KeyConfig{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadPEMFile(missing) error = %v, want fs.ErrNotExist", err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, append(bytes.Repeat([]byte("#"), 2*maxKeyInput), testkeys.PEM(testkeys.P521)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPEMFile(big, KeyConfig{}); !errors.Is(err, errMalformedKey) {
		t.Errorf("LoadPEMFile(oversize) error = %v, want errMalformedKey", err)
	}
	pub := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(pub, testKey(t, testkeys.P521).PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPEMFile(pub, KeyConfig{}); !errors.Is(err, errNotPrivateKey) || !strings.Contains(err.Error(), "pub.pem") {
		t.Errorf("LoadPEMFile(public) error = %v, want errNotPrivateKey naming the file", err)
	}
}

// privateJWK marshals a testkeys key as a private JWK with go-jose.
func privateJWK(t testing.TB, name, kid, alg string) []byte {
	t.Helper()
	b, err := jose.JSONWebKey{Key: testkeys.Signer(name), KeyID: kid, Algorithm: alg}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editJWK decodes a JWK, applies edit, and encodes it again.
func editJWK(t testing.TB, b []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseJWK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		cfg     KeyConfig
		wantKid string
		wantAlg Algorithm
	}{
		{"RSA, kid and alg from the JWK", privateJWK(t, testkeys.RSA2048C, "rsa-1", "PS384"), KeyConfig{}, "rsa-1", PS384},
		{"RSA, config wins", privateJWK(t, testkeys.RSA2048C, "rsa-1", "PS384"), KeyConfig{KeyID: "x", Algorithm: RS256}, "x", RS256},
		{"RSA without CRT members", editJWK(t, privateJWK(t, testkeys.RSA2048C, "", ""), func(m map[string]any) {
			delete(m, "dp")
			delete(m, "dq")
			delete(m, "qi")
		}), KeyConfig{}, testKey(t, testkeys.RSA2048C).KeyID(), RS256},
		{"EC P-256 short X", privateJWK(t, testkeys.P256ShortX, "", ""), KeyConfig{}, testKey(t, testkeys.P256ShortX).KeyID(), ES256},
		{"EC P-521", privateJWK(t, testkeys.P521, "", "ES512"), KeyConfig{}, testKey(t, testkeys.P521).KeyID(), ES512},
		{"Ed25519", privateJWK(t, testkeys.Ed25519A, "ed", ""), KeyConfig{}, "ed", EdDSA},
		{"use sig", editJWK(t, privateJWK(t, testkeys.P384, "", ""), func(m map[string]any) { m["use"] = "sig" }), KeyConfig{}, testKey(t, testkeys.P384).KeyID(), ES384},
	}
	for _, tc := range tests {
		k, err := ParseJWK(tc.in, tc.cfg)
		if err != nil {
			t.Errorf("ParseJWK(%s) error = %v", tc.name, err)
			continue
		}
		if k.KeyID() != tc.wantKid || k.Algorithm() != tc.wantAlg {
			t.Errorf("ParseJWK(%s) = kid %q alg %s, want %q %s", tc.name, k.KeyID(), k.Algorithm(), tc.wantKid, tc.wantAlg)
		}
		signVerify(t, k)
	}
}

func TestParseJWKRefusals(t *testing.T) {
	t.Parallel()
	rsaJWK := privateJWK(t, testkeys.RSA2048A, "", "")
	ecJWK := privateJWK(t, testkeys.P256A, "", "")
	otherD := func(name string) string {
		var m map[string]any
		json.Unmarshal(privateJWK(t, name, "", ""), &m)
		return m["d"].(string)
	}
	pub, _ := jose.JSONWebKey{Key: testkeys.Signer(testkeys.P256A).Public()}.MarshalJSON()
	tests := []struct {
		name    string
		in      []byte
		cfg     KeyConfig
		wantErr error
	}{
		{"empty", nil, KeyConfig{}, errMalformedKey},
		{"not JSON", []byte("{"), KeyConfig{}, errMalformedKey},
		{"array", []byte(`[]`), KeyConfig{}, errMalformedKey},
		{"no kty", []byte(`{"d":"AQAB"}`), KeyConfig{}, errMalformedKey},
		{"kty twice", []byte(`{"kty":"oct","kty":"EC"}`), KeyConfig{}, errMalformedKey},
		{"d twice", append(append([]byte(nil), ecJWK[:len(ecJWK)-1]...), `,"d":"AQAB"}`...), KeyConfig{}, errMalformedKey},
		{"KTY in upper case is no kty", []byte(`{"KTY":"EC"}`), KeyConfig{}, errMalformedKey},
		{"public JWK", pub, KeyConfig{}, errNotPrivateKey},
		{"oct", []byte(`{"kty":"oct","k":"c2VjcmV0"}`), KeyConfig{}, errUnsupportedKey},
		{"unknown kty", []byte(`{"kty":"DSA"}`), KeyConfig{}, errUnsupportedKey},
		{"secp256k1", editJWK(t, ecJWK, func(m map[string]any) { m["crv"] = "secp256k1" }), KeyConfig{}, errUnsupportedKey},
		{"X25519", []byte(`{"kty":"OKP","crv":"X25519","x":"AAAA","d":"AAAA"}`), KeyConfig{}, errUnsupportedKey},
		{"RSA 1024", privateJWK(t, testkeys.RSA1024, "", ""), KeyConfig{}, errWeakKey},
		{"alg HS256 in the JWK", editJWK(t, rsaJWK, func(m map[string]any) { m["alg"] = "HS256" }), KeyConfig{}, errAlgorithmMismatch},
		{"alg ES384 in config for P-256", ecJWK, KeyConfig{Algorithm: ES384}, errAlgorithmMismatch},
		{"use enc", editJWK(t, ecJWK, func(m map[string]any) { m["use"] = "enc" }), KeyConfig{}, errAlgorithmMismatch},
		{"RSA d of another key", editJWK(t, rsaJWK, func(m map[string]any) { m["d"] = otherD(testkeys.RSA2048B) }), KeyConfig{}, errInvalidKey},
		{"RSA without CRT, d of another key", editJWK(t, rsaJWK, func(m map[string]any) {
			m["d"] = otherD(testkeys.RSA2048B)
			delete(m, "dp")
			delete(m, "dq")
			delete(m, "qi")
		}), KeyConfig{}, errInvalidKey},
		{"EC d of another key", editJWK(t, ecJWK, func(m map[string]any) { m["d"] = otherD(testkeys.P256B) }), KeyConfig{}, errInvalidKey},
		{"oversize", append(bytes.Repeat([]byte(" "), maxKeyInput), ecJWK...), KeyConfig{}, errMalformedKey},
	}
	for _, tc := range tests {
		k, err := ParseJWK(tc.in, tc.cfg)
		if !errors.Is(err, tc.wantErr) || k != nil {
			t.Errorf("ParseJWK(%s) = %v, %v, want nil, %v", tc.name, k, err, tc.wantErr)
			continue
		}
		checkNoKeyBytes(t, "ParseJWK("+tc.name+") error", err.Error())
	}
}

// TestRefusalMessages checks that refusals say what was found and what is
// expected.
func TestRefusalMessages(t *testing.T) {
	t.Parallel()
	sec1k1, pkcs8k1 := secp256k1DER(t)
	tests := []struct {
		name string
		err  func() error
		want []string
	}{
		{"encrypted", func() error {
			_, err := ParsePEM(pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}, nil), KeyConfig{})
			return err
		}, []string{"encrypted", "decrypt it first"}},
		{"two keys", func() error {
			_, err := ParsePEM(append(testkeys.PEM(testkeys.P256A), testkeys.PEM(testkeys.P256B)...), KeyConfig{})
			return err
		}, []string{"second PEM block", "exactly one"}},
		{"certificate", func() error {
			_, err := ParsePEM(pemBlock("CERTIFICATE", []byte{1}, nil), KeyConfig{})
			return err
		}, []string{`"CERTIFICATE"`, "private key is needed"}},
		{"RSA 1024", func() error { _, err := ParsePEM(testkeys.PEM(testkeys.RSA1024), KeyConfig{}); return err }, []string{"1024 bits", "2048"}},
		{"secp256k1 SEC1", func() error { _, err := ParsePEM(pemBlock("EC PRIVATE KEY", sec1k1, nil), KeyConfig{}); return err }, []string{"secp256k1", "P-256"}},
		{"secp256k1 PKCS#8", func() error { _, err := ParsePEM(pemBlock("PRIVATE KEY", pkcs8k1, nil), KeyConfig{}); return err }, []string{"secp256k1", "P-256"}},
		{"ES384 with P-256", func() error {
			_, err := ParsePEM(testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: ES384})
			return err
		}, []string{"ES384", "P-384", "P-256", "use ES256"}},
		{"HS256", func() error {
			_, err := ParsePEM(testkeys.PEM(testkeys.P256A), KeyConfig{Algorithm: "HS256"})
			return err
		}, []string{"HS256", "asymmetric"}},
		{"env unset", func() error { _, err := LoadPEMEnv("PKJWT_SURELY_UNSET_VARIABLE", KeyConfig{}); return err }, []string{"PKJWT_SURELY_UNSET_VARIABLE", "base64"}},
	}
	for _, tc := range tests {
		msg := tc.err().Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, msg, w)
			}
		}
	}
}
