package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// testKeyEnv puts a pre-generated key in an environment variable, so that
// the tests do not pay for RSA key generation. It uses t.Setenv: tests
// calling it are not parallel.
func testKeyEnv(t *testing.T, name string) *jwks.Key {
	t.Helper()
	pemBytes := testkeys.PEM(testkeys.RSA2048A)
	t.Setenv(name, base64.StdEncoding.EncodeToString(pemBytes))
	k, err := jwks.ParsePEM(pemBytes, jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestHeadless runs the README's main command and checks the printed steps
// and verified claims, and that nothing secret is printed.
func TestHeadless(t *testing.T) {
	key := testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-key-env", "PKJWT_LOGIN_TEST_KEY"}, &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"1. discovered",
		"2. authorization request sent",
		"3. callback: state and iss (RFC 9207) checked",
		"the provider accepted the assertion: typ client-authentication+jwt",
		"4. ID token verified",
		"  sub             248289761001\n",
		"  email           jane.doe@example.com\n",
		"  name            Jane Doe\n",
		"kid " + key.KeyID(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "nonce") && strings.Contains(out, "  nonce ") {
		t.Errorf("stdout lists the nonce claim:\n%s", out)
	}
	noSecrets(t, out+stderr.String())
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing when the key is given", stderr.String())
	}
}

// noSecrets fails when s holds anything shaped like a JWT or a private key.
func noSecrets(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "eyJ") {
		t.Errorf("output holds something shaped like a JWT:\n%s", s)
	}
	if strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("output holds a private key:\n%s", s)
	}
}

