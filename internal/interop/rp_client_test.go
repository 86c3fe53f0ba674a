package interop_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// These tests run the library's relying-party features against the
// baseline instances: UserInfo (JSON and signed), introspection and
// revocation, RP-initiated and back-channel logout, and the JWT bearer and
// token exchange grants.

// newExtraClient returns the library's client for a client of extraClients
// at op, with mod applied to its config.
func newExtraClient(t *testing.T, op, clientID string, mod func(*exchange.Config)) *exchange.Client {
	t.Helper()
	key, err := extraKey(clientID)
	if err != nil {
		t.Fatal(err)
	}
	p := discoverOP(t, op, key.Algorithm())
	cfg := exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirectURI}
	if mod != nil {
		mod(&cfg)
	}
	c, err := exchange.New(p, cfg)
	if err != nil {
		t.Fatalf("exchange.New(%s): %v", clientID, err)
	}
	return c
}

// loginUAWith is loginWith through the user agent ua, whose cookies keep
// the provider's session for a logout.
func loginUAWith(ctx context.Context, ua *userAgent, c *exchange.Client) (*exchange.Result, error) {
	authURL, tx, err := c.AuthCodeURL(ctx)
	if err != nil {
		return nil, err
	}
	cb, err := ua.authorize(ctx, authURL)
	if err != nil {
		return nil, err
	}
	return c.Callback(ctx, tx, cb.Query())
}

// TestInteropUserInfo reads UserInfo as JSON and as a signed JWT (ES256,
// verified against the provider's keys): sub is the ID token's.
func TestInteropUserInfo(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		for _, tc := range []struct {
			name, clientID string
			algs           []jwks.Algorithm
		}{
			{name: "json", clientID: clientRPTokens},
			// The signed response is verified with the ID token allow-list.
			{name: "signed", clientID: clientRPUserinfoJWT, algs: []jwks.Algorithm{jwks.RS256, jwks.ES256}},
		} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c := newExtraClient(t, op, tc.clientID, func(cfg *exchange.Config) { cfg.IDTokenAlgorithms = tc.algs })
				res, err := loginWith(t.Context(), c)
				if err != nil {
					t.Fatal(err)
				}
				var claims map[string]any
				if err := c.UserInfo(t.Context(), res.Token, res.IDToken.Subject, &claims); err != nil {
					t.Fatalf("UserInfo: %v", err)
				}
				if claims["sub"] != subject {
					t.Errorf("UserInfo sub = %v, want %s", claims["sub"], subject)
				}
				if err := c.UserInfo(t.Context(), res.Token, "someone-else", nil); !errors.Is(err, exchange.ErrUserInfoSubject) {
					t.Errorf("UserInfo for another subject: %v, want ErrUserInfoSubject", err)
				}
			})
		}
	}
}

// TestInteropUserInfoRevokedToken: after revocation the provider refuses
// the token with a WWW-Authenticate challenge, which the library types.
func TestInteropUserInfoRevokedToken(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			c := newExtraClient(t, op, clientRPTokens, nil)
			res, err := loginWith(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Revoke(t.Context(), res.Token.AccessToken, "access_token"); err != nil {
				t.Fatal(err)
			}
			err = c.UserInfo(t.Context(), res.Token, res.IDToken.Subject, nil)
			var te *exchange.TokenError
			if !errors.Is(err, exchange.ErrInvalidToken) || !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
				t.Errorf("UserInfo with a revoked token: %v, want a 401 ErrInvalidToken", err)
			}
		})
	}
}

