package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/jose"
)

// maxChallengeLen bounds the WWW-Authenticate header read from a resource
// server.
const maxChallengeLen = 4 << 10

// UserInfo fetches the user's claims from the provider's UserInfo endpoint
// (OIDC Core §5.3) with the access token of a login or refresh, and
// decodes them into v (a struct or map, as json.Unmarshal would; nil only
// checks them). It sends one GET with "Authorization: Bearer" (or, for a
// DPoP-bound token of a Client with Config.DPoPKey — token_type DPoP in any
// letter case, or none — "Authorization: DPoP" and a proof, answering a nonce challenge once), follows no redirect, and
// reads at most Config.MaxResponseBytes.
//
// It accepts a JSON response (application/json) or a signed one
// (application/jwt), verified like an ID token: the provider's keys, an
// algorithm of Config.IDTokenAlgorithms, iss the issuer, aud naming this
// client, exp and iat when present. Either way, sub must equal subject, the
// Subject of the login's verified ID token (§5.3.2): the claims of another
// user are never decoded.
//
// Errors: ErrInvalidConfig (the provider has no userinfo_endpoint, no
// access token or subject was given, the token is DPoP-bound and the
// Client has no Config.DPoPKey); a
// *[TokenError] for a refusal (errors.Is ErrInvalidToken for an expired or
// revoked token, taken from the WWW-Authenticate challenge of RFC 6750 §3;
// ErrInvalidScope for insufficient_scope); ErrMalformedResponse (a redirect,
// another content type, a body over the limit, not one JSON object, a
// repeated member); the provider package's token errors for a signed
// response; ErrUserInfoSubject; or a context or network error. Errors never
// contain the token or the claims.
func (c *Client) UserInfo(ctx context.Context, token *oauth2.Token, subject string, v any) error {
	switch {
	case c.userInfoURL == "":
		return fmt.Errorf("exchange: the provider advertises no userinfo_endpoint: %w", ErrInvalidConfig)
	case token == nil || token.AccessToken == "":
		return fmt.Errorf("exchange: UserInfo without an access token: %w", ErrInvalidConfig)
	case subject == "":
		return fmt.Errorf("exchange: UserInfo without the ID token's subject to compare sub with: %w", ErrInvalidConfig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.userInfoURL, nil)
	if err != nil {
		return fmt.Errorf("exchange: build userinfo request: %v", err)
	}
	req.Header.Set("Accept", "application/json, application/jwt")
	var resp *http.Response
	if c.dpop != nil && dpopBound(token, true) {
		// A DPoP-bound token: the DPoP scheme and a proof with ath, one
		// retry for a nonce challenge (RFC 9449 §7, §9).
		resp, err = c.binding(options{}).roundTripDPoP(req, token.AccessToken, clientTransport{c.ep.hc})
	} else {
		if err := authorize(req, token); err != nil {
			return err
		}
		resp, err = c.ep.hc.Do(req)
	}
	if err != nil {
		return fmt.Errorf("exchange: userinfo request to %s: %w", redactURL(c.userInfoURL), err)
	}
	defer resp.Body.Close()
	body, err := httpread.All(resp.Body, c.ep.maxBytes)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return fmt.Errorf("exchange: userinfo endpoint answered status %d with a body over %d bytes: %w", resp.StatusCode, c.ep.maxBytes, ErrMalformedResponse)
		}
		return fmt.Errorf("exchange: read userinfo response: %w", err)
	}
	secrets := []string{token.AccessToken}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("exchange: userinfo endpoint answered status %d, and redirects are never followed: %w", resp.StatusCode, errRedirect)
	case resp.StatusCode != http.StatusOK:
		return resourceError("userinfo", resp, body, secrets)
	}
	claims := body
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
	case "application/jwt":
		claims, err = c.verifier.VerifyUserInfo(ctx, string(bytes.TrimSpace(body)))
		if err != nil {
			return fmt.Errorf("exchange: signed userinfo response: %w", err)
		}
	default:
		return fmt.Errorf("exchange: userinfo response has content type %s, want application/json or application/jwt: %w", quote(truncate(mt, 64)), ErrMalformedResponse)
	}
	var sub string
	var hasSub bool
	err = jose.Object(claims, func(name, val []byte) error {
		if string(name) == "sub" {
			sub, hasSub = jose.String(val)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exchange: userinfo response: %v: %w", err, ErrMalformedResponse)
	}
	if !hasSub || sub != subject {
		return fmt.Errorf("exchange: userinfo sub is missing or not the ID token's subject (OIDC Core §5.3.2): %w", ErrUserInfoSubject)
	}
	if v == nil {
		return nil
	}
	if err := jose.Unmarshal(claims, v); err != nil {
		return fmt.Errorf("exchange: userinfo claims: %v: %w", err, ErrMalformedResponse)
	}
	return nil
}

// authorize sets the request's Authorization header for token. A token of
// type DPoP needs a proof per request, which this package does not make:
// it is refused rather than sent as a bearer token.
func authorize(req *http.Request, token *oauth2.Token) error {
	if dpopBound(token, false) {
		return fmt.Errorf("exchange: the access token is DPoP-bound (token_type DPoP) and needs a DPoP proof, which this call cannot make: %w", ErrInvalidConfig)
	}
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	return nil
}

// resourceError builds the *TokenError of a resource server's refusal: the
// error, error_description and error_uri of its WWW-Authenticate challenge
// (RFC 6750 §3), or else of a JSON body.
func resourceError(endpoint string, resp *http.Response, body []byte, secrets []string) error {
	var e *TokenError
	if err, ok := errorResponse(resp.StatusCode, body, secrets).(*TokenError); ok {
		e = err
	} else {
		e = &TokenError{StatusCode: resp.StatusCode}
	}
	e.endpoint = endpoint
	if h := resp.Header.Get("WWW-Authenticate"); h != "" && len(h) <= maxChallengeLen {
		p := challengeParams(h)
		if code := p["error"]; code != "" {
			e.Code = untrusted(code, maxCodeLen, secrets)
			e.Description = untrusted(p["error_description"], maxDescriptionLen, secrets)
			e.URI = untrusted(p["error_uri"], maxURILen, secrets)
		}
	}
	return e
}

// challengeParams reads the auth-params of the first challenge of a
// WWW-Authenticate header (RFC 9110 §11.6.1): name=token or
// name="quoted string", separated by commas. Names are lowercased; a
// repeated name keeps its first value.
func challengeParams(h string) map[string]string {
	out := map[string]string{}
	// Skip the scheme.
	_, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return out
	}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return out
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return out
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return out // unterminated
			}
			val, rest = b.String(), rest[i+1:]
		} else {
			end := strings.IndexAny(rest, ", \t")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		if strings.ContainsAny(name, " \t\"") {
			return out // a second challenge or garbage
		}
		if _, seen := out[name]; !seen {
			out[name] = val
		}
	}
}
