package exchange

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Option is a per-call extra for [Client.AuthCodeURL] and the token requests.
// Options are values made by the With… functions of this package; when the
// same option is given twice, the last one wins (WithParam: per key).
type Option struct{ apply func(*options) }

type options struct {
	scopes      []string
	scopesSet   bool
	resources   []string
	params      url.Values
	maxAge      time.Duration
	maxAgeSet   bool
	redirectURL string
}

// WithScopes sets the scope parameter of a token request (client
// credentials, JWT bearer, token exchange, refresh), or, for
// [Client.AuthCodeURL], replaces Config.Scopes ("openid" is always sent).
// Scope tokens must be non-empty and free of spaces, quotes and backslashes
// (RFC 6749 §3.3).
func WithScopes(scopes ...string) Option {
	s := slices.Clone(scopes)
	return Option{func(o *options) { o.scopes, o.scopesSet = s, true }}
}

// WithResource adds RFC 8707 resource indicators (absolute URIs without a
// fragment) to the request; each call replaces the previous list.
func WithResource(uris ...string) Option {
	r := slices.Clone(uris)
	return Option{func(o *options) { o.resources = r }}
}

// WithParam sets an extra request parameter, such as prompt, login_hint,
// acr_values or ui_locales for [Client.AuthCodeURL]. The parameters this
// package sets itself (state, nonce, code_challenge, redirect_uri, scope,
// client_id, client_assertion, grant_type, code, code_verifier, …) are
// refused with ErrInvalidConfig: use the dedicated option or field.
func WithParam(key, value string) Option {
	return Option{func(o *options) {
		if o.params == nil {
			o.params = url.Values{}
		}
		o.params.Set(key, value)
	}}
}

// WithMaxAge sends max_age (OIDC Core §3.1.2.1) with [Client.AuthCodeURL]
// and records it in the [Transaction], so that the callback checks the ID
// token's auth_time against it. It has no effect on token requests. The
// value is sent in whole seconds; below one second is ErrInvalidConfig (to
// force a fresh login, send WithParam("prompt", "login")).
func WithMaxAge(d time.Duration) Option {
	return Option{func(o *options) { o.maxAge, o.maxAgeSet = d, true }}
}

// WithRedirectURL overrides Config.RedirectURL for one [Client.AuthCodeURL]
// call; the transaction records it and the code exchange sends the same.
func WithRedirectURL(u string) Option {
	return Option{func(o *options) { o.redirectURL = u }}
}

// reserved lists the parameters an Option may not set.
var reserved = map[string]bool{
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true,
	"redirect_uri": true, "response_type": true, "response_mode": true, "scope": true, "client_id": true,
	"client_secret": true, "client_assertion": true, "client_assertion_type": true,
	"grant_type": true, "code": true, "code_verifier": true, "refresh_token": true,
	"assertion": true, "subject_token": true, "subject_token_type": true,
	"actor_token": true, "actor_token_type": true, "requested_token_type": true,
	"audience": true, "resource": true, "max_age": true, "request": true, "request_uri": true, "dpop_jkt": true,
}

// collect applies opts and validates the result.
func collect(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(&o)
		}
	}
	for k := range o.params {
		if reserved[strings.ToLower(k)] || k == "" {
			return o, fmt.Errorf("exchange: WithParam(%s) sets a parameter this package controls: %w", quote(k), errInvalidOption)
		}
	}
	for _, s := range o.scopes {
		if !validScope(s) {
			return o, fmt.Errorf("exchange: WithScopes: scope %s is not an RFC 6749 scope token: %w", quote(truncate(s, 64)), errInvalidOption)
		}
	}
	for _, r := range o.resources {
		if err := checkResource(r); err != nil {
			return o, fmt.Errorf("exchange: WithResource: %v: %w", err, errInvalidOption)
		}
	}
	if o.maxAgeSet && o.maxAge < time.Second {
		return o, fmt.Errorf("exchange: WithMaxAge(%v) is below one second: %w", o.maxAge, errInvalidOption)
	}
	return o, nil
}

// validScope reports whether s is a scope-token of RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScope(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
	})
}

// checkResource checks an RFC 8707 resource indicator: an absolute URI
// without a fragment.
func checkResource(r string) error {
	u, err := url.Parse(r)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(r, "#") {
		return fmt.Errorf("resource %s is not an absolute URI without a fragment", quote(truncate(r, 128)))
	}
	return nil
}

// apply writes the options that concern a token request into form.
func (o options) applyToken(form url.Values) {
	if len(o.scopes) > 0 {
		form.Set("scope", strings.Join(o.scopes, " "))
	}
	for _, r := range o.resources {
		form.Add("resource", r)
	}
	for k, v := range o.params {
		form[k] = slices.Clone(v)
	}
}
