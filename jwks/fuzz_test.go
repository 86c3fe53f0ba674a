package jwks

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// sentinels are the errors every loader failure must wrap.
var sentinels = []error{ErrNoKey, errMalformedKey, errEncryptedKey, errMultipleKeys, errNotPrivateKey,
	errWeakKey, errUnsupportedKey, errAlgorithmMismatch, errInvalidKey}

// checkLoaded holds the invariants of every key loader: an error wraps a
// sentinel and comes without a key; a key signs, and the signature verifies
// with VerifySignature and with go-jose.
func checkLoaded(t *testing.T, k *Key, err error) {
	t.Helper()
	if err != nil {
		if k != nil {
			t.Fatalf("loader returned a key and an error %v", err)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("loader error %v wraps no sentinel", err)
	}
	if k == nil {
		t.Fatal("loader returned neither key nor error")
	}
	signVerify(t, k)
}

// fuzzSeeds are well-formed keys of every type and malformed inputs.
func fuzzSeeds(t testing.TB) [][]byte {
	sec1k1, pkcs8k1 := secp256k1DER(t)
	seeds := [][]byte{
		nil,
		[]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
		[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		pemBlock("RSA PRIVATE KEY", []byte{0x30, 0x80}, map[string]string{"Proc-Type": "4,ENCRYPTED"}),
		pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}, nil),
		pemBlock("EC PRIVATE KEY", sec1k1, nil),
		pemBlock("PRIVATE KEY", pkcs8k1, nil),
		pemBlock("CERTIFICATE", []byte{0x30, 0x00}, nil),
		append(testkeys.PEM(testkeys.P256A), testkeys.PEM(testkeys.P256B)...),
	}
	for _, n := range []string{testkeys.RSA2048A, testkeys.RSA1024, testkeys.P256ShortX, testkeys.P384, testkeys.P521, testkeys.Ed25519A} {
		p := testkeys.PEM(n)
		seeds = append(seeds, p, p[:len(p)/2])
	}
	return seeds
}

func FuzzParsePEM(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePEM(data, KeyConfig{})
		checkLoaded(t, k, err)
	})
}

func FuzzParsePEMBase64(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(base64.StdEncoding.EncodeToString(s))
	}
	for _, v := range base64Forms(testkeys.PEM(testkeys.Ed25519B)) {
		f.Add(v)
	}
	f.Add("")
	f.Add("====")
	f.Add("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t\r\n")
	f.Add("not base64 at all!")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParsePEM([]byte(s), KeyConfig{})
		checkLoaded(t, k, err)
	})
}

func FuzzParseJWK(f *testing.F) {
	for _, n := range []string{testkeys.RSA2048A, testkeys.RSA1024, testkeys.P256ShortX, testkeys.P521, testkeys.Ed25519A} {
		f.Add(privateJWK(f, n, "kid", ""))
	}
	f.Add(privateJWK(f, testkeys.P384, "", "ES256"))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}`))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"Aw","q":"Aw"}`))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"","d":""}`))
	f.Add([]byte(`{"kty":"oct","k":"AAAA"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","use":"enc"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data, KeyConfig{})
		checkLoaded(t, k, err)
	})
}

// FuzzETagMatch feeds If-None-Match values (untrusted request headers) to the
// handler's parser: no panic, an exact or weak copy of the tag always
// matches, and a match needs the tag or "*" in the header.
func FuzzETagMatch(f *testing.F) {
	const etag = `"0123456789abcdef0123456789abcdef"`
	for _, s := range []string{"", "*", etag, "W/" + etag, `"a", ` + etag, `"a,` + etag, `W/"`, `"`, ",,,", "w/" + etag} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := etagMatch([]string{v}, etag)
		if got && !strings.Contains(v, etag) && !strings.Contains(v, "*") {
			t.Fatalf("etagMatch(%q) = true without the tag or *", v)
		}
		if !etagMatch([]string{v, etag}, etag) || !etagMatch([]string{v, "W/" + etag}, etag) {
			t.Fatalf("etagMatch(%q plus the tag on another line) = false", v)
		}
	})
}
