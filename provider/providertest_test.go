package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

const (
	ptClientID = "client-1"
	ptRedirect = "https://app.example/callback"
	ptNonce    = "n-0S6_WzA2Mj"
)

var ptJTI atomic.Int64

// ptEnv is a providertest server, its clock, and the client's key.
type ptEnv struct {
	s   *providertest.Server
	clk *clock.Manual
	key *jwks.Key
}

func newPT(t *testing.T, cfg providertest.Config) *ptEnv {
	t.Helper()
	e := &ptEnv{clk: clock.NewManual(testNow), key: testKey(t, testkeys.RSA2048B, "client-key")}
	cfg.Now = e.clk.Now
	cfg.Clients = []providertest.Client{{
		ID:           ptClientID,
		JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(e.key)}},
		RedirectURIs: []string{ptRedirect},
	}}
	e.s = providertest.New(t, cfg)
	return e
}

// discover discovers the server with the environment's clock.
func (e *ptEnv) discover(ctx context.Context, cfg provider.Config) (*provider.Provider, error) {
	cfg.Now = e.clk.Now
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = e.s.HTTPClient()
	}
	return provider.Discover(ctx, e.s.Issuer(), cfg)
}

// login runs the code flow as a client would, minting its own client
// assertion (this package must not depend on assertion or exchange), and
// returns the ID token and access token.
func (e *ptEnv) login(t *testing.T) (idToken, accessToken string) {
	t.Helper()
	ctx := t.Context()
	verifier := "verifier-0123456789-0123456789-0123456789-0123"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {ptClientID},
		"redirect_uri":          {ptRedirect},
		"scope":                 {"openid"},
		"state":                 {"st"},
		"nonce":                 {ptNonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	cb, err := e.s.Authorize(ctx, e.s.AuthorizationEndpoint()+"?"+q.Encode())
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	now := e.clk.Now()
	asr := signJWT(t, e.key, map[string]any{"typ": "client-authentication+jwt"}, map[string]any{
		"iss": ptClientID, "sub": ptClientID, "aud": e.s.Issuer(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": fmt.Sprint("jti-", ptJTI.Add(1)),
	})
	form := url.Values{
		"grant_type":            {"authorization_code"},
		"code":                  {cb.Query().Get("code")},
		"redirect_uri":          {ptRedirect},
		"code_verifier":         {verifier},
		"client_assertion_type": {providertest.ClientAssertionType},
		"client_assertion":      {asr},
	}
	resp, err := e.s.HTTPClient().PostForm(e.s.TokenEndpoint(), form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tr struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 || tr.IDToken == "" {
		r, _ := e.s.LastRefusal()
		t.Fatalf("token response %d, %v, refusal %v", resp.StatusCode, err, r.Reason)
	}
	return tr.IDToken, tr.AccessToken
}

// TestProvidertestIDTokenMisbehaviors runs one login per misbehaviour of
// providertest that concerns ID tokens or keys, and checks the exact error
// kind (nil where a careful client still accepts the token).
func TestProvidertestIDTokenMisbehaviors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m       providertest.Misbehavior
		cfg     providertest.Config
		wantErr []error
	}{
		{m: providertest.IDTokenWrongIssuer, wantErr: []error{provider.ErrInvalidIssuer}},
		{m: providertest.IDTokenMissingSubject, wantErr: []error{provider.ErrMissingSubjectForTest}},
		{m: providertest.IDTokenWrongAudience, wantErr: []error{provider.ErrInvalidAudience}},
		{m: providertest.IDTokenMissingAudience, wantErr: []error{provider.ErrInvalidAudience}},
		{m: providertest.IDTokenExtraAudienceWithoutAZP, wantErr: []error{provider.ErrInvalidAuthorizedPartyForTest}},
		{m: providertest.IDTokenMissingIssuedAt, wantErr: []error{provider.ErrMissingIssuedAtForTest}},
		{m: providertest.IDTokenIssuedInFuture, wantErr: []error{provider.ErrIssuedInFutureForTest}},
		{m: providertest.IDTokenExpired, wantErr: []error{provider.ErrTokenExpired}},
		{m: providertest.IDTokenWrongNonce, wantErr: []error{provider.ErrNonceMismatch}},
		{m: providertest.IDTokenMissingNonce, wantErr: []error{provider.ErrNonceMismatch}},
		{m: providertest.IDTokenAlgNone, wantErr: []error{provider.ErrUnsupportedAlgorithm}}, // the algorithm is judged before the (empty) signature
		{m: providertest.IDTokenCorruptSignature, wantErr: []error{provider.ErrInvalidSignature}},
		{m: providertest.IDTokenCorruptSignature, cfg: providertest.Config{IDTokenAlgorithm: jwks.ES256}, wantErr: []error{provider.ErrInvalidSignature}},
		{m: providertest.IDTokenHS256WithPublicKey, wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{m: providertest.IDTokenUnpublishedKey, wantErr: []error{provider.ErrInvalidSignature, jwks.ErrUnknownKey}},
		{m: providertest.IDTokenNoKIDOneKey},
		{m: providertest.IDTokenNoKIDSeveralKeys},
		{m: providertest.IDTokenWrongATHash, wantErr: []error{provider.ErrAccessTokenHashMismatch}},
		{m: providertest.JWKSEncryptionKey},
		{m: providertest.JWKSSymmetricKey},
		{m: providertest.JWKSSecp256k1Key},
		{m: providertest.JWKSDecoySameKID},
		{m: providertest.OversizedJWKS, wantErr: []error{provider.ErrInvalidSignature, jwks.ErrFetch, httpread.ErrTooLarge}},
		{m: providertest.ServerErrorJWKS, wantErr: []error{provider.ErrInvalidSignature, jwks.ErrFetch}},
		{m: providertest.SlowJWKS, wantErr: []error{provider.ErrInvalidSignature, jwks.ErrFetch, context.DeadlineExceeded}},
	}
	for _, tc := range tests {
		name := tc.m.String()
		if tc.cfg.IDTokenAlgorithm != "" {
			name += "/" + string(tc.cfg.IDTokenAlgorithm)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newPT(t, tc.cfg)
			var kc jwks.RemoteConfig
			if tc.m == providertest.SlowJWKS {
				kc.Timeout = 500 * time.Millisecond
			}
			p, err := e.discover(t.Context(), provider.Config{KeySet: kc})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: ptClientID, Algorithms: []jwks.Algorithm{jwks.RS256, jwks.ES256}})
			if err != nil {
				t.Fatal(err)
			}
			e.s.Misbehave(tc.m)
			idt, at := e.login(t)
			tok, err := v.Verify(t.Context(), idt, provider.Expected{Nonce: ptNonce, AccessToken: at})
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Verify under %s error = %v, want nil", tc.m, err)
				}
				if tok.Subject == "" {
					t.Fatalf("Verify under %s: empty subject", tc.m)
				}
				return
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("Verify under %s error = %v, want %v", tc.m, err, want)
				}
			}
			if strings.Contains(err.Error(), idt) {
				t.Fatalf("Verify under %s: the error carries the token", tc.m)
			}
		})
	}
}

