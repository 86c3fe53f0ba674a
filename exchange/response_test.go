package exchange

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestParseTokenResponse(t *testing.T) {
	t.Parallel()
	ok := `"access_token":"at-1","token_type":"Bearer"`
	tests := []struct {
		name       string
		status     int
		body       string
		wantErr    error
		wantExpiry time.Time
		wantType   string
		wantID     bool
	}{
		{name: "minimal", status: 200, body: `{` + ok + `}`, wantType: "Bearer"},
		{name: "access_token twice", status: 200, body: `{` + ok + `,"access_token":"other"}`, wantErr: ErrMalformedResponse},
		{name: "id_token twice, escaped", status: 200, body: `{` + ok + `,"id_token":"a.b.c","id_\u0074oken":"d.e.f"}`, wantErr: ErrMalformedResponse},
		{name: "repeated member in a nested object", status: 200, body: `{` + ok + `,"authorization_details":[{"type":"a","type":"b"}]}`, wantErr: ErrMalformedResponse},
		{name: "member names are case-sensitive", status: 200, body: `{"ACCESS_TOKEN":"x","token_type":"Bearer"}`, wantErr: ErrMalformedResponse},
		{name: "expires_in number", status: 200, body: `{` + ok + `,"expires_in":3600}`, wantExpiry: t0.Add(time.Hour), wantType: "Bearer"},
		{name: "expires_in string", status: 200, body: `{` + ok + `,"expires_in":"3600"}`, wantExpiry: t0.Add(time.Hour), wantType: "Bearer"},
		{name: "expires_in zero", status: 200, body: `{` + ok + `,"expires_in":0}`, wantExpiry: t0, wantType: "Bearer"},
		{name: "expires_in null is unknown", status: 200, body: `{` + ok + `,"expires_in":null}`, wantType: "Bearer"},
		{name: "expires_in negative", status: 200, body: `{` + ok + `,"expires_in":-1}`, wantErr: ErrMalformedResponse},
		{name: "expires_in negative string", status: 200, body: `{` + ok + `,"expires_in":"-5"}`, wantErr: ErrMalformedResponse},
		{name: "expires_in fraction", status: 200, body: `{` + ok + `,"expires_in":1.5}`, wantErr: ErrMalformedResponse},
		{name: "expires_in word", status: 200, body: `{` + ok + `,"expires_in":"soon"}`, wantErr: ErrMalformedResponse},
		{name: "expires_in bool", status: 200, body: `{` + ok + `,"expires_in":true}`, wantErr: ErrMalformedResponse},
		{name: "expires_in huge", status: 200, body: `{` + ok + `,"expires_in":1e300}`, wantErr: ErrMalformedResponse},
		{name: "expires_in huge string", status: 200, body: `{` + ok + `,"expires_in":"99999999999999999999"}`, wantErr: ErrMalformedResponse},
		{name: "token_type lower case", status: 200, body: `{"access_token":"a","token_type":"bearer"}`, wantType: "Bearer"},
		{name: "token_type upper case", status: 200, body: `{"access_token":"a","token_type":"BEARER"}`, wantType: "Bearer"},
		{name: "token_type other kept", status: 200, body: `{"access_token":"a","token_type":"N_A"}`, wantType: "N_A"},
		{name: "token_type missing", status: 200, body: `{"access_token":"a"}`, wantErr: ErrMalformedResponse},
		{name: "token_type number", status: 200, body: `{"access_token":"a","token_type":1}`, wantErr: ErrMalformedResponse},
		{name: "access_token missing", status: 200, body: `{"token_type":"Bearer"}`, wantErr: ErrMalformedResponse},
		{name: "access_token empty", status: 200, body: `{"access_token":"","token_type":"Bearer"}`, wantErr: ErrMalformedResponse},
		{name: "access_token object", status: 200, body: `{"access_token":{},"token_type":"Bearer"}`, wantErr: ErrMalformedResponse},
		{name: "refresh_token number", status: 200, body: `{` + ok + `,"refresh_token":5}`, wantErr: ErrMalformedResponse},
		{name: "id_token string", status: 200, body: `{` + ok + `,"id_token":"x.y.z"}`, wantType: "Bearer", wantID: true},
		{name: "id_token number", status: 200, body: `{` + ok + `,"id_token":42}`, wantErr: ErrMalformedResponse},
		{name: "id_token object", status: 200, body: `{` + ok + `,"id_token":{"a":1}}`, wantErr: ErrMalformedResponse},
		{name: "error member in 200", status: 200, body: `{` + ok + `,"error":"server_error"}`, wantErr: ErrServerError},
		{name: "error member of wrong type in 200", status: 200, body: `{` + ok + `,"error":7}`, wantErr: &TokenError{}},
		{name: "not JSON", status: 200, body: `access_token=a&token_type=bearer`, wantErr: ErrMalformedResponse},
		{name: "JSON array", status: 200, body: `[1]`, wantErr: ErrMalformedResponse},
		{name: "JSON null", status: 200, body: `null`, wantErr: ErrMalformedResponse},
		{name: "empty body", status: 200, body: ``, wantErr: ErrMalformedResponse},
		{name: "trailing garbage", status: 200, body: `{` + ok + `} x`, wantErr: ErrMalformedResponse},
		{name: "two objects", status: 200, body: `{` + ok + `}{}`, wantErr: ErrMalformedResponse},
		{name: "201 is not success", status: 201, body: `{` + ok + `}`, wantErr: ErrMalformedResponse},
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client"}`, wantErr: ErrInvalidClient},
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant","error_description":"expired"}`, wantErr: ErrInvalidGrant},
		{name: "invalid_request", status: 400, body: `{"error":"invalid_request"}`, wantErr: ErrInvalidRequest},
		{name: "unauthorized_client", status: 400, body: `{"error":"unauthorized_client"}`, wantErr: ErrUnauthorizedClient},
		{name: "unsupported_grant_type", status: 400, body: `{"error":"unsupported_grant_type"}`, wantErr: ErrUnauthorizedClient},
		{name: "invalid_scope", status: 400, body: `{"error":"invalid_scope"}`, wantErr: ErrInvalidScope},
		{name: "invalid_target", status: 400, body: `{"error":"invalid_target"}`, wantErr: ErrInvalidScope},
		{name: "500 with code kept as sent", status: 500, body: `{"error":"invalid_grant"}`, wantErr: ErrInvalidGrant},
		{name: "500 plain text", status: 500, body: `<html>oops</html>`, wantErr: &TokenError{}},
		{name: "redirect", status: 307, body: ``, wantErr: errRedirect},
		{name: "302", status: 302, body: `{` + ok + `}`, wantErr: errRedirect},
		{name: "1xx", status: 101, body: ``, wantErr: &TokenError{}},
	}
	for _, tc := range tests {
		r, err := parseTokenResponse(tc.status, []byte(tc.body), t0, nil)
		if tc.wantErr != nil {
			var te *TokenError
			if _, isTE := tc.wantErr.(*TokenError); isTE {
				if !errors.As(err, &te) {
					t.Errorf("parseTokenResponse(%q) error = %v, want a *TokenError", tc.name, err)
				}
				continue
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("parseTokenResponse(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if c := otherCause(err, tc.wantErr); c != nil {
				t.Errorf("parseTokenResponse(%q) error = %v, matches %v too", tc.name, err, c)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTokenResponse(%q) error = %v", tc.name, err)
			continue
		}
		if !r.token.Expiry.Equal(tc.wantExpiry) {
			t.Errorf("parseTokenResponse(%q) Expiry = %v, want %v", tc.name, r.token.Expiry, tc.wantExpiry)
		}
		if r.token.TokenType != tc.wantType {
			t.Errorf("parseTokenResponse(%q) TokenType = %q, want %q", tc.name, r.token.TokenType, tc.wantType)
		}
		if r.hasIDToken != tc.wantID {
			t.Errorf("parseTokenResponse(%q) hasIDToken = %v, want %v", tc.name, r.hasIDToken, tc.wantID)
		}
	}
}

func TestParseTokenResponseExtra(t *testing.T) {
	t.Parallel()
	r, err := parseTokenResponse(200, []byte(`{"access_token":"a","token_type":"Bearer","id_token":"h.p.s","refresh_token":"r","scope":"openid email","issued_token_type":"urn:x"}`), t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.token.Extra("id_token"); got != "h.p.s" {
		t.Errorf("Extra(id_token) = %v, want h.p.s", got)
	}
	if r.token.RefreshToken != "r" || r.scope != "openid email" || r.issuedTokenType != "urn:x" {
		t.Errorf("parsed = %q %q %q", r.token.RefreshToken, r.scope, r.issuedTokenType)
	}
}

func TestTokenErrorFields(t *testing.T) {
	t.Parallel()
	_, err := parseTokenResponse(400, []byte(`{"error":"invalid_grant","error_description":"code expired","error_uri":"https://op/err"}`), t0, nil)
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want *TokenError", err)
	}
	want := TokenError{StatusCode: 400, Code: "invalid_grant", Description: "code expired", URI: "https://op/err"}
	if *te != want {
		t.Errorf("TokenError = %+v, want %+v", *te, want)
	}
	if errors.Is(err, ErrInvalidClient) {
		t.Errorf("errors.Is(invalid_grant, ErrInvalidClient) = true")
	}
	if !strings.HasPrefix(err.Error(), "exchange: ") {
		t.Errorf("Error() = %q, want prefix exchange: ", err.Error())
	}
}

// TestTokenErrorCodeCaseSensitive: codes are compared exactly; a server that
// spells one differently is not guessed at.
func TestTokenErrorCodeCaseSensitive(t *testing.T) {
	t.Parallel()
	_, err := parseTokenResponse(400, []byte(`{"error":"INVALID_GRANT"}`), t0, nil)
	if errors.Is(err, ErrInvalidGrant) {
		t.Errorf("INVALID_GRANT matched ErrInvalidGrant")
	}
}

// TestTokenErrorBoundedAndRedacted: a server that echoes the assertion, the
// code or anything JWT-shaped, or sends a huge or hostile description, never
// gets it into the error.
func TestTokenErrorBoundedAndRedacted(t *testing.T) {
	t.Parallel()
	assertionValue := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjIn0.c2ln"
	code := "SplxlOBeZQQYbYS6WxSbIA"
	desc := `bad assertion ` + assertionValue + ` for code ` + code + ` and token eyJraWQiOiJ4In0.partial <script>alert(1)</script> ` + strings.Repeat("x", 5000)
	body := `{"error":"invalid_client","error_description":"` + desc + `","error_uri":"https://op/` + code + `"}`
	_, err := parseTokenResponse(401, []byte(body), t0, []string{assertionValue, code})
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want *TokenError", err)
	}
	for _, s := range []string{err.Error(), te.Description, te.URI} {
		for _, secret := range []string{assertionValue, code, "eyJ"} {
			if strings.Contains(s, secret) {
				t.Errorf("error text %q contains %q", s, secret)
			}
		}
	}
	if len(te.Description) > maxDescriptionLen {
		t.Errorf("len(Description) = %d, want <= %d", len(te.Description), maxDescriptionLen)
	}
	if strings.Contains(err.Error(), "<script>") {
		t.Errorf("Error() = %q renders markup unescaped", err.Error())
	}
}

// TestTokenErrorDescriptionKeepsURL: a description a little over 256 bytes
// that ends with a URL (ORY Hydra's wrong-audience refusal) is kept whole,
// and a description over the bound is still cut.
func TestTokenErrorDescriptionKeepsURL(t *testing.T) {
	t.Parallel()
	hydra := "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). " +
		"Claim 'audience' from 'client_assertion' must match the authorization server's token endpoint 'https://hydra.example.com:4444/oauth2/token'."
	tests := []struct {
		name, desc, want string
	}{
		{name: "hydra wrong audience", desc: hydra, want: hydra},
		{name: "a long URL", desc: "see https://op.example/" + strings.Repeat("a", 900), want: "see https://op.example/" + strings.Repeat("a", 900)},
		{name: "over the bound", desc: strings.Repeat("d", 5000), want: strings.Repeat("d", maxDescriptionLen-len("…")) + "…"},
	}
	for _, tc := range tests {
		body := `{"error":"invalid_client","error_description":"` + tc.desc + `"}`
		_, err := parseTokenResponse(401, []byte(body), t0, nil)
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("%s: error = %v, want *TokenError", tc.name, err)
		}
		if te.Description != tc.want {
			t.Errorf("%s: Description = %q (len %d), want %q (len %d)", tc.name, te.Description, len(te.Description), tc.want, len(tc.want))
		}
	}
	if len(hydra) <= 256 {
		t.Fatalf("the Hydra description is %d bytes; the test needs more than 256", len(hydra))
	}
}

