package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowser drives headless Chromium through the app of -serve: it opens
// the start page, clicks "Log in", follows the embedded provider back to the
// app, checks the subject on the claims page and the session cookie, then
// logs out. It skips when Chromium or ChromeDriver is missing, unless
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
	wd.FindElement("#login")
	shot("3-logged-out")
	if cookies := wd.Cookies(); len(cookies) != 0 {
		t.Errorf("cookies after log out = %+v, want none", cookies)
	}
}
