package exchange

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, clk := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb", Scopes: []string{"email", "openid", "profile"}})
	raw, tx, err := c.AuthCodeURL(t.Context(), WithParam("prompt", "login"), WithMaxAge(5*time.Minute), WithResource("https://api.example/"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, op.srv.URL+"/authorize?") {
		t.Errorf("URL = %q", raw)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": "s6BhdRkqt3", "redirect_uri": "https://rp.example/cb",
		"scope": "openid email profile", "state": tx.State, "nonce": tx.Nonce,
		"code_challenge": tx.challenge(), "code_challenge_method": "S256", "prompt": "login",
		"max_age": "300", "resource": "https://api.example/",
	}
	for k, v := range want {
		if got := q.Get(k); got != v || len(q[k]) != 1 {
			t.Errorf("%s = %q (%d values), want %q", k, got, len(q[k]), v)
		}
	}
	if q.Has("code_verifier") || strings.Contains(raw, tx.Verifier) {
		t.Error("the authorization URL carries the PKCE verifier")
	}
	if tx.Issuer != op.srv.URL || tx.RedirectURL != "https://rp.example/cb" || !tx.Created.Equal(clk.Now()) || tx.MaxAge != 5*time.Minute {
		t.Errorf("tx = %v", tx)
	}
	if err := tx.check(c.issuer); err != nil {
		t.Errorf("tx.check() = %v", err)
	}
	_, tx2, _ := c.AuthCodeURL(t.Context())
	if tx2.State == tx.State || tx2.Nonce == tx.Nonce || tx2.Verifier == tx.Verifier {
		t.Error("two logins share a random value")
	}
}

func TestAuthCodeURLErrors(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{})
	if _, _, err := c.AuthCodeURL(t.Context()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("AuthCodeURL without redirect error = %v, want %v", err, ErrInvalidConfig)
	}
	for _, opt := range []Option{WithParam("state", "fixed"), WithParam("nonce", "n"), WithParam("code_challenge_method", "plain"), WithRedirectURL("relative"), WithMaxAge(-time.Second)} {
		if _, _, err := c.AuthCodeURL(t.Context(), WithRedirectURL("https://rp.example/cb"), opt); !errors.Is(err, errInvalidOption) {
			t.Errorf("AuthCodeURL(%v) error = %v, want %v", opt, err, errInvalidOption)
		}
	}
}

func TestCallbackCode(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, clk := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb"})
	_, tx, err := c.AuthCodeURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	iss := op.srv.URL
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name        string
		query       url.Values
		issRequired bool
		age         time.Duration
		mutate      func(*Transaction)
		wantErr     error
	}{
		{name: "ok", query: q("code", "c1", "state", tx.State, "iss", iss)},
		{name: "ok without iss when not advertised", query: q("code", "c1", "state", tx.State)},
		{name: "missing iss when advertised", query: q("code", "c1", "state", tx.State), issRequired: true, wantErr: errIssuerMissing},
		{name: "wrong iss", query: q("code", "c1", "state", tx.State, "iss", "https://evil.example"), wantErr: ErrIssuerMismatch},
		{name: "iss with trailing slash", query: q("code", "c1", "state", tx.State, "iss", iss+"/"), wantErr: ErrIssuerMismatch},
		{name: "empty iss", query: q("code", "c1", "state", tx.State, "iss", ""), wantErr: ErrIssuerMismatch},
		{name: "wrong state", query: q("code", "c1", "state", tx.State+"x", "iss", iss), wantErr: ErrStateMismatch},
		{name: "missing state", query: q("code", "c1", "iss", iss), wantErr: ErrStateMismatch},
		{name: "error with wrong state is a state mismatch", query: q("error", "access_denied", "state", "forged"), wantErr: ErrStateMismatch},
		{name: "error response", query: q("error", "access_denied", "error_description", "user said no", "state", tx.State, "iss", iss), wantErr: ErrAccessDenied},
		{name: "login_required", query: q("error", "login_required", "state", tx.State), wantErr: ErrInteractionRequired},
		{name: "error wrong iss", query: q("error", "access_denied", "state", tx.State, "iss", "https://evil.example"), wantErr: ErrIssuerMismatch},
		{name: "no code", query: q("state", tx.State, "iss", iss), wantErr: errMalformedCallback},
		{name: "repeated code", query: q("code", "a", "code", "b", "state", tx.State), wantErr: errMalformedCallback},
		{name: "repeated state", query: q("code", "a", "state", tx.State, "state", tx.State), wantErr: errMalformedCallback},
		{name: "repeated iss", query: q("code", "a", "state", tx.State, "iss", iss, "iss", iss), wantErr: errMalformedCallback},
		{name: "transaction from the future", query: q("code", "c1", "state", tx.State), age: -2 * time.Minute, wantErr: ErrInvalidTransaction},
		{name: "transaction slightly ahead", query: q("code", "c1", "state", tx.State), age: -30 * time.Second},
		{name: "expired transaction", query: q("code", "c1", "state", tx.State), age: defaultTransactionMaxAge + time.Second, wantErr: errTransactionExpired},
		{name: "transaction of another issuer", query: q("code", "c1", "state", tx.State), mutate: func(x *Transaction) { x.Issuer = "https://other.example" }, wantErr: ErrInvalidTransaction},
		{name: "empty transaction", query: q("code", "c1", "state", ""), mutate: func(x *Transaction) { *x = Transaction{} }, wantErr: ErrInvalidTransaction},
	}
	for _, tc := range tests {
		cc := *c
		cc.issRequired = tc.issRequired
		cc.now = func() time.Time { return clk.Now().Add(tc.age) }
		x := tx
		if tc.mutate != nil {
			tc.mutate(&x)
		}
		code, err := cc.callbackCode(x, tc.query)
		if tc.wantErr == nil {
			if err != nil || code != "c1" {
				t.Errorf("callbackCode(%q) = %q, %v; want c1", tc.name, code, err)
			}
			continue
		}
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("callbackCode(%q) error = %v, want %v", tc.name, err, tc.wantErr)
		}
		if c := otherCause(err, tc.wantErr); c != nil {
			t.Errorf("callbackCode(%q) error = %v, matches %v too", tc.name, err, c)
		}
	}
}

