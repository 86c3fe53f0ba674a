package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// httpTimeout bounds every request the suite makes.
const httpTimeout = 10 * time.Second

// metadata is the part of the discovery document the flows use.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// discover fetches the provider's discovery document and checks its issuer.
func discover(ctx context.Context, issuer string) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: httpTimeout}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery: status %d", resp.StatusCode)
	}
	var md metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return nil, fmt.Errorf("discovery: %v", err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("discovery: issuer %q, want %q", md.Issuer, issuer)
	}
	return &md, nil
}

// rp is a relying party assembled from pkjwt's parts: assertion mints a fresh
// client assertion for every token request, x/oauth2 speaks the protocol.
type rp struct {
	op     string
	md     *metadata
	oauth  oauth2.Config
	minter *assertion.Minter
	hc     *http.Client
}

// newRP discovers the named provider and builds a relying party for clientID
// signing with keys under profile (the audience follows the profile: the
// issuer, or the token endpoint URL for ProfileLegacy).
func newRP(t *testing.T, op, clientID string, keys jwks.KeySource, profile assertion.Profile) *rp {
	t.Helper()
	md, err := discover(t.Context(), env.issuer(op))
	if err != nil {
		t.Fatal(err)
	}
	aud := md.Issuer
	if profile == assertion.ProfileLegacy {
		aud = md.TokenEndpoint
	}
	m, err := assertion.NewMinter(keys, assertion.Config{ClientID: clientID, Audience: aud, Profile: profile})
	if err != nil {
		t.Fatalf("assertion.NewMinter(%s): %v", clientID, err)
	}
	return &rp{
		op: op,
		md: md,
		oauth: oauth2.Config{
			ClientID:    clientID,
			RedirectURL: redirectURI,
			Scopes:      []string{"openid"},
			Endpoint: oauth2.Endpoint{
				AuthURL:   md.AuthorizationEndpoint,
				TokenURL:  md.TokenEndpoint,
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		minter: m,
		hc:     &http.Client{Timeout: httpTimeout},
	}
}

// clientAuth returns the form parameters of a fresh client assertion.
func (r *rp) clientAuth(ctx context.Context) (url.Values, error) {
	a, err := r.minter.Assertion(ctx)
	if err != nil {
		return nil, err
	}
	return url.Values{
		"client_assertion_type": {assertion.ClientAssertionType},
		"client_assertion":      {a},
	}, nil
}

// authOptions turns form parameters into x/oauth2 options.
func authOptions(v url.Values) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for k := range v {
		opts = append(opts, oauth2.SetAuthURLParam(k, v.Get(k)))
	}
	return opts
}

// loginResult is what a completed login hands the application.
type loginResult struct {
	token   *oauth2.Token
	idToken string
	nonce   string
}

// login runs a whole authorization-code login: authorize through the
// interaction endpoints, check the callback (state and iss), exchange the
// code with PKCE and a fresh assertion.
func (r *rp) login(ctx context.Context) (*loginResult, error) {
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	cb, err := authorize(ctx, r.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce)))
	if err != nil {
		return nil, err
	}
	q := cb.Query()
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("callback error %q: %q", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return nil, errors.New("callback state differs from the one sent")
	}
	if q.Get("iss") != r.md.Issuer {
		return nil, fmt.Errorf("callback iss = %q, want %q", q.Get("iss"), r.md.Issuer)
	}
	auth, err := r.clientAuth(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := r.oauth.Exchange(context.WithValue(ctx, oauth2.HTTPClient, r.hc), q.Get("code"),
		append(authOptions(auth), oauth2.VerifierOption(verifier))...)
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("code exchange: no id_token in the response")
	}
	return &loginResult{token: tok, idToken: raw, nonce: nonce}, nil
}

// tokenResponse is a successful token endpoint response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// tokenError is a token endpoint error response (RFC 6749 §5.2).
type tokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("token endpoint: status %d, error %q: %q", e.Status, e.Code, e.Description)
}

// postToken POSTs form (plus the client authentication auth) to the token
// endpoint as it is, with no retry, and parses the answer.
func (r *rp) postToken(ctx context.Context, form, auth url.Values) (*tokenResponse, error) {
	body := url.Values{}
	for k, v := range form {
		body[k] = v
	}
	for k, v := range auth {
		body[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.md.TokenEndpoint, strings.NewReader(body.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		te := &tokenError{Status: resp.StatusCode}
		_ = json.Unmarshal(b, te)
		return nil, te
	}
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil {
		return nil, fmt.Errorf("token response: %v", err)
	}
	return &tr, nil
}

// refresh redeems a refresh token with a fresh assertion. x/oauth2's
// refreshing TokenSource cannot add per-request parameters, hence the plain
// POST.
func (r *rp) refresh(ctx context.Context, refreshToken string) (*tokenResponse, error) {
	auth, err := r.clientAuth(ctx)
	if err != nil {
		return nil, err
	}
	return r.postToken(ctx, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {r.oauth.ClientID},
	}, auth)
}

// ccSource is an oauth2.TokenSource for the client_credentials
// grant that mints a fresh assertion for every fetch.
type ccSource struct {
	ctx context.Context
	r   *rp
}

// Token fetches a new token.
func (s ccSource) Token() (*oauth2.Token, error) {
	auth, err := s.r.clientAuth(s.ctx)
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID:       s.r.oauth.ClientID,
		TokenURL:       s.r.md.TokenEndpoint,
		AuthStyle:      oauth2.AuthStyleInParams,
		EndpointParams: auth,
	}
	return cc.Token(context.WithValue(s.ctx, oauth2.HTTPClient, s.r.hc))
}

// tokenSource returns a client-credentials TokenSource, as an application
// would hold it: fetches are reused while the token is valid.
func (r *rp) tokenSource(ctx context.Context) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, ccSource{ctx: ctx, r: r})
}

// verifyIDToken verifies an ID token from a login with the library's
// verifier (provider.IDTokenVerifier): signature against the provider's
// JWKS, iss, aud, expiry and the nonce; then the subject.
func (r *rp) verifyIDToken(t *testing.T, raw, nonce, accessToken string) (*provider.IDToken, error) {
	t.Helper()
	p := discoverOP(t, r.op, "")
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: r.oauth.ClientID})
	if err != nil {
		return nil, err
	}
	tok, err := v.Verify(t.Context(), raw, provider.Expected{Nonce: nonce, AccessToken: accessToken})
	if err != nil {
		return nil, err
	}
	if tok.Subject != subject {
		return nil, fmt.Errorf("id token sub = %q, want %q", tok.Subject, subject)
	}
	return tok, nil
}