// TestProvidertestRotation checks that a key rotation is picked up by the
// unknown-kid refetch, once MinInterval has passed since the last fetch.
func TestProvidertestRotation(t *testing.T) {
	t.Parallel()
	for _, m := range []providertest.Misbehavior{providertest.RotateBeforeSigning, providertest.RotateBetweenLogins} {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			e := newPT(t, providertest.Config{})
			p, err := e.discover(t.Context(), provider.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: ptClientID})
			if err != nil {
				t.Fatal(err)
			}
			idt, _ := e.login(t)
			if _, err := v.Verify(t.Context(), idt, provider.Expected{Nonce: ptNonce}); err != nil {
				t.Fatalf("first login: %v", err)
			}
			e.s.Misbehave(m)
			e.clk.Advance(time.Minute) // the default RemoteConfig.MinInterval
			for i := range 3 {
				idt, _ := e.login(t)
				if _, err := v.Verify(t.Context(), idt, provider.Expected{Nonce: ptNonce}); err != nil {
					t.Fatalf("login %d after rotation: %v", i, err)
				}
				e.clk.Advance(time.Minute)
			}
			if n := e.s.Count(providertest.EndpointJWKS); n > 4 {
				t.Fatalf("JWKS fetched %d times for 4 logins", n)
			}
		})
	}
}

