package exchange

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
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
			if !errors.Is(err, ErrMalformedResponse) && !errors.Is(err, errRedirect) && !errors.As(err, &te) {
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

// FuzzCallbackQuery: no callback query panics; every failure is documented;
// a success requires the transaction's exact state and a non-empty code;
// no error text carries markup or control characters.
func FuzzCallbackQuery(f *testing.F) {
	tx := Transaction{
		State: "s0000000000000000000000000000000000000000000", Nonce: "n0000000000000000000000000000000000000000000",
		Verifier: "v000000000000000000000000000000000000000000", Issuer: "https://op.example",
		RedirectURL: "https://rp.example/cb", Created: t0,
	}
	c := &Client{issuer: "https://op.example", now: func() time.Time { return t0 }, txMaxAge: defaultTransactionMaxAge, issRequired: true}
	for _, s := range []string{
		"code=abc&state=" + tx.State + "&iss=https%3A%2F%2Fop.example",
		"code=abc&state=" + tx.State,
		"error=access_denied&error_description=%3Cb%3E&state=" + tx.State + "&iss=https%3A%2F%2Fop.example",
		"code=a&code=b&state=" + tx.State,
		"state=%00&iss=%ff",
		"%zz",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		code, err := c.callbackCode(tx, q)
		if err == nil {
			if q.Get("state") != tx.State || code == "" || q.Get("iss") != tx.Issuer {
				t.Fatalf("accepted %q", raw)
			}
			return
		}
		var ae *AuthorizationError
		switch {
		case errors.Is(err, ErrStateMismatch), errors.Is(err, ErrIssuerMismatch), errors.Is(err, errIssuerMissing),
			errors.Is(err, errMalformedCallback), errors.As(err, &ae):
		default:
			t.Fatalf("undocumented error %v", err)
		}
		if ae != nil && (len(ae.Description) > maxDescriptionLen || len(ae.Code) > maxCodeLen || len(ae.URI) > maxURILen) {
			t.Fatalf("unbounded %+v", ae)
		}
		if strings.ContainsAny(err.Error(), "<>\n\x00\x1b") {
			t.Fatalf("error %q carries markup or control characters", err.Error())
		}
	})
}
