package jose

import (
	"crypto"
	"errors"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

func TestThumbprintJWKRoundTrip(t *testing.T) {
	for _, name := range []string{testkeys.P256A, testkeys.P384, testkeys.Ed25519A, testkeys.RSA2048A} {
		pub := testkeys.Signer(name).Public()
		j, err := ThumbprintJWK(pub)
		if err != nil {
			t.Fatal(err)
		}
		got, j2, err := ParsePublicJWK(j)
		if err != nil || string(j2) != string(j) {
			t.Fatalf("ParsePublicJWK(%s) = %v, %v", j, err, j2)
		}
		if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Errorf("%T: parsed key differs", pub)
		}
	}
	// RFC 7638 §3.1's example thumbprint.
	rfc := []byte(`{"e":"AQAB","kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`)
	_, j, err := ParsePublicJWK(rfc)
	if err != nil || Thumbprint(j) != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("RFC 7638 example: %v, %s", err, Thumbprint(j))
	}
}

func TestParsePublicJWKRefuses(t *testing.T) {
	for _, in := range []string{
		`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`,
		`{"kty":"oct","k":"AAAA"}`,
		`{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"RSA","e":"AQAB","n":"AQAB"}`,
		`[]`,
	} {
		if _, _, err := ParsePublicJWK([]byte(in)); err == nil || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrKeyMismatch)) {
			t.Errorf("ParsePublicJWK(%s) error = %v", in, err)
		}
	}
}

func FuzzParsePublicJWK(f *testing.F) {
	f.Add([]byte(`{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, j, err := ParsePublicJWK(data)
		if err != nil {
			return
		}
		again, err := ThumbprintJWK(pub)
		if err != nil || string(again) != string(j) {
			t.Fatalf("accepted key does not round-trip: %v", err)
		}
	})
}
