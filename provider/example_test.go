package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// exampleNow is the fixed clock of the examples.
var exampleNow = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

// exampleIssuer is a stand-in for a provider such as Immutable Passport:
// discovery, a JWK Set, and a way to sign tokens with its key.
type exampleIssuer struct {
	*httptest.Server
	key *jwks.Key
}

func startExampleIssuer() *exampleIssuer {
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.RSA2048A), jwks.KeyConfig{KeyID: "passport-1"})
	if err != nil {
		panic(err)
	}
	e := &exampleIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := e.URL
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/.well-known/jwks.json", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(jwks.NewSet(key).JSON())
	})
	e.Server = httptest.NewServer(mux)
	return e
}

// sign returns a compact RS256 JWT of claims.
func (e *exampleIssuer) sign(typ string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": e.key.KeyID(), "typ": typ})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sig, err := e.key.Sign(context.Background(), []byte(in))
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// A backend receives an ID token issued by a Passport-style provider,
// verifies it (keys fetched once and cached for at most an hour) and reads
// sub, sid and a custom claim.
func Example_passportIDToken() {
	idp := startExampleIssuer()
	defer idp.Close()
	now := exampleNow()
	rawIDToken := idp.sign("JWT", map[string]any{
		"iss": idp.URL, "aud": "my-client-id", "sub": "email|65f1c0ffee",
		"sid": "2f4c7a1e-session", "nonce": "n-7b1d",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"passport": map[string]string{"zkevm_eth_address": "0x72c8e4a1"},
	})

	ctx := context.Background()
	p, err := provider.Discover(ctx, idp.URL, provider.Config{Now: exampleNow})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "my-client-id"})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := v.Verify(ctx, rawIDToken, provider.Expected{Nonce: "n-7b1d"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var extra struct {
		Passport struct {
			Address string `json:"zkevm_eth_address"`
		} `json:"passport"`
	}
	if err := tok.Claims(&extra); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sub:", tok.Subject)
	fmt.Println("sid:", tok.SessionID)
	fmt.Println("wallet:", extra.Passport.Address)

	// The same token with another nonce is refused, and the error says why
	// without carrying the token.
	_, err = v.Verify(ctx, rawIDToken, provider.Expected{Nonce: "n-other"})
	fmt.Println(err)
	// Output:
	// sub: email|65f1c0ffee
	// sid: 2f4c7a1e-session
	// wallet: 0x72c8e4a1
	// provider: id token nonce differs from the one sent: provider: token nonce mismatch
}

// A service accepts Bearer tokens from another service that signs them
// with its own key and publishes its JWKS; it demands "source":
// "microservice" and a short lifetime.
func ExampleMiddleware() {
	caller := startExampleIssuer() // the calling service's JWKS
	defer caller.Close()
	keys, err := jwks.NewRemote(caller.URL+"/.well-known/jwks.json", jwks.RemoteConfig{Now: exampleNow})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer keys.Close()
	v, err := provider.NewJWTVerifier(keys, provider.JWTConfig{
		Issuer:         "https://orders.internal",
		Audience:       "https://billing.internal",
		RequiredClaims: map[string]string{"source": "microservice"},
		MaxLifetime:    5 * time.Minute,
		Now:            exampleNow,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	api := provider.Middleware(v, provider.MiddlewareConfig{Realm: "billing"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, _ := provider.FromContext(r.Context())
			fmt.Fprintf(w, "charged for %s", tok.Subject)
		}))

	now := exampleNow()
	good := caller.sign("JWT", map[string]any{
		"iss": "https://orders.internal", "aud": "https://billing.internal", "sub": "orders",
		"source": "microservice", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	})
	for _, auth := range []string{"Bearer " + good, "", "Bearer " + good[:len(good)-4] + "AAAA"} {
		req := httptest.NewRequest("POST", "/charge", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		fmt.Printf("%d %q %s\n", w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 "" charged for orders
	// 401 "Bearer realm=\"billing\"" bearer token required
	// 401 "Bearer realm=\"billing\", error=\"invalid_token\", error_description=\"the token's signature does not verify\"" invalid token
}
