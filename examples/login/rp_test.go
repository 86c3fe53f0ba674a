package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// login logs the browser b in at the app and returns the claims page.
func loginAt(t *testing.T, app *running, b *http.Client) string {
	t.Helper()
	resp, err := b.PostForm(app.base+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<span id="subject">248289761001</span>`) {
		t.Fatalf("login: %d, want the claims page:\n%s", resp.StatusCode, body)
	}
	return body
}

// TestAnonymousFlood: 10,000 anonymous POST /login requests (the old
// in-memory store's capacity) leave nothing on the server to exhaust; a new
// visitor still logs in.
func TestAnonymousFlood(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	raw := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const n, workers = 10_000, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				resp, err := raw.PostForm(app.base+"/login", nil)
				if err != nil {
					mu.Lock()
					bad++
					mu.Unlock()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if bad > 0 {
		t.Fatalf("%d of %d anonymous POST /login were not redirected to the provider", bad, n)
	}
	loginAt(t, app, browser(t))
}

// TestUserInfoAndLogout: the claims page shows UserInfo with the user's
// name in the heading; "Log out" ends the session at the provider and comes
// back with a checked state; a forged logout answer is refused.
func TestUserInfoAndLogout(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	b := browser(t)
	body := loginAt(t, app, b)
	if !strings.Contains(body, `<span id="name">Jane Doe</span>`) || !strings.Contains(body, `id="userinfo"`) {
		t.Errorf("claims page lacks the UserInfo name or table:\n%s", body)
	}
	var visited []string
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		visited = append(visited, req.URL.Path)
		return nil
	}
	resp, err := b.PostForm(app.base+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	body = readBody(t, resp)
	if !strings.Contains(body, "You are logged out.") {
		t.Errorf("after logout:\n%s", body)
	}
	if want := "/end_session /logged-out /"; strings.Join(visited, " ") != want {
		t.Errorf("logout went through %q, want %q", visited, want)
	}
	if !strings.Contains(app.stderr.String(), "logged out at the provider") {
		t.Errorf("the app did not check the provider's logout answer; log:\n%s", app.stderr.String())
	}
	if c := b.Jar.Cookies(mustParse(t, app.base)); len(c) != 0 {
		t.Errorf("cookies after logout = %v, want none", c)
	}
	// A logout answer this browser did not ask for.
	resp, err = b.Get(app.base + "/logged-out?state=forged")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "did not belong") {
		t.Errorf("forged logout answer: %d\n%s", resp.StatusCode, body)
	}
}

// TestBackchannelLogout: when the session ends at the provider (here: a
// logout there that the app did not start), the provider's logout token
// ends the app's session.
func TestBackchannelLogout(t *testing.T) {
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	if app.issuer == "" {
		t.Fatal("the embedded provider's issuer was not printed")
	}
	b := browser(t)
	loginAt(t, app, b)
	// Log out at the provider directly, as from another app of the same
	// single sign-on session.
	resp, err := http.Get(app.issuer + "/end_session")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("end_session at the provider = %d", resp.StatusCode)
	}
	resp, err = b.Get(app.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `id="login"`) || strings.Contains(body, "248289761001") {
		t.Errorf("after a back-channel logout the user is still logged in:\n%s", body)
	}
	if !strings.Contains(app.stderr.String(), "sessions_ended=1") {
		t.Errorf("log lacks the back-channel logout:\n%s", app.stderr.String())
	}
	// Anything else posted there is refused.
	resp, err = http.PostForm(app.base+"/backchannel-logout", url.Values{"logout_token": {"eyJhbGciOiJub25lIn0.e30."}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("forged logout token: %d %q, want 400 no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}
