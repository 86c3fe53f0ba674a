package interop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// discoverOP runs provider.Discover on the named provider with the
// private_key_jwt pre-flight for alg, and closes the provider at cleanup.
func discoverOP(t *testing.T, op string, alg jwks.Algorithm) *provider.Provider {
	t.Helper()
	p, err := provider.Discover(t.Context(), env.issuer(op), provider.Config{ClientAuthAlgorithm: alg})
	if err != nil {
		t.Fatalf("provider.Discover(%s): %v", op, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// newClient returns the library's client for clientID at the named
// provider, signing with keys under profile.
func newClient(t *testing.T, op, clientID string, keys jwks.KeySource, profile assertion.Profile) *exchange.Client {
	t.Helper()
	k, err := keys.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	p := discoverOP(t, op, k.Algorithm())
	cfg := exchange.Config{ClientID: clientID, Key: keys, RedirectURL: redirectURI}
	if profile == assertion.ProfileLegacy {
		m, err := assertion.NewMinter(keys, assertion.Config{ClientID: clientID, Audience: p.Metadata().TokenEndpoint, Profile: profile})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Key, cfg.Assertions = nil, m
	}
	c, err := exchange.New(p, cfg)
	if err != nil {
		t.Fatalf("exchange.New(%s): %v", clientID, err)
	}
	return c
}

// loginWith runs a whole login through the library: AuthCodeURL, the user
// agent through the provider's interaction endpoints, then Callback with the
// query the redirect URI receives (code exchange, ID token verification).
func loginWith(ctx context.Context, c *exchange.Client) (*exchange.Result, error) {
	authURL, tx, err := c.AuthCodeURL(ctx)
	if err != nil {
		return nil, err
	}
	cb, err := authorize(ctx, authURL)
	if err != nil {
		return nil, err
	}
	return c.Callback(ctx, tx, cb.Query())
}

// expired returns a copy of t whose access token has expired, so that a
// refreshing TokenSource must refresh it.
func expired(t *oauth2.Token) *oauth2.Token {
	c := *t
	c.Expiry = time.Now().Add(-time.Minute)
	return &c
}

// isInvalidClient reports whether err is the provider's invalid_client.
func isInvalidClient(err error) bool {
	var te *exchange.TokenError
	return errors.Is(err, exchange.ErrInvalidClient) && errors.As(err, &te) && te.StatusCode == 401
}
