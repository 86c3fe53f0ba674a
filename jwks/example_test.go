package jwks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// A service reads its signing key from an environment variable holding a
// base64-encoded PEM, as produced by
//
//	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl base64
func ExampleLoadPEMEnv() {
	// In production the variable is set by the deployment; here a test key
	// stands in for it.
	os.Setenv("EXAMPLE_SIGNING_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.RSA2048A)))
	defer os.Unsetenv("EXAMPLE_SIGNING_KEY")

	key, err := jwks.LoadPEMEnv("EXAMPLE_SIGNING_KEY", jwks.KeyConfig{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kid:", key.KeyID()) // the RFC 7638 thumbprint
	fmt.Println("alg:", key.Algorithm())
	fmt.Println(key) // redacted: never the private key
	// Output:
	// kid: aMAqzxSSPxc9hFCJeDHfMZNKFDCQ7QzH365g7a_ZDJ8
	// alg: RS256
	// jwks.Key{kid: "aMAqzxSSPxc9hFCJeDHfMZNKFDCQ7QzH365g7a_ZDJ8", alg: RS256}
}

// Serve a ring's public keys at /.well-known/jwks.json. Caches revalidate
// with the ETag and get 304 Not Modified until the set changes.
func ExampleNewHandler() {
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{KeyID: "2026-11"})
	if err != nil {
		log.Fatal(err)
	}
	activate := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ring, err := jwks.NewRing(jwks.RingConfig{
		Now: func() time.Time { return activate.Add(time.Hour) }, // nil (time.Now) in production
	}, jwks.Entry{Key: key, Activate: activate})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", jwks.NewHandler(ring, jwks.HandlerConfig{MaxAge: 10 * time.Minute}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Kid, Use, Alg string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Println("Content-Type:", resp.Header.Get("Content-Type"))
	fmt.Println("Cache-Control:", resp.Header.Get("Cache-Control"))
	for _, k := range set.Keys {
		fmt.Println("key:", k.Kty, k.Kid, k.Use, k.Alg)
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	again, err := srv.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	again.Body.Close()
	fmt.Println("revalidation:", again.Status)
	// Output:
	// 200 OK
	// Content-Type: application/jwk-set+json
	// Cache-Control: public, max-age=600
	// key: EC 2026-11 sig ES256
	// revalidation: 304 Not Modified
}

// A fixed set, for providers that take a static JWKS pasted into their
// dashboard.
func ExampleNewSet() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.Ed25519A), jwks.KeyConfig{KeyID: "partner-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(jwks.NewSet(key).JSON()))
	// Output:
	// {"keys":[{"kty":"OKP","kid":"partner-1","use":"sig","alg":"EdDSA","crv":"Ed25519","x":"ADb5ijwq27uIGgn-vcEdFym_hUHpGLCjHLseGT4VEOY"}]}
}

// A rotation with the defaults: the new key is published at once, signs one
// hour later (the lead time, so that every verifier's cached set already has
// it), and the old key stays published for a day after it retires.
func Example_rotation() {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // time.Now in production

	oldKey, _ := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{KeyID: "old"})
	newKey, _ := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256B), jwks.KeyConfig{KeyID: "new"})
	ring, err := jwks.NewRing(jwks.RingConfig{Now: clock}, jwks.Entry{Key: oldKey, Activate: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	show := func(what string) {
		k, err := ring.SigningKey()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-22s %s  signs: %-3s  published: %s\n", what, now.Format("Jan 2 15:04"), k.KeyID(),
			strings.Join(ring.PublicSet().KeyIDs(), ","))
	}

	show("before")
	if err := ring.Rotate(newKey); err != nil {
		log.Fatal(err)
	}
	show("rotated")
	now = now.Add(59 * time.Minute)
	show("lead time")
	now = now.Add(time.Minute)
	show("new key active")
	now = now.Add(23 * time.Hour)
	show("grace period")
	now = now.Add(time.Hour)
	show("old key unpublished")
	// Output:
	// before                 Nov 23 09:00  signs: old  published: old
	// rotated                Nov 23 09:00  signs: old  published: old,new
	// lead time              Nov 23 09:59  signs: old  published: old,new
	// new key active         Nov 23 10:00  signs: new  published: new,old
	// grace period           Nov 24 09:00  signs: new  published: new,old
	// old key unpublished    Nov 24 10:00  signs: new  published: new
}
