package exchange_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// rpExample is a logged-in client of the mock, registered with logout URIs
// (the back-channel one served by bcl).
func rpExample(bcl *httptest.Server) (*providertest.Server, *exchange.Client, *exchange.Result) {
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		log.Fatal(err)
	}
	op, err := providertest.Start(providertest.Config{Now: fixedNow, User: providertest.User{Claims: map[string]any{"name": "Jane Doe"}}})
	if err != nil {
		log.Fatal(err)
	}
	err = op.RegisterClient(providertest.Client{
		ID:                     "s6BhdRkqt3",
		JWKS:                   jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
		RedirectURIs:           []string{"https://rp.example/callback"},
		PostLogoutRedirectURIs: []string{"https://rp.example/logged-out"},
		BackchannelLogoutURI:   bcl.URL + "/backchannel-logout",
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.Discover(context.Background(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Now: fixedNow})
	if err != nil {
		log.Fatal(err)
	}
	client, err := exchange.New(p, exchange.Config{ClientID: "s6BhdRkqt3", Key: key, RedirectURL: "https://rp.example/callback"})
	if err != nil {
		log.Fatal(err)
	}
	authURL, tx, err := client.AuthCodeURL(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	cb, err := op.Authorize(context.Background(), authURL) // the browser
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Callback(context.Background(), tx, cb.Query())
	if err != nil {
		log.Fatal(err)
	}
	return op, client, res
}

// ExampleClient_UserInfo reads the user's claims after a login; sub must be
// the ID token's.
func ExampleClient_UserInfo() {
	bcl := httptest.NewServer(http.NotFoundHandler())
	defer bcl.Close()
	op, client, res := rpExample(bcl)
	defer op.Close()

	var claims struct {
		Name string `json:"name"`
	}
	if err := client.UserInfo(context.Background(), res.Token, res.IDToken.Subject, &claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println("name:", claims.Name)
	// Output: name: Jane Doe
}

// ExampleClient_EndSessionURL logs the user out at the provider and checks
// the state on the way back; the provider tells the back-channel logout
// URI, whose handler ends the local session.
func ExampleClient_EndSessionURL() {
	var client *exchange.Client
	mux := http.NewServeMux()
	mux.Handle("POST /backchannel-logout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client.BackchannelLogoutHandler(func(ctx context.Context, t *provider.LogoutToken) error {
			fmt.Println("back-channel logout of session", t.SessionID != "", "user", t.Subject)
			return nil // end the local sessions of t.SessionID (or t.Subject) here
		}).ServeHTTP(w, r)
	}))
	bcl := httptest.NewServer(mux)
	defer bcl.Close()
	op, c, res := rpExample(bcl)
	defer op.Close()
	client = c

	idToken, _ := res.Token.Extra("id_token").(string)
	endURL, state, err := client.EndSessionURL(idToken, "https://rp.example/logged-out")
	if err != nil {
		log.Fatal(err)
	}
	// Keep state in a cookie, redirect the browser to endURL; it comes back
	// to the post-logout redirect URI:
	back, err := op.EndSession(context.Background(), endURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state checked:", client.EndSessionCallback(back.Query(), state) == nil)
	// Output:
	// back-channel logout of session true user 248289761001
	// state checked: true
}

// ExampleClient_TransactionCookies keeps each login's transaction in a
// sealed cookie, so that any replica can finish it.
func ExampleClient_TransactionCookies() {
	bcl := httptest.NewServer(http.NotFoundHandler())
	defer bcl.Close()
	op, client, _ := rpExample(bcl)
	defer op.Close()

	key := make([]byte, 32) // in production: from a secret store, the same on every replica
	rand.Read(key)
	cookies, err := client.TransactionCookies([][]byte{key})
	if err != nil {
		log.Fatal(err)
	}
	// POST /login:
	authURL, tx, err := client.AuthCodeURL(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := cookies.Save(w, httptest.NewRequest("POST", "https://rp.example/login", nil), tx); err != nil {
		log.Fatal(err)
	}
	// The browser logs in and comes back to GET /callback with the cookie:
	cb, err := op.Authorize(context.Background(), authURL)
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://rp.example/callback?"+cb.RawQuery, nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	loaded, err := cookies.Load(httptest.NewRecorder(), r, r.URL.Query().Get("state"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Callback(r.Context(), loaded, r.URL.Query())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in:", res.IDToken.Subject)
	// Output: logged in: 248289761001
}
