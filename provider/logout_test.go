package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutClaims returns valid logout token claims for issuer and client
// "client-1".
func logoutClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":    issuer,
		"aud":    "client-1",
		"iat":    testNow.Add(-30 * time.Second).Unix(),
		"exp":    testNow.Add(90 * time.Second).Unix(),
		"jti":    "jti-1",
		"sub":    "user-42",
		"sid":    "session-7",
		"events": map[string]any{logoutEvent: map[string]any{}},
	}
}

// mapReplay is a ReplayCache that records what it is asked.
type mapReplay struct {
	err error
	// guards seen
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *mapReplay) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	if _, ok := m.seen[id]; ok {
		return false, nil
	}
	m.seen[id] = until
	return true, nil
}

func (m *mapReplay) Forget(_ context.Context, id string) error {
	if m.err != nil {
		return m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, id)
	return nil
}

func TestVerifyLogoutToken(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	attacker := testKey(t, testkeys.RSA2048C, "rs")
	f := newFakeIDP(t, rs)
	p := f.discover(t, provider.Config{})
	iss := f.issuer()
	with := func(kv ...any) map[string]any {
		c := logoutClaims(iss)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	lt := map[string]any{"typ": "logout+jwt"}
	tests := []struct {
		name    string
		token   string
		wantErr error
		want    provider.LogoutToken
	}{
		{name: "valid", token: signJWT(t, rs, lt, with()), want: provider.LogoutToken{Subject: "user-42", SessionID: "session-7", ID: "jti-1", IssuedAt: testNow.Add(-30 * time.Second)}},
		{name: "valid without typ", token: signJWT(t, rs, map[string]any{"typ": nil}, with())},
		{name: "valid typ application/logout+jwt", token: signJWT(t, rs, map[string]any{"typ": "application/logout+jwt"}, with())},
		{name: "valid sid only", token: signJWT(t, rs, lt, with("sub", nil))},
		{name: "valid sub only", token: signJWT(t, rs, lt, with("sid", nil))},
		{name: "valid without exp", token: signJWT(t, rs, lt, with("exp", nil))},
		{name: "typ JWT", token: signJWT(t, rs, nil, with()), wantErr: provider.ErrMalformedToken},
		{name: "typ at+jwt", token: signJWT(t, rs, map[string]any{"typ": "at+jwt"}, with()), wantErr: provider.ErrMalformedToken},
		{name: "an ID token", token: signJWT(t, rs, nil, idClaims(iss)), wantErr: provider.ErrMalformedToken},
		{name: "an ID token without typ", token: signJWT(t, rs, map[string]any{"typ": nil}, idClaims(iss)), wantErr: provider.ErrMalformedToken},
		{name: "nonce", token: signJWT(t, rs, lt, with("nonce", "n")), wantErr: provider.ErrMalformedToken},
		{name: "null nonce", token: signJWT(t, rs, lt, with("nonce", []any{})), wantErr: provider.ErrMalformedToken},
		{name: "no events", token: signJWT(t, rs, lt, with("events", nil)), wantErr: provider.ErrMalformedToken},
		{name: "events without the logout event", token: signJWT(t, rs, lt, with("events", map[string]any{"other": map[string]any{}})), wantErr: provider.ErrMalformedToken},
		{name: "logout event not an object", token: signJWT(t, rs, lt, with("events", map[string]any{logoutEvent: true})), wantErr: provider.ErrMalformedToken},
		{name: "events an array", token: signJWT(t, rs, lt, with("events", []any{logoutEvent})), wantErr: provider.ErrMalformedToken},
		{name: "neither sub nor sid", token: signJWT(t, rs, lt, with("sub", nil, "sid", nil)), wantErr: provider.ErrMalformedToken},
		{name: "no jti", token: signJWT(t, rs, lt, with("jti", nil)), wantErr: provider.ErrMalformedToken},
		{name: "wrong iss", token: signJWT(t, rs, lt, with("iss", "https://evil.example")), wantErr: provider.ErrInvalidIssuer},
		{name: "wrong aud", token: signJWT(t, rs, lt, with("aud", "client-2")), wantErr: provider.ErrInvalidAudience},
		{name: "no iat", token: signJWT(t, rs, lt, with("iat", nil)), wantErr: provider.ErrMalformedToken},
		{name: "iat in the future", token: signJWT(t, rs, lt, with("iat", testNow.Add(2*time.Minute).Unix())), wantErr: provider.ErrTokenNotYetValid},
		{name: "iat too old", token: signJWT(t, rs, lt, with("iat", testNow.Add(-4*time.Minute).Unix(), "exp", nil)), wantErr: provider.ErrTokenExpired},
		{name: "expired", token: signJWT(t, rs, lt, with("exp", testNow.Add(-2*time.Minute).Unix())), wantErr: provider.ErrTokenExpired},
		{name: "nbf in the future", token: signJWT(t, rs, lt, with("nbf", testNow.Add(5*time.Minute).Unix())), wantErr: provider.ErrTokenNotYetValid},
		{name: "unknown key", token: signJWT(t, attacker, lt, with()), wantErr: provider.ErrInvalidSignature},
		{name: "alg none", token: "eyJhbGciOiJub25lIn0." + "e30.", wantErr: provider.ErrUnsupportedAlgorithm},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: &mapReplay{}})
			if err != nil {
				t.Fatal(err)
			}
			_ = i
			got, err := v.VerifyLogoutToken(t.Context(), tc.token)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifyLogoutToken(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if err == nil && tc.want.ID != "" && *got != tc.want {
				t.Errorf("VerifyLogoutToken(%q) = %+v, want %+v", tc.name, *got, tc.want)
			}
		})
	}
}