// TestInteropRevokeIntrospect introspects a login's tokens, revokes them
// and introspects again; a revoked refresh token no longer refreshes.
func TestInteropRevokeIntrospect(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			c := newExtraClient(t, op, clientRPTokens, nil)
			res, err := loginWith(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"access": res.Token.AccessToken, "refresh": res.Token.RefreshToken} {
				in, err := c.Introspect(t.Context(), tok)
				if err != nil {
					t.Fatalf("Introspect(%s token): %v", name, err)
				}
				if !in.Active || in.Subject != subject || in.ClientID != clientRPTokens || in.Expiry.IsZero() {
					t.Errorf("Introspect(%s token) = %+v, want active, sub %s, client_id %s, exp", name, in, subject, clientRPTokens)
				}
			}
			if err := c.Revoke(t.Context(), res.Token.AccessToken, "access_token"); err != nil {
				t.Fatalf("Revoke(access token): %v", err)
			}
			if in, err := c.Introspect(t.Context(), res.Token.AccessToken); err != nil || in.Active {
				t.Errorf("Introspect after revocation = %+v, %v; want inactive", in, err)
			}
			if err := c.Revoke(t.Context(), res.Token.RefreshToken, "refresh_token"); err != nil {
				t.Fatalf("Revoke(refresh token): %v", err)
			}
			if in, err := c.Introspect(t.Context(), res.Token.RefreshToken); err != nil || in.Active {
				t.Errorf("Introspect(revoked refresh token) = %+v, %v; want inactive", in, err)
			}
			if err := c.Revoke(t.Context(), "not-a-token", ""); err != nil {
				t.Errorf("Revoke(unknown token) = %v, want nil (RFC 7009 §2.2)", err)
			}
		})
	}
}

// TestInteropRefreshOnDemand forces a refresh of a valid token.
func TestInteropRefreshOnDemand(t *testing.T) {
	needInterop(t)
	t.Parallel()
	c := newExtraClient(t, strictOP, clientRPTokens, nil)
	res, err := loginWith(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	ts := c.RefreshTokenSource(res.Token, res.IDToken)
	tok, err := ts.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == res.Token.AccessToken {
		t.Error("Refresh returned the old access token")
	}
}

// TestInteropLogout logs out through EndSessionURL, checks the state on the
// way back with EndSessionCallback, and feeds the back-channel logout token
// the provider sent to the library's handler: accepted once, for the
// login's sid and sub.
func TestInteropLogout(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			c := newExtraClient(t, op, clientRPLogoutLib, func(cfg *exchange.Config) { cfg.IDTokenAlgorithms = []jwks.Algorithm{jwks.RS256, jwks.ES256} })
			ua, err := newUserAgent()
			if err != nil {
				t.Fatal(err)
			}
			res, err := loginUAWith(t.Context(), ua, c)
			if err != nil {
				t.Fatal(err)
			}
			before := len(logoutTokensFrom(clientRPLogoutLib, env.issuer(op)))
			idToken, _ := res.Token.Extra("id_token").(string)
			endURL, state, err := c.EndSessionURL(idToken, postLogoutRedirectURI)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(endURL)
			q := u.Query()
			u.RawQuery = ""
			loc, err := ua.endSession(t.Context(), u.String(), q)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(loc.String(), postLogoutRedirectURI) {
				t.Fatalf("logout ended at %s, want %s", loc.Redacted(), postLogoutRedirectURI)
			}
			if err := c.EndSessionCallback(loc.Query(), state); err != nil {
				t.Errorf("EndSessionCallback: %v", err)
			}
			if err := c.EndSessionCallback(loc.Query(), state+"x"); !errors.Is(err, exchange.ErrStateMismatch) {
				t.Errorf("EndSessionCallback with another state: %v, want ErrStateMismatch", err)
			}

			toks := logoutTokensFrom(clientRPLogoutLib, env.issuer(op))
			if len(toks) != before+1 {
				t.Fatalf("back-channel logout tokens from %s: %d, want %d", op, len(toks), before+1)
			}
			var mu sync.Mutex
			var ended []provider.LogoutToken
			h := c.BackchannelLogoutHandler(func(_ context.Context, lt *provider.LogoutToken) error {
				mu.Lock()
				ended = append(ended, *lt)
				mu.Unlock()
				return nil
			})
			post := func(tok string) int {
				req := httptest.NewRequest(http.MethodPost, "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w.Code
			}
			if st := post(toks[len(toks)-1]); st != http.StatusOK {
				t.Fatalf("the provider's logout token: status %d, want 200", st)
			}
			if len(ended) != 1 || ended[0].Subject != subject || ended[0].SessionID == "" || ended[0].SessionID != res.IDToken.SessionID {
				t.Errorf("ended %+v, want sub %s and the login's sid %q", ended, subject, res.IDToken.SessionID)
			}
			if st := post(toks[len(toks)-1]); st != http.StatusBadRequest {
				t.Errorf("the same logout token again: status %d, want 400", st)
			}
			if st := post(idToken); st != http.StatusBadRequest {
				t.Errorf("the ID token as a logout token: status %d, want 400", st)
			}
			if len(ended) != 1 {
				t.Errorf("end called %d times, want 1", len(ended))
			}
		})
	}
}

