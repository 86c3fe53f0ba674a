package exchange_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// rpSetup is setup with a client registration changed by reg (logout URIs,
// signed userinfo).
func rpSetup(t testing.TB, opCfg providertest.Config, reg func(*providertest.Client), mod func(*provider.Provider, *exchange.Config)) *env {
	t.Helper()
	key, err := jwks.NewKey(context.Background(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	op := providertest.New(t, opCfg)
	c := providertest.Client{
		ID:           clientID,
		JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
		RedirectURIs: []string{redirectURL},
		GrantTypes:   allGrants,
	}
	if reg != nil {
		reg(&c)
	}
	if err := op.RegisterClient(c); err != nil {
		t.Fatal(err)
	}
	p, err := provider.Discover(context.Background(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirectURL, Scopes: []string{"profile", "email"}, HTTPClient: op.HTTPClient()}
	if mod != nil {
		mod(p, &cfg)
	}
	xc, err := exchange.New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{op: op, p: p, c: xc, key: key}
}

// errServer500 marks a table row that wants a 500 *TokenError.
var errServer500 = errors.New("500")

type userClaims struct {
	Sub   string `json:"sub"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	user := providertest.User{Subject: "user-7", Claims: map[string]any{"name": "Jane Doe", "email": "jane@example.com"}}
	tests := []struct {
		name    string
		signed  bool
		m       providertest.Misbehavior
		token   func(*oauth2.Token) *oauth2.Token
		subject string
		wantErr error
	}{
		{name: "json"},
		{name: "signed", signed: true},
		{name: "json other subject", m: providertest.UserInfoOtherSubject, wantErr: exchange.ErrUserInfoSubject},
		{name: "signed other subject", signed: true, m: providertest.UserInfoOtherSubject, wantErr: exchange.ErrUserInfoSubject},
		{name: "subject of another login", subject: "user-8", wantErr: exchange.ErrUserInfoSubject},
		{name: "revoked or unknown token", token: func(t *oauth2.Token) *oauth2.Token { return &oauth2.Token{AccessToken: "nope", TokenType: "Bearer"} }, wantErr: exchange.ErrInvalidToken},
		{name: "DPoP token without a proof", token: func(t *oauth2.Token) *oauth2.Token { u := *t; u.TokenType = "DPoP"; return &u }, wantErr: exchange.ErrInvalidConfig},
		{name: "no token", token: func(*oauth2.Token) *oauth2.Token { return nil }, wantErr: exchange.ErrInvalidConfig},
		{name: "server error", m: providertest.ServerErrorUserInfo, wantErr: errServer500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := rpSetup(t, providertest.Config{User: user}, func(c *providertest.Client) { c.UserInfoSigned = tc.signed }, nil)
			res, err := e.login(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tc.m != 0 {
				e.op.Misbehave(tc.m)
			}
			tok := res.Token
			if tc.token != nil {
				tok = tc.token(tok)
			}
			sub := res.IDToken.Subject
			if tc.subject != "" {
				sub = tc.subject
			}
			var got userClaims
			err = e.c.UserInfo(t.Context(), tok, sub, &got)
			if tc.wantErr == errServer500 {
				var te *exchange.TokenError
				if !errors.As(err, &te) || te.StatusCode != http.StatusInternalServerError {
					t.Fatalf("UserInfo(%q) error = %v, want a 500 *TokenError", tc.name, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("UserInfo(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if err != nil {
				if got != (userClaims{}) {
					t.Errorf("UserInfo(%q) decoded %+v despite the error", tc.name, got)
				}
				if strings.Contains(err.Error(), res.Token.AccessToken) {
					t.Errorf("UserInfo(%q) error contains the access token", tc.name)
				}
				return
			}
			if want := (userClaims{Sub: "user-7", Name: "Jane Doe", Email: "jane@example.com"}); got != want {
				t.Errorf("UserInfo(%q) = %+v, want %+v", tc.name, got, want)
			}
		})
	}
}

// TestUserInfoResponses: what a userinfo endpoint may not answer.
func TestUserInfoResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		ctype   string
		header  string
		body    string
		wantErr error
		code    string
	}{
		{name: "ok", status: 200, ctype: "application/json; charset=utf-8", body: `{"sub":"u1","name":"A"}`},
		{name: "repeated sub", status: 200, ctype: "application/json", body: `{"sub":"u1","sub":"u2"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "no sub", status: 200, ctype: "application/json", body: `{"name":"A"}`, wantErr: exchange.ErrUserInfoSubject},
		{name: "sub a number", status: 200, ctype: "application/json", body: `{"sub":1}`, wantErr: exchange.ErrUserInfoSubject},
		{name: "not an object", status: 200, ctype: "application/json", body: `["sub"]`, wantErr: exchange.ErrMalformedResponse},
		{name: "html", status: 200, ctype: "text/html", body: `{"sub":"u1"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "unsigned jwt", status: 200, ctype: "application/jwt", body: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.", wantErr: provider.ErrUnsupportedAlgorithm},
		{name: "too large", status: 200, ctype: "application/json", body: `{"sub":"u1","x":"` + strings.Repeat("a", 2<<20) + `"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "redirect", status: 302, header: "Location: https://elsewhere.example/", wantErr: exchange.ErrRedirectForTest},
		{name: "401 invalid_token", status: 401, header: `WWW-Authenticate: Bearer realm="x", error="invalid_token", error_description="The access token expired"`, wantErr: exchange.ErrInvalidToken, code: "invalid_token"},
		{name: "403 insufficient_scope", status: 403, header: `WWW-Authenticate: Bearer error="insufficient_scope", scope="openid profile"`, wantErr: exchange.ErrInvalidScope, code: "insufficient_scope"},
		{name: "401 without error", status: 401, header: `WWW-Authenticate: Bearer realm="x"`, code: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer at-1" {
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				}
				if tc.header != "" {
					k, v, _ := strings.Cut(tc.header, ": ")
					w.Header().Set(k, v)
				}
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			c := newUserInfoClient(t, srv.URL)
			var got map[string]any
			err := c.UserInfo(t.Context(), &oauth2.Token{AccessToken: "at-1", TokenType: "Bearer"}, "u1", &got)
			if tc.status >= 400 {
				var te *exchange.TokenError
				if !errors.As(err, &te) || te.StatusCode != tc.status || te.Code != tc.code {
					t.Fatalf("UserInfo(%q) error = %#v, want a *TokenError %d %q", tc.name, err, tc.status, tc.code)
				}
				if !strings.Contains(err.Error(), "userinfo endpoint") {
					t.Errorf("UserInfo(%q) error = %v, want it to name the userinfo endpoint", tc.name, err)
				}
			}
			if tc.wantErr == nil && tc.status >= 400 {
				return
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("UserInfo(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if err == nil && got["name"] != "A" {
				t.Errorf("UserInfo(%q) = %v", tc.name, got)
			}
		})
	}
}

// newUserInfoClient returns a Client of a bare provider whose userinfo,
// revocation and introspection endpoints are at base + "/userinfo", … .
func newUserInfoClient(t *testing.T, base string) *exchange.Client {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"` + srv.URL + `","authorization_endpoint":"` + srv.URL + `/authorize","token_endpoint":"` + srv.URL + `/token",
"jwks_uri":"` + srv.URL + `/jwks","userinfo_endpoint":"` + base + `/userinfo","revocation_endpoint":"` + base + `/revoke",
"introspection_endpoint":"` + base + `/introspect","response_types_supported":["code"],"subject_types_supported":["public"],
"id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["private_key_jwt"],
"token_endpoint_auth_signing_alg_values_supported":["ES256"],"code_challenge_methods_supported":["S256"]}`))
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) })
	p, err := provider.Discover(t.Context(), srv.URL, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwks.NewKey(t.Context(), testkeys.Signer(testkeys.P256A), jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
