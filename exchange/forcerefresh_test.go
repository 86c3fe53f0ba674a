package exchange_test

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// TestTokenSourceRefresh: Refresh fetches although the token is valid,
// keeps the refresh checks, and keeps the cached token when it fails.
func TestTokenSourceRefresh(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ts := e.c.RefreshTokenSource(res.Token, res.IDToken)
	if tok, err := ts.Token(); err != nil || tok.AccessToken != res.Token.AccessToken {
		t.Fatalf("Token() before Refresh = %v, want the login's token", err)
	}
	before, _, _ := e.rec.distinct()
	fresh, err := ts.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == res.Token.AccessToken {
		t.Error("Refresh returned the cached access token")
	}
	if posts, _, _ := e.rec.distinct(); posts != before+1 {
		t.Errorf("Refresh sent %d token requests, want 1", posts-before)
	}
	if tok, _ := ts.Token(); tok.AccessToken != fresh.AccessToken {
		t.Error("Token() after Refresh does not return the refreshed token")
	}
	// Every refresh check applies: a refreshed ID token from another issuer
	// fails the refresh and the cached token stays.
	e.op.Misbehave(providertest.IDTokenWrongIssuer)
	if _, err := ts.Refresh(t.Context()); !errors.Is(err, provider.ErrInvalidIssuer) {
		t.Errorf("Refresh with a wrong-issuer ID token error = %v, want provider.ErrInvalidIssuer", err)
	}
	if tok, _ := ts.Token(); tok.AccessToken != fresh.AccessToken {
		t.Error("a failed Refresh replaced the cached token")
	}
	e.op.Reset()
	// A client credentials source gets a new token.
	cc := e.c.ClientCredentialsTokenSource()
	a, err := cc.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, err := cc.Refresh(t.Context())
	if err != nil || b.AccessToken == a.AccessToken {
		t.Errorf("client credentials Refresh = %v; same token %v", err, b != nil && b.AccessToken == a.AccessToken)
	}
	// Without a refresh token.
	nort := e.c.RefreshTokenSource(&oauth2.Token{AccessToken: "x", TokenType: "Bearer"}, nil)
	if _, err := nort.Refresh(t.Context()); !errors.Is(err, exchange.ErrNoRefreshToken) {
		t.Errorf("Refresh without a refresh token error = %v, want ErrNoRefreshToken", err)
	}
}

// TestTokenSourceRefreshConcurrent: Refresh and Token calls at once never
// fail each other and send no more requests than there are Refresh calls
// (run with -race).
func TestTokenSourceRefreshConcurrent(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ts := e.c.RefreshTokenSource(res.Token, res.IDToken)
	before, _, _ := e.rec.distinct()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := ts.Refresh(t.Context()); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := ts.TokenContext(t.Context()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	posts, jtis, _ := e.rec.distinct()
	if got := posts - before; got < 1 || got > n {
		t.Errorf("%d concurrent Refresh calls sent %d requests, want 1 to %d", n, got, n)
	}
	if jtis != posts {
		t.Errorf("%d requests carried %d distinct assertion jti values", posts, jtis)
	}
}
