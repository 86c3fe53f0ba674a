package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowser drives headless Chromium through the app of -serve: it opens
// the start page, clicks "Log in", follows the embedded provider back to the
// app, checks the subject, the UserInfo name and the session cookie, then
// logs out at the provider and back; logs in again and is logged out by the
// provider's back-channel logout token. It skips when Chromium or ChromeDriver is missing, unless
// PKJWT_REQUIRE_BROWSER=1 (as in CI), where it fails instead.
//
// Set PKJWT_SCREENSHOTS to a directory to keep a PNG of each page.
func TestBrowser(t *testing.T) {
	chromium, driver := browserOrSkip(t)
	testKeyEnv(t, "PKJWT_LOGIN_TEST_KEY")
	app := serveApp(t, "-serve", "-addr", "127.0.0.1:0", "-key-env", "PKJWT_LOGIN_TEST_KEY")
	wd := startWebDriver(t, chromium, driver)
	shot := func(name string) {
		dir := os.Getenv("PKJWT_SCREENSHOTS")
		if dir == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), wd.Screenshot(), 0o644); err != nil {
			t.Error(err)
		}
	}

	wd.Navigate(app.base + "/")
	if got := wd.Title(); !strings.Contains(got, "pkjwt login example") {
		t.Errorf("start page title = %q", got)
	}
	shot("1-start")
	login := wd.FindElement("#login")
	if got := wd.Text(login); got != "Log in" {
		t.Errorf("login button text = %q, want Log in", got)
	}
	wd.Click(login)

	// The click posts to /login, which redirects to the provider, which
	// redirects to /callback, which redirects to the claims page.
	subject := wd.Text(wd.FindElement("#subject"))
	if subject != "248289761001" {
		t.Errorf("subject on the claims page = %q, want 248289761001", subject)
	}
	if got := wd.URL(); got != app.base+"/" {
		t.Errorf("claims page URL = %q, want %s/ (no code or state left in the address bar)", got, app.base)
	}
	if name := wd.Text(wd.FindElement("#name")); name != "Jane Doe" {
		t.Errorf("heading name = %q, want Jane Doe (from UserInfo)", name)
	}
	if claims := wd.Text(wd.FindElement("#claims")); !strings.Contains(claims, "jane.doe@example.com") {
		t.Errorf("claims table lacks the email: %q", claims)
	}
	shot("2-claims")
	cookies := wd.Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || !cookies[0].HTTPOnly || cookies[0].SameSite != "Lax" {
		t.Errorf("cookies = %+v, want one HttpOnly SameSite=Lax %s", cookies, sessionCookie)
	}

	wd.Click(wd.FindElement("#logout"))
	if got := wd.Text(wd.FindElement("#notice")); got != "You are logged out." {
		t.Errorf("after log out the notice = %q", got)
	}
	// The click went to the provider's end_session_endpoint and back to
	// /logged-out, which checked the state.
	if got := wd.URL(); got != app.base+"/?logged_out=1" {
		t.Errorf("after log out the URL = %q, want %s/?logged_out=1", got, app.base)
	}
	if !strings.Contains(app.stderr.String(), "logged out at the provider") {
		t.Error("the logout did not come back from the provider with its state")
	}
	wd.FindElement("#login")
	shot("3-logged-out")
	if cookies := wd.Cookies(); len(cookies) != 0 {
		t.Errorf("cookies after log out = %+v, want none", cookies)
	}

	// Log in again; a logout at the provider that the app did not start
	// reaches it by back-channel and ends the session.
	wd.Click(wd.FindElement("#login"))
	wd.FindElement("#subject")
	resp, err := http.Get(app.issuer + "/end_session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wd.Navigate(app.base + "/")
	wd.FindElement("#login")
	shot("4-backchannel-logged-out")
}