// TestVerifyLogoutTokenReplay: a jti is accepted once, by the default
// cache and by a configured one, and a failing cache refuses the token.
func TestVerifyLogoutTokenReplay(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	f := newFakeIDP(t, rs)
	p := f.discover(t, provider.Config{})
	tok := signJWT(t, rs, map[string]any{"typ": "logout+jwt"}, logoutClaims(f.issuer()))
	for _, rc := range []provider.ReplayCache{nil, &mapReplay{}} {
		v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: rc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyLogoutToken(t.Context(), tok); err != nil {
			t.Fatalf("first VerifyLogoutToken: %v", err)
		}
		if _, err := v.VerifyLogoutToken(t.Context(), tok); !errors.Is(err, provider.ErrTokenReplayed) {
			t.Errorf("second VerifyLogoutToken error = %v, want ErrTokenReplayed", err)
		}
	}
	m := &mapReplay{}
	v, _ := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: m})
	if _, err := v.VerifyLogoutToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	for _, until := range m.seen {
		if want := testNow.Add(-30*time.Second + 2*time.Minute + time.Minute); !until.Equal(want) {
			t.Errorf("jti remembered until %v, want %v (iat + 2 min + leeway)", until, want)
		}
	}
	broken := errors.New("store down")
	v, _ = p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: &mapReplay{err: broken}})
	if got, err := v.VerifyLogoutToken(t.Context(), tok); err == nil || got != nil {
		t.Errorf("VerifyLogoutToken with a failing cache = %v, %v; want an error", got, err)
	}
}

