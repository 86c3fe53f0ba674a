package jwks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"io"
	"net/http"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// FuzzParseRemoteSet feeds arbitrary documents to the remote set parser.
// Invariants: no panic, at most maxKeys keys, and every key kept is a public
// key of a supported type within the size limits.
func FuzzParseRemoteSet(f *testing.F) {
	k, err := NewKey(context.Background(), testkeys.Signer(testkeys.RSA2048A), KeyConfig{KeyID: "a"})
	if err != nil {
		f.Fatal(err)
	}
	e, _ := NewKey(context.Background(), testkeys.Signer(testkeys.P256A), KeyConfig{})
	o, _ := NewKey(context.Background(), testkeys.Signer(testkeys.Ed25519A), KeyConfig{})
	f.Add(NewSet(k, e, o).JSON())
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAA"},{"kty":"RSA","use":"enc"}]}`))
	f.Add([]byte(`{"keys":{}}`))
	f.Add([]byte(`{"keys":[1,"a",null,[],{}]}`))
	f.Add([]byte(`[`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		const maxKeys = 10
		keys, _, err := parseRemoteSet(body, maxKeys)
		if err != nil {
			return
		}
		if len(keys) > maxKeys {
			t.Fatalf("%d keys, more than %d", len(keys), maxKeys)
		}
		for _, k := range keys {
			switch p := k.Key.(type) {
			case *rsa.PublicKey:
				if b := p.N.BitLen(); b < 2048 || b > 8192 {
					t.Fatalf("RSA key of %d bits kept", b)
				}
			case *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("key of type %T kept", k.Key)
			}
			if k.Use != "" && k.Use != "sig" {
				t.Fatalf("key with use %q kept", k.Use)
			}
		}
	})
}

type fuzzRemoteTransport struct{ body []byte }

func (f fuzzRemoteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(f.body)), Request: req}, nil
}

// FuzzRemoteVerifySignature feeds arbitrary tokens to
// Remote.VerifySignature. Invariants: no panic, and nothing verifies except
// a token really signed by a key of the set.
func FuzzRemoteVerifySignature(f *testing.F) {
	k, err := NewKey(context.Background(), testkeys.Signer(testkeys.P256A), KeyConfig{KeyID: "a"})
	if err != nil {
		f.Fatal(err)
	}
	in := "eyJhbGciOiJFUzI1NiIsImtpZCI6ImEifQ.e30"
	sig, err := k.Sign(context.Background(), []byte(in))
	if err != nil {
		f.Fatal(err)
	}
	good := in + "." + b64.EncodeToString(sig)
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.AAAA")
	f.Add("eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYiJdfQ.e30.AAAA")
	f.Add("...")
	f.Add("a.b")
	f.Add("")
	r, err := NewRemote("https://idp.example/jwks", RemoteConfig{HTTPClient: &http.Client{Transport: fuzzRemoteTransport{NewSet(k).JSON()}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	f.Fuzz(func(t *testing.T, tok string) {
		payload, err := r.VerifySignature(context.Background(), tok)
		if err != nil {
			return
		}
		if tok != good && string(payload) != "{}" {
			// A different token verified: only a re-encoding of the same
			// signed input could, and the strict decoder refuses those.
			t.Fatalf("VerifySignature accepted %q", tok)
		}
	})
}
