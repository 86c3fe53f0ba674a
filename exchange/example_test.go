package exchange_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// fixedNow is the clock of the examples, so that their output is stable.
func fixedNow() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

// startProvider starts the mock provider and registers a client with key's
// public half; in production, the provider is real and the client is
// registered once, with its jwks_uri (see jwks.Handler).
func startProvider(key *jwks.Key, redirectURL string) (*providertest.Server, *provider.Provider) {
	return startProviderWith(providertest.Config{Now: fixedNow}, key, redirectURL)
}

// clientJWKS returns key's public set as the mock's registration takes it.
func clientJWKS(key *jwks.Key) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks.NewSet(key).JSON(), &set); err != nil {
		log.Fatal(err)
	}
	return set
}

// startProviderWith is startProvider with the mock's configuration.
func startProviderWith(cfg providertest.Config, key *jwks.Key, redirectURL string) (*providertest.Server, *provider.Provider) {
	op, err := providertest.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	err = op.RegisterClient(providertest.Client{
		ID:           "s6BhdRkqt3",
		JWKS:         clientJWKS(key),
		RedirectURIs: []string{redirectURL},
		GrantTypes: []string{providertest.GrantAuthorizationCode, providertest.GrantRefreshToken,
			providertest.GrantClientCredentials, providertest.GrantTokenExchange},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.Discover(context.Background(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Now: fixedNow})
	if err != nil {
		log.Fatal(err)
	}
	return op, p
}

// Example_login is the login of a server-side web app: one handler starts
// the login and keeps the transaction in the session, the other completes
// it at the redirect URI.
func Example_login() {
	key, err := jwks.Generate(jwks.ES256) // in production: jwks.LoadPEMEnv
	if err != nil {
		log.Fatal(err)
	}

	// A toy server-side session store: session ID (in a cookie) → transaction.
	var mu sync.Mutex
	sessions := map[string]exchange.Transaction{}
	var client *exchange.Client

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		authURL, tx, err := client.AuthCodeURL()
		if err != nil {
			http.Error(w, "cannot start login", http.StatusInternalServerError)
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		sid := hex.EncodeToString(b)
		mu.Lock()
		sessions[sid] = tx
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, authURL, http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("sid")
		if err != nil {
			http.Error(w, "no login in progress", http.StatusBadRequest)
			return
		}
		mu.Lock()
		tx, ok := sessions[ck.Value]
		delete(sessions, ck.Value) // one callback per transaction
		mu.Unlock()
		if !ok {
			http.Error(w, "no login in progress", http.StatusBadRequest)
			return
		}
		res, err := client.Callback(r.Context(), tx, r.URL.Query())
		if err != nil {
			// Log err; never show the provider's text to the user unescaped.
			http.Error(w, "login failed", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "hello %s", res.IDToken.Subject)
	})
	app := httptest.NewServer(mux)
	defer app.Close()

	op, p := startProvider(key, app.URL+"/callback")
	defer op.Close()
	client, err = exchange.New(p, exchange.Config{
		ClientID:    "s6BhdRkqt3",
		Key:         key,
		RedirectURL: app.URL + "/callback",
		Scopes:      []string{"email"},
		// HTTPClient, Now and Logger: the provider's.
	})
	if err != nil {
		log.Fatal(err)
	}

	// The user's browser: follows the redirects and keeps the cookie.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(app.URL + "/login")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello 248289761001
}

// Example_clientCredentials is a service calling an API with tokens from
// the client credentials grant: each fetch carries a new assertion, and
// the token is reused until it expires.
func Example_clientCredentials() {
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		log.Fatal(err)
	}
	op, p := startProvider(key, "https://rp.example/callback")
	defer op.Close()
	client, err := exchange.New(p, exchange.Config{ClientID: "s6BhdRkqt3", Key: key})
	if err != nil {
		log.Fatal(err)
	}

	// The API the service calls; it only looks for a bearer token here.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "no token", http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	ts := client.ClientCredentialsTokenSource(exchange.WithScopes("read"))
	hc := ts.Client(nil) // sends Authorization: Bearer <token>
	for range 3 {
		resp, err := hc.Get(api.URL)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println("API status", resp.StatusCode)
	}
	tok, _ := ts.Token()
	fmt.Println("token requests:", op.Count(providertest.EndpointToken))
	fmt.Println(tok.Type(), "token valid for", tok.Expiry.Sub(fixedNow()))
	// Output:
	// API status 200
	// API status 200
	// API status 200
	// token requests: 1
	// Bearer token valid for 1h0m0s
}

// ExampleNew_legacyProfile serves a provider that still demands the token
// endpoint as the assertion's audience (ORY Hydra, Okta, Microsoft Entra
// ID): the assertion settings go into an assertion.Minter, which New checks
// against the provider.
func ExampleNew_legacyProfile() {
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		log.Fatal(err)
	}
	op, p := startProviderWith(providertest.Config{Now: fixedNow, Audience: providertest.AudienceTokenEndpoint}, key, "https://rp.example/callback")
	defer op.Close()
	m, err := assertion.NewMinter(key, assertion.Config{
		ClientID: "s6BhdRkqt3",
		Audience: p.Metadata().TokenEndpoint,
		Profile:  assertion.ProfileLegacy, // Entra ID: add Certificate for x5t#S256
		Now:      fixedNow,                // the mock's clock; leave it zero in production
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := exchange.New(p, exchange.Config{Assertions: m}) // ClientID: the Minter's
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.ClientCredentials(context.Background()); err != nil {
		log.Fatal(err)
	}
	a, _ := op.LastAssertion()
	fmt.Println("aud is the token endpoint:", a.Claims["aud"] == p.Metadata().TokenEndpoint)
	fmt.Println("typ:", a.Header["typ"])
	// Output:
	// aud is the token endpoint: true
	// typ: JWT
}

// Example_tokenExchange trades a token for one meant for another service
// (RFC 8693), the client authenticated with an assertion.
func Example_tokenExchange() {
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		log.Fatal(err)
	}
	op, p := startProvider(key, "https://rp.example/callback")
	defer op.Close()
	client, err := exchange.New(p, exchange.Config{ClientID: "s6BhdRkqt3", Key: key})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	incoming, err := client.ClientCredentials(ctx) // in production: the token a caller sent
	if err != nil {
		log.Fatal(err)
	}

	tok, err := client.TokenExchange(ctx, exchange.TokenExchangeRequest{
		SubjectToken:     incoming.AccessToken,
		SubjectTokenType: exchange.TokenTypeAccessToken,
		Audience:         []string{"https://payments.example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.Extra("issued_token_type"))
	// Output: Bearer urn:ietf:params:oauth:token-type:access_token
}

// ExampleClient_RefreshTokenSource keeps a user's tokens fresh after the
// login: the source refreshes with a new assertion when the access token
// expires, and checks that a new ID token is still about the same user.
func ExampleClient_RefreshTokenSource() {
	clk := clock.NewManual(fixedNow()) // the mock and the app share it here
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		log.Fatal(err)
	}
	op, err := providertest.Start(providertest.Config{Now: clk.Now})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	err = op.RegisterClient(providertest.Client{
		ID:           "s6BhdRkqt3",
		JWKS:         clientJWKS(key),
		RedirectURIs: []string{"https://rp.example/callback"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	p, err := provider.Discover(ctx, op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Now: clk.Now})
	if err != nil {
		log.Fatal(err)
	}
	client, err := exchange.New(p, exchange.Config{
		ClientID: "s6BhdRkqt3", Key: key, RedirectURL: "https://rp.example/callback",
	})
	if err != nil {
		log.Fatal(err)
	}

	// The login, without the HTTP handlers of Example_login.
	authURL, tx, err := client.AuthCodeURL()
	if err != nil {
		log.Fatal(err)
	}
	callback, err := op.Authorize(ctx, authURL) // the user agent at the provider
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Callback(ctx, tx, callback.Query())
	if err != nil {
		log.Fatal(err)
	}

	ts := client.RefreshTokenSource(res.Token, res.IDToken)
	first, _ := ts.TokenContext(ctx) // still valid: no request
	clk.Advance(2 * time.Hour)       // the access token has expired
	second, err := ts.TokenContext(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refreshed:", first.AccessToken != second.AccessToken)
	fmt.Println("same user:", ts.IDToken().Subject == res.IDToken.Subject)
	fmt.Println("token requests:", op.Count(providertest.EndpointToken))
	// Output:
	// refreshed: true
	// same user: true
	// token requests: 2
}
