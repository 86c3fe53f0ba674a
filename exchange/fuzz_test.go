package exchange

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseTokenResponse: no input panics, every failure is one of the
// documented errors, no error text carries the request's secrets or markup,
// and a success has an access token and a non-negative lifetime.
func FuzzParseTokenResponse(f *testing.F) {
	seeds := []struct {
		status int
		body   string
	}{
		{200, `{"access_token":"a","token_type":"Bearer","expires_in":3600}`},
		{200, `{"access_token":"a","token_type":"bearer","expires_in":"60","id_token":"x.y.z","refresh_token":"r"}`},
		{200, `{"access_token":"a","token_type":"Bearer","id_token":42}`},
		{200, `{"access_token":"a","token_type":"Bearer","expires_in":-1}`},
		{200, `{"access_token":"a","token_type":"Bearer","error":"server_error"}`},
		{200, `{"access_token":"a","token_type":"Bearer","expires_in":1e400}`},
		{200, `[]`},
		{200, `null`},
		{200, `{"access_token":"a"`},
		{200, "\xff\xfe"},
		{400, `{"error":"invalid_grant","error_description":"SECRETCODE eyJabc.def"}`},
		{401, `{"error":{"nested":true}}`},
		{500, `<html>boom</html>`},
		{307, ``},
		{100, ``},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body))
	}
	const secret = "SECRETCODE"
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := parseTokenResponse(status, body, t0, []string{secret})
		if err != nil {
			var te *TokenError
			if !errors.Is(err, ErrMalformedResponse) && !errors.Is(err, ErrRedirect) && !errors.As(err, &te) {
				t.Fatalf("undocumented error %v", err)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q carries the secret", msg)
			}
			if strings.ContainsAny(msg, "<>\n\x00") {
				t.Fatalf("error %q carries markup or control characters", msg)
			}
			if te != nil && (len(te.Description) > maxDescriptionLen || len(te.Code) > maxCodeLen || len(te.URI) > maxURILen) {
				t.Fatalf("unbounded TokenError %+v", te)
			}
			return
		}
		if r.token == nil || r.token.AccessToken == "" || r.token.TokenType == "" {
			t.Fatalf("success without access token or type: %+v", r.token)
		}
		if r.token.ExpiresIn < 0 || (!r.token.Expiry.IsZero() && r.token.Expiry.Before(t0)) {
			t.Fatalf("negative lifetime: %+v", r.token)
		}
	})
}
