package exchange

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestOAuth2AutoDetectReplays documents why this package posts the token
// request itself instead of going through x/oauth2's Config.Exchange: with
// AuthStyleAutoDetect, a refused first attempt is re-posted with the same
// form, replaying the client assertion's jti. With AuthStyleInParams there
// is one POST. Our Client always sends one POST per assertion (see
// TestNoRetryReusesAssertion).
func TestOAuth2AutoDetectReplays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		style     oauth2.AuthStyle
		wantPosts int
	}{
		{oauth2.AuthStyleAutoDetect, 2},
		{oauth2.AuthStyleInParams, 1},
	} {
		op := newFakeOP(t)
		op.setRespond(func(url.Values) (int, string) { return 401, `{"error":"invalid_client"}` })
		c, _ := fakeClient(t, op, Config{})
		a, err := c.assertions.Assertion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		cfg := &oauth2.Config{ClientID: "s6BhdRkqt3", Endpoint: oauth2.Endpoint{TokenURL: op.srv.URL + "/token", AuthStyle: tc.style}}
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, op.srv.Client())
		_, err = cfg.Exchange(ctx, "code",
			oauth2.SetAuthURLParam("client_assertion_type", clientAssertionType),
			oauth2.SetAuthURLParam("client_assertion", a))
		if err == nil {
			t.Fatal("Exchange succeeded against a refusing server")
		}
		reqs := op.requests()
		if len(reqs) != tc.wantPosts {
			t.Errorf("AuthStyle %d: %d POSTs, want %d", tc.style, len(reqs), tc.wantPosts)
		}
		for _, r := range reqs {
			if r.form.Get("client_assertion") != a {
				t.Errorf("AuthStyle %d: a POST without the assertion", tc.style)
			}
		}
	}
}

// TestLoggerCarriesNoSecrets: the debug records of token requests carry the
// grant type and status, never the assertion, code or tokens.
func TestLoggerCarriesNoSecrets(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	var buf bytes.Buffer
	c, _ := fakeClient(t, op, Config{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if _, err := c.JWTBearer(t.Context(), "grant-secret-value"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer"`) || !strings.Contains(out, `"status":200`) {
		t.Errorf("log = %s", out)
	}
	for _, secret := range []string{"grant-secret-value", op.requests()[0].form.Get("client_assertion"), `"at"`} {
		if strings.Contains(out, secret) {
			t.Errorf("log %s carries %q", out, secret)
		}
	}
}