// running is the program started in the background with -serve.
type running struct {
	base   string
	issuer string // of the embedded provider, "" for another
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// syncBuffer is a bytes.Buffer safe for the program's logger and the test.
type syncBuffer struct {
	ch chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	s := &syncBuffer{ch: make(chan struct{}, 1)}
	s.ch <- struct{}{}
	return s
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	<-s.ch
	defer func() { s.ch <- struct{}{} }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	<-s.ch
	defer func() { s.ch <- struct{}{} }()
	return s.b.String()
}

// serveApp starts the program with args (which include -serve) and returns
// once it prints the URL to open. It is stopped by t.Cleanup.
func serveApp(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	r := &running{stderr: newSyncBuffer(), cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = run(ctx, args, pw, r.stderr)
		pw.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		pr.Close()
		<-r.done
		if r.err != nil {
			t.Errorf("run(%q) error = %v", args, r.err)
		}
		noSecrets(t, r.stderr.String())
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		noSecrets(t, sc.Text())
		if rest, ok := strings.CutPrefix(sc.Text(), "provider:  "); ok && strings.HasSuffix(rest, " (embedded mock provider)") {
			r.issuer = strings.Fields(rest)[0]
		}
		if rest, ok := strings.CutPrefix(sc.Text(), "serving the app: open "); ok {
			r.base = strings.TrimSuffix(strings.Fields(rest)[0], "/")
			go func() {
				for sc.Scan() {
				}
			}()
			return r
		}
	}
	<-r.done
	t.Fatalf("run(%q) ended before serving: %v\nstderr:\n%s", args, r.err, r.stderr.String())
	return nil
}

// browser is a cookie-keeping HTTP client that follows redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServe drives -serve with a plain HTTP client: the start page, the
// login through the embedded provider, the claims page, the cookie's
// attributes, a replayed callback, and log out.
func TestServe(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	b := browser(t)

	resp, err := b.Get(app.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `id="login"`) || !strings.Contains(body, "Log in") {
		t.Fatalf("start page lacks the Log in button:\n%s", body)
	}

	// The app's JWK Set is public and carries no private member.
	resp, err = b.Get(app.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"kty":"RSA"`) || strings.Contains(body, `"d"`) {
		t.Errorf("GET /.well-known/jwks.json = %d %s", resp.StatusCode, body)
	}

	// Log in: the POST redirects to the provider, which redirects to the
	// callback, which redirects to the claims page. Record the callback URL.
	var callbackURL *url.URL
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/callback" {
			callbackURL = req.URL
		}
		return nil
	}
	resp, err = b.PostForm(app.base+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<span id="subject">248289761001</span>`) {
		t.Fatalf("after login: %d, want the claims page with the subject:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "jane.doe@example.com") {
		t.Errorf("claims page lacks the email:\n%s", body)
	}
	if strings.Contains(body, "eyJ") {
		t.Errorf("claims page shows a token:\n%s", body)
	}
	if callbackURL == nil || callbackURL.Query().Get("iss") == "" || callbackURL.Query().Get("state") == "" {
		t.Fatalf("callback URL %v lacks state or iss", callbackURL)
	}

	// The session cookie is HttpOnly and SameSite=Lax.
	c := b.Jar.Cookies(mustParse(t, app.base))
	if len(c) != 1 || c[0].Name != sessionCookie {
		t.Fatalf("cookies = %v, want one %s", c, sessionCookie)
	}
	req, _ := http.NewRequest(http.MethodPost, app.base+"/login", nil)
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	setCookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") || !strings.Contains(setCookie, "Path=/") {
		t.Errorf("Set-Cookie = %q, want HttpOnly; SameSite=Lax; Path=/", setCookie)
	}

	// A replayed callback finds no login in progress.
	b.CheckRedirect = nil
	resp, err = b.Get(callbackURL.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This login could not be finished") {
		t.Errorf("replayed callback = %d, want 400 with a plain message:\n%s", resp.StatusCode, body)
	}
	// Log out.
	resp, err = b.PostForm(app.base+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, "You are logged out.") || strings.Contains(body, "248289761001") {
		t.Errorf("after logout:\n%s", body)
	}
	// A GET cannot log out (it is not a route).
	resp, err = b.Get(app.base + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout = %d, want 405", resp.StatusCode)
	}
}

// TestServeSessionFixation plants the attacker's own, logged-in session id
// in the victim's browser before the victim logs in: the login ends that
// session and starts one under a fresh id, so the attacker's id is logged
// out and never holds the victim's login.
func TestServeSessionFixation(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	base := mustParse(t, app.base)
	loggedIn := func(b *http.Client) bool {
		t.Helper()
		resp, err := b.Get(app.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(readBody(t, resp), `id="subject"`)
	}
	login := func(b *http.Client) string {
		t.Helper()
		resp, err := b.PostForm(app.base+"/login", nil)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="subject"`) {
			t.Fatalf("login: %d, want the claims page:\n%s", resp.StatusCode, body)
		}
		c := b.Jar.Cookies(base)
		if len(c) != 1 || c[0].Name != sessionCookie {
			t.Fatalf("cookies = %v, want one %s", c, sessionCookie)
		}
		return c[0].Value
	}
	attacker := browser(t)
	planted := login(attacker)

	victim := browser(t)
	victim.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	if got := login(victim); got == planted {
		t.Error("the victim's login kept the planted session id")
	}
	if !loggedIn(victim) {
		t.Error("the victim is not logged in after the login")
	}
	if loggedIn(attacker) {
		t.Error("the planted session id is still logged in after the victim's login")
	}
}

// TestForgedState sends a callback whose state is not the session's: the
// app refuses it and the user stays logged out.
func TestForgedState(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	b := browser(t)
	var callbackURL *url.URL
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/callback" {
			callbackURL = req.URL
			return http.ErrUseLastResponse // stop before the app sees it
		}
		return nil
	}
	resp, err := b.PostForm(app.base+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if callbackURL == nil {
		t.Fatal("the provider did not redirect to the callback")
	}
	q := callbackURL.Query()
	q.Set("state", "forged-"+q.Get("state"))
	callbackURL.RawQuery = q.Encode()
	b.CheckRedirect = nil
	resp, err = b.Get(callbackURL.String())
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	// The transaction cookie is found by the state: a forged state finds
	// none.
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Start again from the start page") || strings.Contains(body, "exchange:") {
		t.Errorf("forged state: %d, want 400 with a plain message and no library text:\n%s", resp.StatusCode, body)
	}
	if log := app.stderr.String(); !strings.Contains(log, "no transaction cookie for this state") {
		t.Errorf("forged state: the log lacks the library's error:\n%s", log)
	}
	resp, err = b.Get(app.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `id="login"`) {
		t.Errorf("after a forged callback the user is not logged out:\n%s", body)
	}
}

// TestRealProviderFlags runs the app with -issuer, -client-id and -key-env
// against a provider it did not start (a providertest server standing in for
// Criipto Verify), the way a user runs it against a real one: once with the
// RFC 10070 audience, once with -legacy-aud for a provider that still wants
// the token endpoint URL.
func TestRealProviderFlags(t *testing.T) {
	key := testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	for _, tc := range []struct {
		name   string
		policy providertest.AudiencePolicy
		flags  []string
	}{
		{name: "issuer audience", policy: providertest.AudienceIssuer},
		{name: "legacy audience", policy: providertest.AudienceTokenEndpoint, flags: []string{"-legacy-aud"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			op := providertest.New(t, providertest.Config{User: providertest.User{Subject: "real-user-7"}, Audience: tc.policy})
			if err := op.RegisterClient(providertest.Client{
				ID:           "urn:my:app",
				JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
				RedirectURIs: []string{base + "/callback"},
			}); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-issuer", op.Issuer(), "-client-id", "urn:my:app", "-key-env", "PKJWT_LOGIN_TEST_KEY", "-addr", "127.0.0.1:" + strconv.Itoa(port)}, tc.flags...)
			app := serveApp(t, args...)
			if app.base != base {
				t.Fatalf("app serves at %s, want %s", app.base, base)
			}
			resp, err := browser(t).PostForm(app.base+"/login", nil)
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, resp); !strings.Contains(body, `<span id="subject">real-user-7</span>`) {
				t.Fatalf("after login: %d, want the claims page of real-user-7:\n%s", resp.StatusCode, body)
			}
			if a, ok := op.LastAssertion(); !ok || !a.Accepted || a.ClientID != "urn:my:app" {
				t.Errorf("last assertion at the provider: ok %v accepted %v client %q", ok, a.Accepted, a.ClientID)
			}
		})
	}
}

// TestWrongAudienceHint shows what a user sees when the provider wants the
// legacy audience and -legacy-aud is missing: the login fails with a plain
// page (no library text, no JSON escapes), and the app's log holds the
// error, the provider's own description and the hint to try -legacy-aud.
func TestWrongAudienceHint(t *testing.T) {
	key := testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	op := providertest.New(t, providertest.Config{Audience: providertest.AudienceTokenEndpoint})
	if err := op.RegisterClient(providertest.Client{
		ID:           "urn:my:app",
		JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
		RedirectURIs: []string{base + "/callback"},
	}); err != nil {
		t.Fatal(err)
	}
	app := serveApp(t, "-issuer", op.Issuer(), "-client-id", "urn:my:app", "-key-env", "PKJWT_LOGIN_TEST_KEY", "-addr", "127.0.0.1:"+strconv.Itoa(port))
	resp, err := browser(t).PostForm(app.base+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The app could not complete the login.") {
		t.Errorf("login with the wrong audience: %d, want 401 and a plain message:\n%s", resp.StatusCode, body)
	}
	for _, bad := range []string{"eyJ", "exchange:", "invalid_client", `\u00`, "-legacy-aud"} {
		if strings.Contains(body, bad) {
			t.Errorf("error page shows %q to the user:\n%s", bad, body)
		}
	}
	log := app.stderr.String()
	for _, want := range []string{"invalid_client", `error_description="client authentication failed"`, "hint=", "needs -legacy-aud"} {
		if !strings.Contains(log, want) {
			t.Errorf("the app's log lacks %q:\n%s", want, log)
		}
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPageEscapes renders claims chosen by the provider: html/template
// escapes them.
func TestPageEscapes(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	render(w, http.StatusOK, page{User: &user{
		Subject: `<script>alert(1)</script>`,
		Claims:  []claim{{Name: `"><img src=x>`, Value: `<b>bold</b>`}},
	}})
	body := w.Body.String()
	for _, bad := range []string{"<script>alert", "<img src=x>", "<b>bold"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("page lacks the escaped subject:\n%s", body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-issuer") {
		t.Errorf("-h output lacks the flags: %q", stderr.String())
	}
	if !strings.Contains(stderr.String(), "-insecure-skip-client-auth-check") || !strings.Contains(stderr.String(), "RISK") {
		t.Errorf("-h output lacks -insecure-skip-client-auth-check with its risk: %q", stderr.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-issuer", "https://op.example"}, "-client-id"},
		{[]string{"-issuer", "https://op.example", "-client-id", "x"}, "-key-env"},
		{[]string{"-key-env", "A", "-key-file", "b"}, "not both"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"-key-file", "/nonexistent/key.pem"}, "keygen"},
		{[]string{"-alg", "RS999", "-key-env", "K"}, `-alg "RS999" is not one of RS256`},
		{[]string{"-alg", "Ed25519", "-key-env", "K"}, "-alg Ed25519 needs -issuer"},
		{[]string{"-scopes", `email a"b`}, `-scopes: "a\"b" is not a scope`},
		{[]string{"-redirect-url", "/callback"}, `-redirect-url "/callback": give the absolute`},
		{[]string{"-redirect-url", "http://127.0.0.1:8080/cb#x"}, "without a fragment"},
	} {
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) error = %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
}

// keygenAlgorithms are the algorithms examples/keygen offers (its -alg
// values); examples/keygen's tests check the same list.
var keygenAlgorithms = []jwks.Algorithm{
	jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512,
	jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA,
}

// keygenTestKey is the pre-generated key of the kind keygen makes for alg.
func keygenTestKey(alg jwks.Algorithm) string {
	switch alg {
	case jwks.ES256:
		return testkeys.P256A
	case jwks.ES384:
		return testkeys.P384
	case jwks.ES512:
		return testkeys.P521
	case jwks.EdDSA:
		return testkeys.Ed25519A
	}
	return testkeys.RSA2048A
}

// TestHeadlessEveryKeygenAlgorithm: a key of every algorithm keygen offers,
// given the way keygen prints it (a base64 PEM in an environment variable)
// and with -alg, completes the headless login against the embedded
// provider, whose pre-flight must accept the algorithm.
func TestHeadlessEveryKeygenAlgorithm(t *testing.T) {
	for _, alg := range keygenAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			t.Setenv("PKJWT_LOGIN_TEST_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(keygenTestKey(alg))))
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), []string{"-key-env", "PKJWT_LOGIN_TEST_KEY", "-alg", string(alg)}, &stdout, &stderr); err != nil {
				t.Fatalf("run(-alg %s) error = %v\nstdout:\n%s\nstderr:\n%s", alg, err, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{
				"signing with " + string(alg) + " key",
				"private_key_jwt with " + string(alg) + " is supported",
				"the provider accepted the assertion",
				"4. ID token verified",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("run(-alg %s) stdout lacks %q:\n%s", alg, want, out)
				}
			}
		})
	}
}