// TestInteropJWTBearerAndTokenExchange redeems a grant JWT with JWTBearer
// and exchanges the access token with TokenExchange, both through the
// library, at both baseline instances.
func TestInteropJWTBearerAndTokenExchange(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			key, err := extraKey(clientGrants)
			if err != nil {
				t.Fatal(err)
			}
			c := newExtraClient(t, op, clientGrants, nil)
			m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: clientGrants, Subject: subject, Audience: []string{c.Issuer()}})
			if err != nil {
				t.Fatal(err)
			}
			grant, err := m.Mint(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.JWTBearer(t.Context(), grant)
			if err != nil {
				t.Fatalf("JWTBearer: %v", err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" {
				t.Fatalf("JWTBearer token type %q, access token empty %v", tok.TokenType, tok.AccessToken == "")
			}
			if err := c.UserInfo(t.Context(), tok, subject, nil); err != nil {
				t.Errorf("UserInfo with the JWT bearer token: %v", err)
			}
			x, err := c.TokenExchange(t.Context(), exchange.TokenExchangeRequest{SubjectToken: tok.AccessToken, SubjectTokenType: exchange.TokenTypeAccessToken})
			if err != nil {
				t.Fatalf("TokenExchange: %v", err)
			}
			if x.AccessToken == "" || x.AccessToken == tok.AccessToken || x.Extra("issued_token_type") != exchange.TokenTypeAccessToken {
				t.Errorf("TokenExchange issued_token_type %v, new token %v", x.Extra("issued_token_type"), x.AccessToken != tok.AccessToken)
			}
			in, err := c.Introspect(t.Context(), x.AccessToken)
			if err != nil || !in.Active || in.Subject != subject {
				t.Errorf("Introspect(exchanged token) = %+v, %v; want active for %s", in, err, subject)
			}
		})
	}
}

// TestInteropRefusedAfterRevocation: a revoked refresh token no longer
// refreshes, and a grant JWT is redeemed once; the provider's refusals come
// back typed. (The probe client's refusals are expected by the suite.)
func TestInteropRefusedAfterRevocation(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			c := newExtraClient(t, op, clientGrantProbe, nil)
			res, err := loginWith(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Revoke(t.Context(), res.Token.RefreshToken, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.RefreshTokenSource(res.Token, res.IDToken).Refresh(t.Context()); !errors.Is(err, exchange.ErrInvalidGrant) {
				t.Errorf("Refresh with a revoked refresh token: %v, want ErrInvalidGrant", err)
			}
			key, err := extraKey(clientGrantProbe)
			if err != nil {
				t.Fatal(err)
			}
			m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: clientGrantProbe, Subject: subject, Audience: []string{c.Issuer()}})
			if err != nil {
				t.Fatal(err)
			}
			grant, err := m.Mint(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.JWTBearer(t.Context(), grant); err != nil {
				t.Fatalf("JWTBearer: %v", err)
			}
			if _, err := c.JWTBearer(t.Context(), grant); !errors.Is(err, exchange.ErrInvalidGrant) {
				t.Errorf("JWTBearer with the same grant JWT again: %v, want ErrInvalidGrant", err)
			}
		})
	}
}