// TestReleaseLogoutToken: a released logout token is accepted once more
// (the provider's redelivery after the sessions could not be ended), and
// then refused again; releasing another issuer's jti or a nil token
// changes nothing.
func TestReleaseLogoutToken(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	f := newFakeIDP(t, rs)
	p := f.discover(t, provider.Config{})
	tok := signJWT(t, rs, map[string]any{"typ": "logout+jwt"}, logoutClaims(f.issuer()))
	for _, rc := range []provider.ReplayCache{nil, &mapReplay{}} {
		v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: rc})
		if err != nil {
			t.Fatal(err)
		}
		lt, err := v.VerifyLogoutToken(t.Context(), tok)
		if err != nil {
			t.Fatalf("first VerifyLogoutToken: %v", err)
		}
		if err := v.ReleaseLogoutToken(t.Context(), nil); err != nil {
			t.Errorf("ReleaseLogoutToken(nil) = %v", err)
		}
		if _, err := v.VerifyLogoutToken(t.Context(), tok); !errors.Is(err, provider.ErrTokenReplayed) {
			t.Fatalf("second VerifyLogoutToken before release: error = %v, want ErrTokenReplayed", err)
		}
		if err := v.ReleaseLogoutToken(t.Context(), lt); err != nil {
			t.Fatalf("ReleaseLogoutToken: %v", err)
		}
		if _, err := v.VerifyLogoutToken(t.Context(), tok); err != nil {
			t.Errorf("redelivery after ReleaseLogoutToken: %v", err)
		}
		if _, err := v.VerifyLogoutToken(t.Context(), tok); !errors.Is(err, provider.ErrTokenReplayed) {
			t.Errorf("third delivery: error = %v, want ErrTokenReplayed", err)
		}
	}
	broken := errors.New("store down")
	v, _ := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", ReplayCache: &mapReplay{err: broken}})
	if err := v.ReleaseLogoutToken(t.Context(), &provider.LogoutToken{ID: "jti-1"}); err == nil || errors.Is(err, broken) {
		t.Errorf("ReleaseLogoutToken with a failing cache = %v, want an error that does not wrap the cache's", err)
	}
}

func TestVerifyUserInfo(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	es := testKey(t, testkeys.P256A, "es")
	f := newFakeIDP(t, rs, es)
	p := f.discover(t, provider.Config{})
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1"})
	if err != nil {
		t.Fatal(err)
	}
	iss := f.issuer()
	with := func(kv ...any) map[string]any {
		c := map[string]any{"iss": iss, "aud": "client-1", "sub": "user-42", "name": "Jane"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "valid without exp and iat", token: signJWT(t, rs, nil, with())},
		{name: "valid with exp and iat", token: signJWT(t, rs, nil, with("exp", testNow.Add(time.Minute).Unix(), "iat", testNow.Unix()))},
		{name: "no iss", token: signJWT(t, rs, nil, with("iss", nil)), wantErr: provider.ErrInvalidIssuer},
		{name: "wrong iss", token: signJWT(t, rs, nil, with("iss", "https://evil.example")), wantErr: provider.ErrInvalidIssuer},
		{name: "no aud", token: signJWT(t, rs, nil, with("aud", nil)), wantErr: provider.ErrInvalidAudience},
		{name: "wrong aud", token: signJWT(t, rs, nil, with("aud", []string{"client-2"})), wantErr: provider.ErrInvalidAudience},
		{name: "expired", token: signJWT(t, rs, nil, with("exp", testNow.Add(-time.Hour).Unix())), wantErr: provider.ErrTokenExpired},
		{name: "iat in the future", token: signJWT(t, rs, nil, with("iat", testNow.Add(time.Hour).Unix())), wantErr: provider.ErrTokenNotYetValid},
		{name: "alg not allowed", token: signJWT(t, es, nil, with()), wantErr: provider.ErrUnsupportedAlgorithm},
		{name: "typ at+jwt", token: signJWT(t, rs, map[string]any{"typ": "at+jwt"}, with()), wantErr: provider.ErrMalformedToken},
		{name: "repeated claim", token: signJWT(t, rs, nil, []byte(`{"iss":"`+iss+`","aud":"client-1","sub":"a","sub":"b"}`)), wantErr: provider.ErrMalformedToken},
	}
	for _, tc := range tests {
		got, err := v.VerifyUserInfo(t.Context(), tc.token)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("VerifyUserInfo(%q) error = %v, want %v", tc.name, err, tc.wantErr)
		}
		if err == nil && len(got) == 0 {
			t.Errorf("VerifyUserInfo(%q) returned no claims", tc.name)
		}
	}
	_ = jwks.RS256
}
