package exchange

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// maxExpiresIn bounds expires_in so that now + expires_in cannot overflow a
// time.Duration. About 292 years; any larger value is malformed.
const maxExpiresIn = math.MaxInt64 / int64(time.Second)

// tokenResponse is a parsed RFC 6749 §5.1 answer.
type tokenResponse struct {
	token *oauth2.Token
	// idToken is the id_token member; hasIDToken tells "absent" from "".
	idToken    string
	hasIDToken bool
	// issuedTokenType is RFC 8693's issued_token_type, "" when absent.
	issuedTokenType string
	// scope is the scope member, "" when absent.
	scope string
	// dpop reports that the request carried a DPoP proof.
	dpop bool
}

// parseTokenResponse turns a token endpoint's status and body into a token
// or an error. secrets are the values this request sent that must never
// appear in an error, even when the server echoes them. now is the time the
// response arrived; a token's Expiry is now + expires_in.
//
// It returns a *TokenError for a non-2xx, non-3xx status or an error member
// in a 2xx answer, and ErrMalformedResponse for a 3xx (errRedirect) and for
// anything else that is not a valid success response.
func parseTokenResponse(status int, body []byte, now time.Time, secrets []string) (*tokenResponse, error) {
	switch {
	case status >= 300 && status < 400:
		return nil, fmt.Errorf("exchange: token endpoint answered status %d, and redirects are never followed: %w", status, errRedirect)
	case status < 200 || status >= 300:
		return nil, errorResponse(status, body, secrets)
	}
	var raw map[string]any
	if err := decodeObject(body, &raw); err != nil {
		return nil, fmt.Errorf("exchange: token response (status %d): %s: %w", status, untrusted(err.Error(), maxDescriptionLen, secrets), ErrMalformedResponse)
	}
	if e, ok := raw["error"]; ok && e != nil {
		// An error member in a 2xx is an error (RFC 6749 §5.2 puts it in a
		// 400, but some servers answer 200).
		return nil, tokenErrorFrom(status, raw, secrets)
	}
	if status != 200 {
		return nil, fmt.Errorf("exchange: token endpoint answered status %d, want 200: %w", status, ErrMalformedResponse)
	}
	r := &tokenResponse{}
	at, err := stringMember(raw, "access_token")
	if err != nil {
		return nil, err
	}
	if at == "" {
		return nil, fmt.Errorf("exchange: token response has no access_token: %w", ErrMalformedResponse)
	}
	tt, err := stringMember(raw, "token_type")
	if err != nil {
		return nil, err
	}
	if tt == "" {
		return nil, fmt.Errorf("exchange: token response has no token_type (RFC 6749 §5.1 requires it): %w", ErrMalformedResponse)
	}
	if strings.EqualFold(tt, "bearer") {
		tt = "Bearer"
	}
	rt, err := stringMember(raw, "refresh_token")
	if err != nil {
		return nil, err
	}
	if r.scope, err = stringMember(raw, "scope"); err != nil {
		return nil, err
	}
	if r.issuedTokenType, err = stringMember(raw, "issued_token_type"); err != nil {
		return nil, err
	}
	if v, ok := raw["id_token"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("exchange: token response member id_token is a JSON %s, want a string: %w", jsonType(v), ErrMalformedResponse)
		}
		r.idToken, r.hasIDToken = s, true
	}
	tok := &oauth2.Token{AccessToken: at, TokenType: tt, RefreshToken: rt}
	secs, known, err := expiresIn(raw["expires_in"])
	if err != nil {
		return nil, err
	}
	if known {
		tok.ExpiresIn = secs
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	}
	r.token = tok.WithExtra(raw)
	return r, nil
}

// decodeObject decodes the body as one JSON object through the module's
// JOSE reader: a repeated member name (compared after unescaping) or
// anything after the object is malformed.
func decodeObject(body []byte, v *map[string]any) error {
	return jose.Unmarshal(body, v)
}

// stringMember returns raw[name] as a string: "" when absent or null, an
// ErrMalformedResponse when present with another JSON type.
func stringMember(raw map[string]any, name string) (string, error) {
	v, ok := raw[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("exchange: token response member %s is a JSON %s, want a string: %w", name, jsonType(v), ErrMalformedResponse)
	}
	return s, nil
}

// expiresIn reads expires_in: absent or null means unknown, a JSON number or
// a string of decimal digits is accepted, a negative, fractional or huge value
// is ErrMalformedResponse.
func expiresIn(v any) (secs int64, known bool, err error) {
	bad := func(why string) (int64, bool, error) {
		return 0, false, fmt.Errorf("exchange: token response member expires_in %s: %w", why, ErrMalformedResponse)
	}
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return bad("is not a whole number of seconds")
		}
		if x < 0 {
			return bad("is negative")
		}
		if x > float64(maxExpiresIn) {
			return bad("is out of range")
		}
		return int64(x), true, nil
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "-") {
			return bad("is negative")
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strings.HasPrefix(s, "+") {
			return bad("is a string that is not a whole number of seconds")
		}
		if n > maxExpiresIn {
			return bad("is out of range")
		}
		return n, true, nil
	default:
		return bad(fmt.Sprintf("is a JSON %s, want a number", jsonType(v)))
	}
}

// errorResponse builds the error for a non-2xx answer: a *TokenError with
// whatever RFC 6749 §5.2 members the body has, or none when it is not JSON.
func errorResponse(status int, body []byte, secrets []string) error {
	var raw map[string]any
	if decodeObject(body, &raw) != nil {
		return &TokenError{StatusCode: status}
	}
	return tokenErrorFrom(status, raw, secrets)
}

// tokenErrorFrom builds a *TokenError from a decoded error body. Members of
// the wrong type are dropped rather than rendered.
func tokenErrorFrom(status int, raw map[string]any, secrets []string) *TokenError {
	str := func(name string) string {
		s, _ := raw[name].(string)
		return s
	}
	return &TokenError{
		StatusCode:  status,
		Code:        untrusted(str("error"), maxCodeLen, secrets),
		Description: untrusted(str("error_description"), maxDescriptionLen, secrets),
		URI:         untrusted(str("error_uri"), maxURILen, secrets),
	}
}

// jsonType names the JSON type of a value decoded by encoding/json.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "value"
}