func TestTokenErrorControlCharactersQuoted(t *testing.T) {
	t.Parallel()
	_, err := parseTokenResponse(400, []byte(`{"error":"invalid_request","error_description":"line\nbreak \u001b[31mred\u0000"}`), t0, nil)
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\x1b\x00") {
		t.Errorf("Error() = %q contains a control character", msg)
	}
}

func TestUntrustedTruncatesOnRuneBoundary(t *testing.T) {
	t.Parallel()
	s := untrusted(strings.Repeat("é", 1000), 11, nil)
	if len(s) > 11 || !strings.HasSuffix(s, "…") {
		t.Errorf("untrusted = %q (len %d)", s, len(s))
	}
	for _, r := range s {
		if r == '\uFFFD' {
			t.Errorf("untrusted = %q cut a rune", s)
		}
	}
}

func TestAuthorizationErrorIs(t *testing.T) {
	t.Parallel()
	e := &AuthorizationError{Code: "access_denied", Description: "<b>no</b>"}
	if !errors.Is(e, ErrAccessDenied) || errors.Is(e, ErrInteractionRequired) {
		t.Errorf("AuthorizationError.Is wrong for %q", e.Code)
	}
	if strings.Contains(e.Error(), "<b>") {
		t.Errorf("Error() = %q renders markup unescaped", e.Error())
	}
}