// TestKeyAlgorithmFlag: without -alg the algorithm comes from the key;
// an -alg that does not fit the key is refused at load, naming it.
func TestKeyAlgorithmFlag(t *testing.T) {
	t.Setenv("PKJWT_LOGIN_TEST_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.P384)))
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-key-env", "PKJWT_LOGIN_TEST_KEY"}, &stdout, &stderr); err != nil {
		t.Fatalf("run(P-384 key) error = %v\nstdout:\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "signing with ES384 key") {
		t.Errorf("run(P-384 key) stdout lacks ES384:\n%s", stdout.String())
	}
	err := run(t.Context(), []string{"-key-env", "PKJWT_LOGIN_TEST_KEY", "-alg", "ES256"}, &stdout, &stderr)
	if !errors.Is(err, jwks.ErrInvalidConfig) || !strings.Contains(err.Error(), "ES256") {
		t.Errorf("run(P-384 key, -alg ES256) error = %v, want jwks.ErrInvalidConfig naming ES256", err)
	}
	if err := run(t.Context(), []string{"-alg", "ES256"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-alg") {
		t.Errorf("run(-alg without a key) error = %v, want one saying -alg needs -key-env or -key-file", err)
	}
}

// TestRSAKeyAbove4096Refused: an RSA key above 4096 bits, which verifiers
// such as go-jose (and the embedded provider) refuse, is refused at load
// with the reason, not at the token endpoint with a misleading hint.
func TestRSAKeyAbove4096Refused(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "jwks", "testdata", "rsa4097.pem"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(file, bytes.ReplaceAll(b, []byte("TESTING KEY"), []byte("PRIVATE KEY")), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-key-file", file}, &stdout, &stderr)
	if !errors.Is(err, jwks.ErrInvalidConfig) || !strings.Contains(err.Error(), "at most 4096 bits") {
		t.Errorf("run(RSA 4097-bit key) error = %v, want jwks.ErrInvalidConfig saying at most 4096 bits", err)
	}
	if strings.Contains(stdout.String(), "1. discovered") {
		t.Errorf("run(RSA 4097-bit key) went on to discovery:\n%s", stdout.String())
	}
}

// TestHint: each hint is given only where it is right. invalid_grant names
// both of its causes (a used or expired code, and a refused assertion, which
// is what zitadel answers for a wrong audience), invalid_scope points at
// -scopes, the audience advice follows -legacy-aud, and an error nothing
// more can be said about gets no hint.
func TestHint(t *testing.T) {
	t.Parallel()
	strict := &config{clientID: "urn:my:app", scopes: "email profile"}
	legacy := &config{clientID: "urn:my:app", scopes: "email profile", legacyAudience: true}
	tests := []struct {
		name    string
		err     error
		c       *config
		want    []string
		notWant []string
	}{
		{name: "invalid_grant", err: &exchange.TokenError{StatusCode: 400, Code: "invalid_grant"}, c: strict,
			want: []string{"already used or expired", "client assertion", "zitadel", "needs -legacy-aud"}},
		{name: "invalid_grant legacy", err: &exchange.TokenError{StatusCode: 400, Code: "invalid_grant"}, c: legacy,
			want: []string{"-legacy-aud is on", "needs it off"}},
		{name: "invalid_client", err: &exchange.TokenError{StatusCode: 401, Code: "invalid_client"}, c: strict,
			want: []string{"-client-id", `"urn:my:app"`, "needs -legacy-aud", "compatibility table"}},
		{name: "invalid_client legacy", err: &exchange.TokenError{StatusCode: 401, Code: "invalid_client"}, c: legacy,
			want: []string{"-legacy-aud is on"}, notWant: []string{"needs -legacy-aud"}},
		{name: "invalid_scope at the token endpoint", err: &exchange.TokenError{StatusCode: 400, Code: "invalid_scope"}, c: strict,
			want: []string{"-scopes", `"email profile"`}},
		{name: "invalid_scope at authorization", err: &exchange.AuthorizationError{Code: "invalid_scope"}, c: strict,
			want: []string{"-scopes"}, notWant: []string{"did not approve"}},
		{name: "unauthorized_client", err: &exchange.AuthorizationError{Code: "unauthorized_client"}, c: strict,
			want: []string{"authorization_code", "registration"}},
		{name: "state", err: fmt.Errorf("x: %w", exchange.ErrStateMismatch), c: strict, want: []string{"start again"}},
		{name: "unknown code", err: &exchange.TokenError{StatusCode: 400, Code: "something_else"}, c: strict},
		{name: "access_denied", err: &exchange.AuthorizationError{Code: "access_denied"}, c: strict},
		{name: "ID token", err: fmt.Errorf("x: %w", provider.ErrInvalidSignature), c: strict},
	}
	for _, tc := range tests {
		got := hint(tc.err, tc.c)
		if len(tc.want) == 0 && got != "" {
			t.Errorf("hint(%s) = %q, want none", tc.name, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("hint(%s) = %q, want it to mention %q", tc.name, got, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(got, w) {
				t.Errorf("hint(%s) = %q, want it not to mention %q", tc.name, got, w)
			}
		}
	}
}

// TestExplainShowsProviderDescription: a failed headless login shows the
// provider's own description, whole (ORY Hydra's 266-byte wrong-audience
// text with its URL) and escaped (no control character reaches the
// terminal), and no hint where none is right.
func TestExplainShowsProviderDescription(t *testing.T) {
	t.Parallel()
	hydra := "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). " +
		"Claim 'audience' from 'client_assertion' must match the authorization server's token endpoint 'https://hydra.example.com:4444/oauth2/token'."
	c := &config{clientID: "c", scopes: "email"}
	got := explain(&exchange.TokenError{StatusCode: 401, Code: "invalid_client", Description: hydra, URI: "https://op.example/errors?a=1&b=2"}, c)
	for _, want := range []string{"the provider said: " + strconv.Quote(hydra), `"https://op.example/errors?a=1&b=2"`, "what to do:", "needs -legacy-aud"} {
		if !strings.Contains(got, want) {
			t.Errorf("explain(hydra) = %q, want it to contain %q", got, want)
		}
	}
	got = explain(&exchange.TokenError{StatusCode: 400, Code: "odd", Description: "line\nbreak \x1b[31mred"}, c)
	if strings.ContainsAny(got[1:], "\x1b") || strings.Count(got, "\n") != 1 || !strings.Contains(got, `line\nbreak \x1b[31mred`) {
		t.Errorf("explain(control characters) = %q, want the description quoted on one line", got)
	}
	if strings.Contains(got, "what to do") {
		t.Errorf("explain(unknown code) = %q, want no hint", got)
	}
}

// TestPreflightRefusal: a provider whose discovery does not list the key's
// algorithm is refused with the algorithms it lists and the flag that
// overrides the check, not with "check -issuer"; with that flag the app
// starts and the log says the pre-flight failed.
func TestPreflightRefusal(t *testing.T) {
	key := testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY") // RS256
	op := providertest.New(t, providertest.Config{ClientAuthAlgorithms: []jwks.Algorithm{jwks.ES256}})
	base := []string{"-issuer", op.Issuer(), "-client-id", "urn:my:app", "-key-env", "PKJWT_LOGIN_TEST_KEY", "-addr", "127.0.0.1:0"}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), base, &stdout, &stderr)
	if !errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) {
		t.Fatalf("run(provider without %s) error = %v, want provider.ErrPrivateKeyJWTUnsupported", key.Algorithm(), err)
	}
	for _, want := range []string{"-insecure-skip-client-auth-check", `["ES256"]`, "keygen -alg"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run(provider without RS256) error = %v, want it to mention %q", err, want)
		}
	}
	for _, bad := range []string{"check -issuer", "Config.InsecureSkipClientAuthCheck"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("run(provider without RS256) error = %v, want it not to say %q", err, bad)
		}
	}
	// An Ed25519 key facing a provider that lists only RFC 9864's name.
	t.Setenv("PKJWT_LOGIN_ED_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.Ed25519A)))
	var edIssuer string
	ed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/a","token_endpoint":"%[1]s/t","jwks_uri":"%[1]s/j",`+
			`"response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],`+
			`"code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["private_key_jwt"],`+
			`"token_endpoint_auth_signing_alg_values_supported":["Ed25519"]}`, edIssuer)
	}))
	defer ed.Close()
	edIssuer = ed.URL
	err = run(t.Context(), []string{"-issuer", edIssuer, "-client-id", "c", "-key-env", "PKJWT_LOGIN_ED_KEY", "-addr", "127.0.0.1:0"}, &stdout, &stderr)
	if !errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) || !strings.Contains(err.Error(), "-alg Ed25519") {
		t.Errorf("run(EdDSA key, provider lists Ed25519) error = %v, want one suggesting -alg Ed25519", err)
	}
	// With -alg Ed25519 the pre-flight passes and the app serves.
	edApp := serveApp(t, "-issuer", edIssuer, "-client-id", "c", "-key-env", "PKJWT_LOGIN_ED_KEY", "-alg", "ed25519", "-addr", "127.0.0.1:0")
	resp, err := http.Get(edApp.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `"alg":"Ed25519"`) {
		t.Errorf("with -alg Ed25519 the published key set is %s, want alg Ed25519", body)
	}
	app := serveApp(t, append(base, "-insecure-skip-client-auth-check")...)
	if log := app.stderr.String(); !strings.Contains(log, "pre-flight failed") {
		t.Errorf("with -insecure-skip-client-auth-check the log lacks the pre-flight warning:\n%s", log)
	}
}

