package exchange_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// newRecorder returns a recorder of the token requests to p's token
// endpoint that passes them on to op.
func newRecorder(op *providertest.Server, p *provider.Provider) *recorder {
	r := &recorder{base: op.HTTPClient().Transport, tokenURL: p.Metadata().TokenEndpoint}
	if r.base == nil {
		r.base = http.DefaultTransport
	}
	return r
}

// TestNewUsesProviderClock: with the clock set at the provider only, the
// Client checks ID tokens, dates and ages transactions and mints
// assertions by that same clock. The mock runs three hours behind the wall
// clock, so each of these fails if the Client uses time.Now anywhere.
func TestNewUsesProviderClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now().Add(-3 * time.Hour).Truncate(time.Second))
	op, key := startOP(t, providertest.Config{Now: clk.Now})
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{op: op, p: p, c: c, key: key}

	// The ID token is an hour old by the wall clock's reckoning, valid by
	// the provider's; the assertion is dated by the provider's clock, or the
	// mock would refuse it as issued in the future.
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatalf("login on the provider's clock: %v", err)
	}
	if !res.IDToken.IssuedAt.Equal(clk.Now()) {
		t.Errorf("ID token iat = %v, want the provider's clock %v", res.IDToken.IssuedAt, clk.Now())
	}

	// Transactions are dated and aged by the same clock.
	authURL, tx, err := c.AuthCodeURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !tx.Created.Equal(clk.Now()) {
		t.Errorf("Transaction.Created = %v, want the provider's clock %v", tx.Created, clk.Now())
	}
	cb, err := op.Authorize(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(exchange.DefaultTransactionMaxAgeForTest + time.Second)
	if _, err := c.Callback(t.Context(), tx, cb.Query()); !errors.Is(err, exchange.ErrTransactionExpiredForTest) {
		t.Errorf("Callback after the provider's clock passed the maximum age: error = %v, want %v", err, exchange.ErrTransactionExpiredForTest)
	}
}

// TestNewConfigClockOverrides: Config.Now, when set, is the Client's clock
// rather than the provider's.
func TestNewConfigClockOverrides(t *testing.T) {
	t.Parallel()
	providerNow := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clientNow := providerNow.Add(time.Minute)
	op, key := startOP(t, providertest.Config{})
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Now: clock.Fixed(providerNow)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirectURL, Now: clock.Fixed(clientNow)})
	if err != nil {
		t.Fatal(err)
	}
	if _, tx, err := c.AuthCodeURL(t.Context()); err != nil || !tx.Created.Equal(clientNow) {
		t.Errorf("AuthCodeURL() Created = %v, %v; want Config.Now %v", tx.Created, err, clientNow)
	}
}