func TestCallbackErrorBounded(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, _ := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb"})
	_, tx, _ := c.AuthCodeURL(t.Context())
	q := url.Values{"state": {tx.State}, "error": {"access_denied"}, "error_description": {"<img src=x onerror=alert(1)>" + strings.Repeat("A", 10000)}}
	_, err := c.callbackCode(tx, q)
	var ae *AuthorizationError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want *AuthorizationError", err)
	}
	if len(ae.Description) > maxDescriptionLen || strings.Contains(err.Error(), "<img") {
		t.Errorf("description unbounded or rendered unescaped: %d bytes, %q", len(ae.Description), err.Error()[:80])
	}
}

// TestExchangeCodeForm checks the code exchange request: the code, the
// transaction's redirect_uri and verifier, and exactly one client
// authentication method.
func TestExchangeCodeForm(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(url.Values) (int, string) {
		return 200, `{"access_token":"at","token_type":"Bearer","id_token":"h.p.s"}`
	})
	c, _ := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb"})
	_, tx, _ := c.AuthCodeURL(t.Context())
	r, err := c.exchangeCode(t.Context(), tx, "the-code")
	if err != nil {
		t.Fatal(err)
	}
	if r.idToken != "h.p.s" {
		t.Errorf("id_token = %q", r.idToken)
	}
	rec := op.requests()[0]
	checkAuth(t, rec, "s6BhdRkqt3")
	want := url.Values{"grant_type": {"authorization_code"}, "code": {"the-code"}, "redirect_uri": {"https://rp.example/cb"}, "code_verifier": {tx.Verifier}}
	for k, v := range want {
		if rec.form.Get(k) != v[0] || len(rec.form[k]) != 1 {
			t.Errorf("form[%s] = %v, want %v", k, rec.form[k], v)
		}
	}
	if sum := sha256.Sum256([]byte(rec.form.Get("code_verifier"))); base64.RawURLEncoding.EncodeToString(sum[:]) != tx.challenge() {
		t.Error("verifier does not match the challenge sent")
	}
}

func TestExchangeCodeNoIDToken(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"absent": `{"access_token":"at","token_type":"Bearer"}`,
		"null":   `{"access_token":"at","token_type":"Bearer","id_token":null}`,
		"empty":  `{"access_token":"at","token_type":"Bearer","id_token":""}`,
	} {
		op := newFakeOP(t)
		op.setRespond(func(url.Values) (int, string) { return 200, body })
		c, _ := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb"})
		_, tx, _ := c.AuthCodeURL(t.Context())
		if _, err := c.exchangeCode(t.Context(), tx, "code"); !errors.Is(err, errNoIDToken) {
			t.Errorf("exchangeCode(%s) error = %v, want %v", name, err, errNoIDToken)
		}
	}
}

// TestConfigCopied: changing the caller's config after New has no effect.
func TestConfigCopied(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	scopes := []string{"email"}
	hc := &http.Client{Timeout: time.Second}
	c, _ := fakeClient(t, op, Config{RedirectURL: "https://rp.example/cb", Scopes: scopes, HTTPClient: hc})
	scopes[0] = "admin"
	hc.Timeout = time.Hour
	raw, _, err := c.AuthCodeURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if got := u.Query().Get("scope"); got != "openid email" {
		t.Errorf("scope = %q after the caller changed its slice", got)
	}
	if c.apiClient.Timeout != time.Second || c.ep.hc.Timeout != time.Second {
		t.Errorf("HTTP client timeouts %v %v follow the caller's later change", c.apiClient.Timeout, c.ep.hc.Timeout)
	}
}