// TestDiscoveryErrorPointsAtIssuer: errors that come from the issuer URL
// still point at -issuer.
func TestDiscoveryErrorPointsAtIssuer(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-issuer", "http://op.example", "-client-id", "c", "-key-env", "PKJWT_LOGIN_TEST_KEY", "-addr", "127.0.0.1:0"}, &stdout, &stderr)
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "-issuer") {
		t.Errorf("run(-issuer http://op.example) error = %v, want provider.ErrInvalidConfig naming -issuer", err)
	}
}

// TestFlagValues: -alg in any letter case becomes the canonical name, and a
// flag error the flag package printed is not printed again.
func TestFlagValues(t *testing.T) {
	t.Parallel()
	c := &config{keyAlgorithm: "ps256"}
	if err := checkFlagValues(c); err != nil || c.keyAlgorithm != jwks.PS256 {
		t.Errorf("checkFlagValues(-alg ps256) = %v, alg %q; want nil and PS256", err, c.keyAlgorithm)
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-bogus"}, &stdout, &stderr)
	if code := cli.ExitCode("login", err, &stderr); code != 2 || strings.Count(stderr.String(), "-bogus") != 1 {
		t.Errorf("run(-bogus): exit %d, stderr names -bogus %d times; want 2 and once", code, strings.Count(stderr.String(), "-bogus"))
	}
}