// TestCodeSentinels: every protocol code matches the sentinel of the
// caller's decision, codes that share a sentinel keep their exact value in
// Code, and a code matches no other sentinel.
func TestCodeSentinels(t *testing.T) {
	t.Parallel()
	all := []error{ErrInvalidRequest, ErrInvalidClient, ErrInvalidGrant, ErrUnauthorizedClient,
		ErrInvalidScope, ErrAccessDenied, ErrServerError, ErrInteractionRequired}
	tests := []struct {
		code string
		want error
	}{
		{"invalid_request", ErrInvalidRequest},
		{"invalid_client", ErrInvalidClient},
		{"invalid_grant", ErrInvalidGrant},
		{"unauthorized_client", ErrUnauthorizedClient},
		{"unsupported_grant_type", ErrUnauthorizedClient},
		{"unsupported_response_type", ErrUnauthorizedClient},
		{"invalid_scope", ErrInvalidScope},
		{"invalid_target", ErrInvalidScope},
		{"access_denied", ErrAccessDenied},
		{"server_error", ErrServerError},
		{"temporarily_unavailable", ErrServerError},
		{"interaction_required", ErrInteractionRequired},
		{"login_required", ErrInteractionRequired},
		{"account_selection_required", ErrInteractionRequired},
		{"consent_required", ErrInteractionRequired},
		{"Login_Required", nil},
	}
	for _, tc := range tests {
		body := `{"error":"` + tc.code + `"}`
		_, err := parseTokenResponse(400, []byte(body), t0, nil)
		var te *TokenError
		if !errors.As(err, &te) || te.Code != tc.code {
			t.Errorf("parseTokenResponse(%q) error = %v, want a *TokenError with Code %q", body, err, tc.code)
			continue
		}
		ae := &AuthorizationError{Code: tc.code}
		for _, s := range all {
			if got, want := errors.Is(err, s), s == tc.want; got != want {
				t.Errorf("TokenError{Code: %q} Is %v = %v, want %v", tc.code, s, got, want)
			}
			if got, want := errors.Is(ae, s), s == tc.want; got != want {
				t.Errorf("AuthorizationError{Code: %q} Is %v = %v, want %v", tc.code, s, got, want)
			}
		}
	}
}