// TestNewUsesProviderHTTPClient: with the HTTP client set at the provider
// only, token requests go through it; Config.HTTPClient overrides it.
func TestNewUsesProviderHTTPClient(t *testing.T) {
	t.Parallel()
	op, key := startOP(t, providertest.Config{})
	p0, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	atProvider := newRecorder(op, p0)
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: &http.Client{Transport: atProvider}})
	if err != nil {
		t.Fatal(err)
	}

	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := atProvider.distinct(); posts != 1 {
		t.Errorf("the provider's client carried %d token requests, want 1", posts)
	}

	inConfig := newRecorder(op, p)
	c, err = exchange.New(p, exchange.Config{ClientID: clientID, Key: key, HTTPClient: &http.Client{Transport: inConfig}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := inConfig.distinct(); posts != 1 {
		t.Errorf("Config.HTTPClient carried %d token requests, want 1", posts)
	}
	if posts, _, _ := atProvider.distinct(); posts != 1 {
		t.Errorf("the provider's client carried %d token requests in all, want 1 (Config.HTTPClient overrides it)", posts)
	}
}

// TestNewProviderClientKeepsTokenRules: the token rules hold on the
// provider's client too: an oversize body is ErrMalformedResponse (not the
// provider's own body-limit error), and a redirect is refused although the
// provider's client follows same-origin ones.
func TestNewProviderClientKeepsTokenRules(t *testing.T) {
	t.Parallel()
	op, key := startOP(t, providertest.Config{})
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	op.Misbehave(providertest.OversizedToken)
	if _, err := c.ClientCredentials(t.Context()); !errors.Is(err, exchange.ErrMalformedResponse) || !errors.Is(err, httpread.ErrTooLarge) {
		t.Errorf("ClientCredentials with an oversize body error = %v, want %v and %v", err, exchange.ErrMalformedResponse, httpread.ErrTooLarge)
	}

	// A same-origin redirect, which the provider's own client follows.
	base := newRecorder(op, p)
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost && req.URL.String() == p.Metadata().TokenEndpoint {
			return &http.Response{
				StatusCode: http.StatusTemporaryRedirect, Header: http.Header{"Location": {p.Metadata().TokenEndpoint + "2"}},
				Body: http.NoBody, Request: req,
			}, nil
		}
		return base.RoundTrip(req)
	})
	p2, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = exchange.New(p2, exchange.Config{ClientID: clientID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); !errors.Is(err, exchange.ErrRedirectForTest) {
		t.Errorf("ClientCredentials answered by a same-origin 307 error = %v, want %v", err, exchange.ErrRedirectForTest)
	}
}

// TestNewUsesProviderLogger: with the logger set at the provider only, the
// token request records go to it; Config.Logger overrides it.
func TestNewUsesProviderLogger(t *testing.T) {
	t.Parallel()
	op, key := startOP(t, providertest.Config{})
	var atProvider, inConfig bytes.Buffer
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	p, err := provider.Discover(t.Context(), op.Issuer(), provider.Config{HTTPClient: op.HTTPClient(), Logger: slog.New(slog.NewTextHandler(&atProvider, debug))})
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(atProvider.String(), "token request") {
		t.Errorf("provider's logger got %q, want the token request record", atProvider.String())
	}
	atProvider.Reset()
	c, err = exchange.New(p, exchange.Config{ClientID: clientID, Key: key, Logger: slog.New(slog.NewTextHandler(&inConfig, debug))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClientCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inConfig.String(), "token request") || strings.Contains(atProvider.String(), "token request") {
		t.Errorf("with Config.Logger: provider's logger got %q, Config.Logger got %q; want the record in Config.Logger only", atProvider.String(), inConfig.String())
	}
}

// TestNewChecksMinter: New refuses a Minter that mints for another client
// or audience than the Client's, and accepts a legacy one for the token
// endpoint.
func TestNewChecksMinter(t *testing.T) {
	t.Parallel()
	e := setup(t, providertest.Config{}, nil)
	tests := []struct {
		name    string
		cfg     assertion.Config
		wantErr error
	}{
		{name: "issuer", cfg: assertion.Config{ClientID: clientID, Audience: e.p.Issuer()}},
		{name: "legacy token endpoint", cfg: assertion.Config{ClientID: clientID, Audience: e.p.Metadata().TokenEndpoint, Profile: assertion.ProfileLegacy}},
		{name: "token endpoint without legacy", cfg: assertion.Config{ClientID: clientID, Audience: e.p.Metadata().TokenEndpoint}, wantErr: exchange.ErrInvalidConfig},
		{name: "another client", cfg: assertion.Config{ClientID: "other", Audience: e.p.Issuer()}, wantErr: exchange.ErrInvalidConfig},
		{name: "another issuer", cfg: assertion.Config{ClientID: clientID, Audience: "https://other.example"}, wantErr: exchange.ErrInvalidConfig},
	}
	for _, tc := range tests {
		m, err := assertion.NewMinter(e.key, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exchange.New(e.p, exchange.Config{ClientID: clientID, Assertions: m})
		if !errors.Is(err, tc.wantErr) { // errors.Is(err, nil) means err == nil
			t.Errorf("New with a Minter for %s: error = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}
