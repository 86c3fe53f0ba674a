package jwks_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// A verifier caches an issuer's JWK Set. The first call fetches it. The
// first unknown kid refetches it at once (the issuer may have just rotated);
// later unknown kids refetch at most once a minute, so random kids do not
// turn into a flood of fetches.
func ExampleRemote() {
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{KeyID: "issuer-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var fetches atomic.Int32
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(jwks.NewSet(key).JSON())
	}))
	defer issuer.Close()

	remote, err := jwks.NewRemote(issuer.URL+"/.well-known/jwks.json", jwks.RemoteConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer remote.Close()

	// A token signed by the issuer (normally received from elsewhere).
	in := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"issuer-1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"orders"}`))
	sig, err := key.Sign(context.Background(), []byte(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	token := in + "." + base64.RawURLEncoding.EncodeToString(sig)

	payload, err := remote.VerifySignature(context.Background(), token)
	fmt.Println(string(payload), err)

	for i := range 3 {
		_, err := remote.Keys(context.Background(), fmt.Sprint("unknown-", i))
		fmt.Println(errors.Is(err, jwks.ErrUnknownKey))
	}
	fmt.Println("fetches:", fetches.Load())
	// Output:
	// {"sub":"orders"} <nil>
	// true
	// true
	// true
	// fetches: 2
}