// TestProvidertestDiscoveryMisbehaviors checks discovery against each
// misbehaviour that concerns it.
func TestProvidertestDiscoveryMisbehaviors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m       providertest.Misbehavior
		cfg     providertest.Config
		pcfg    provider.Config
		wantErr []error
	}{
		{m: providertest.DiscoveryIssuerMismatch, wantErr: []error{provider.ErrIssuerMismatchForTest}},
		{m: providertest.DiscoveryHTTPEndpoints, cfg: providertest.Config{TLS: true}, wantErr: []error{provider.ErrInsecureEndpointForTest}},
		{m: providertest.DiscoveryNoPrivateKeyJWT, pcfg: provider.Config{ClientAuthAlgorithm: jwks.RS256}, wantErr: []error{provider.ErrPrivateKeyJWTUnsupported}},
		{m: providertest.OversizedDiscovery, wantErr: []error{provider.ErrDiscovery, httpread.ErrTooLarge}},
		{m: providertest.ServerErrorDiscovery, wantErr: []error{provider.ErrDiscovery}},
		{m: providertest.SlowDiscovery, wantErr: []error{provider.ErrDiscovery, context.DeadlineExceeded}},
	}
	for _, tc := range tests {
		t.Run(tc.m.String(), func(t *testing.T) {
			t.Parallel()
			e := newPT(t, tc.cfg)
			// Well-behaved, discovery succeeds with the same settings.
			p, err := e.discover(t.Context(), tc.pcfg)
			if err != nil {
				t.Fatalf("Discover while behaving: %v", err)
			}
			p.Close()
			e.s.Misbehave(tc.m)
			ctx := t.Context()
			if tc.m == providertest.SlowDiscovery {
				c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				ctx = c
			}
			_, err = e.discover(ctx, tc.pcfg)
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("Discover under %s error = %v, want %v", tc.m, err, want)
				}
			}
		})
	}
}

// TestProvidertestTLS checks discovery and verification over https with
// the server's own certificate.
func TestProvidertestTLS(t *testing.T) {
	t.Parallel()
	e := newPT(t, providertest.Config{TLS: true, IssuerPath: "/tenant/"})
	p, err := e.discover(t.Context(), provider.Config{ClientAuthAlgorithm: jwks.RS256})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.Issuer(), "https://") || !strings.HasSuffix(p.Issuer(), "/tenant/") {
		t.Fatalf("Issuer() = %q", p.Issuer())
	}
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: ptClientID})
	if err != nil {
		t.Fatal(err)
	}
	idt, at := e.login(t)
	if _, err := v.Verify(t.Context(), idt, provider.Expected{Nonce: ptNonce, AccessToken: at}); err != nil {
		t.Fatal(err)
	}
	// A client that does not trust the certificate fails discovery.
	if _, err := provider.Discover(t.Context(), e.s.Issuer(), provider.Config{HTTPClient: &http.Client{}}); !errors.Is(err, provider.ErrDiscovery) {
		t.Fatalf("Discover with an untrusting client error = %v, want %v", err, provider.ErrDiscovery)
	}
}

// TestProvidertestFlood runs 10,000 concurrent verifications with random
// kids against providertest and counts at most one routine JWKS fetch and
// one unknown-kid refetch per MinInterval.
func TestProvidertestFlood(t *testing.T) {
	t.Parallel()
	e := newPT(t, providertest.Config{})
	p, err := e.discover(t.Context(), provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: ptClientID})
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := e.login(t)
	parts := strings.Split(idt, ".")
	for round := range 3 {
		var wg sync.WaitGroup
		var unknown atomic.Int64
		for i := range 10000 {
			wg.Go(func() {
				if i%10 == 0 {
					if _, err := v.Verify(context.Background(), idt, provider.Expected{Nonce: ptNonce}); err != nil {
						t.Errorf("Verify(good) error = %v", err)
					}
					return
				}
				h := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"RS256","kid":"rnd-%d-%d"}`, round, i)))
				_, err := v.Verify(context.Background(), h+"."+parts[1]+"."+parts[2], provider.Expected{Nonce: ptNonce})
				if !errors.Is(err, jwks.ErrUnknownKey) {
					t.Errorf("Verify(random kid) error = %v, want %v", err, jwks.ErrUnknownKey)
				}
				unknown.Add(1)
			})
		}
		wg.Wait()
		// Per MinInterval, at most one routine fetch (the first, then the
		// refresh of a set whose max-age is MinInterval) and one
		// unknown-kid refetch, whatever the number of random kids.
		if n := e.s.Count(providertest.EndpointJWKS); n > 2*(round+1) {
			t.Fatalf("round %d: %d JWKS fetches, want at most %d (one routine fetch and one unknown-kid refetch per MinInterval)", round, n, 2*(round+1))
		}
		e.clk.Advance(time.Minute)
	}
}
