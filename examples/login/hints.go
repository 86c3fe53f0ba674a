package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// skipClientAuthCheckFlag names the flag that sets
// provider.Config.InsecureSkipClientAuthCheck.
const skipClientAuthCheckFlag = "-insecure-skip-client-auth-check"

// providerSaid returns the provider's own words about a refusal: the
// error_description and error_uri of a token or authorization error, already
// bounded to 1 KiB each by package exchange. They are untrusted: quote them
// (strconv.Quote, a slog attribute) or escape them (html/template) before
// showing them.
func providerSaid(err error) (description, uri string) {
	var te *exchange.TokenError
	var ae *exchange.AuthorizationError
	switch {
	case errors.As(err, &te):
		return te.Description, te.URI
	case errors.As(err, &ae):
		return ae.Description, ae.URI
	}
	return "", ""
}

// audienceAdvice says which assertion audience the app sends and what the
// other choice is for.
func audienceAdvice(c *config) string {
	if c.legacyAudience {
		return "-legacy-aud is on, so the assertion's aud is the token endpoint; a provider that wants its issuer there (zitadel, RFC 10070) needs it off"
	}
	return "the assertion's aud is the issuer (RFC 10070); a provider that wants its token endpoint there (ORY Hydra, Okta, Entra ID) needs -legacy-aud"
}

// hint says what the operator can do about a failed login, or "" when the
// error (with the provider's own words, see providerSaid) says all that is
// known. It never guesses between causes it cannot tell apart: where a
// code has several causes, it names them all.
func hint(err error, c *config) string {
	switch {
	case errors.Is(err, exchange.ErrInvalidClient):
		return fmt.Sprintf("the provider refused the client's authentication: check -client-id (%q), that the provider has this app's public key (its JWKS URL or the JWKS from examples/keygen), that the clocks agree, and the audience: %s (see the README's compatibility table)",
			c.clientID, audienceAdvice(c))
	case errors.Is(err, exchange.ErrInvalidGrant):
		return "the provider refused the code exchange with invalid_grant, and its description says why: an authorization code already used or expired (start again), or, at some providers (zitadel), a client assertion it refused; then check the audience: " + audienceAdvice(c)
	case errors.Is(err, exchange.ErrInvalidScope):
		return fmt.Sprintf("the provider refused a requested scope: -scopes asks for %q besides openid; set -scopes to the scopes this client may request (-scopes '' asks for openid only)", c.scopes)
	case errors.Is(err, exchange.ErrUnauthorizedClient):
		return fmt.Sprintf("the client %q may not use the authorization code flow: allow the grant type authorization_code and the response type code in its registration at the provider", c.clientID)
	case errors.Is(err, exchange.ErrServerError):
		return "the provider failed or is overloaded; try again later"
	case errors.Is(err, exchange.ErrStateMismatch), errors.Is(err, exchange.ErrInvalidTransaction), errors.Is(err, errNoPendingLogin):
		return "start again from the start page, in the same browser, within 10 minutes"
	case errors.Is(err, exchange.ErrIssuerMismatch):
		return "the callback does not come from the provider this login started at; start again"
	}
	return ""
}

// explain is the text after a failed headless login's error: the provider's
// own words (quoted, so that no control character reaches the terminal) and
// the hint, each on its own line when there is one.
func explain(err error, c *config) string {
	var b strings.Builder
	desc, uri := providerSaid(err)
	if desc != "" {
		b.WriteString("\n  the provider said: " + strconv.Quote(desc))
	}
	if uri != "" {
		b.WriteString("\n  the provider's page on it: " + strconv.Quote(uri))
	}
	if s := hint(err, c); s != "" {
		b.WriteString("\n  what to do: " + s)
	}
	return b.String()
}

// discoveryError turns a failed discovery into what the operator can fix,
// in the app's flags. A failed private_key_jwt pre-flight names the
// algorithms the provider lists and the flag that overrides it; only the
// errors that come from the issuer URL point at -issuer.
func discoveryError(issuer string, err error, c *config, alg string) error {
	var cae *provider.ClientAuthError
	switch {
	case errors.As(err, &cae):
		override := fmt.Sprintf("if the provider accepts it anyway (its metadata is wrong), %s skips this check (see -h for the risk)", skipClientAuthCheckFlag)
		if cae.Algorithm == "" || !contains(cae.Methods, "private_key_jwt") {
			listed := "nothing (which means client_secret_basic only)"
			if cae.Methods != nil {
				listed = fmt.Sprintf("%q", cae.Methods)
			}
			return fmt.Errorf("%s does not list private_key_jwt in token_endpoint_auth_methods_supported (it lists %s): register the client %q for private_key_jwt at the provider; %s: %w", issuer, listed, c.clientID, override, provider.ErrPrivateKeyJWTUnsupported)
		}
		if alg == string(jwks.EdDSA) && contains(cae.Algorithms, string(jwks.Ed25519)) {
			return fmt.Errorf("%s lists Ed25519, RFC 9864's name for the same signature, not EdDSA: add -alg Ed25519 so that the assertions and the published key say Ed25519: %w", issuer, provider.ErrPrivateKeyJWTUnsupported)
		}
		return fmt.Errorf("%s does not accept client assertions signed with %s: its token_endpoint_auth_signing_alg_values_supported lists %q; use a key of one of those (go run ./examples/keygen -alg ALG makes one for -key-env); %s: %w", issuer, alg, cae.Algorithms, override, provider.ErrPrivateKeyJWTUnsupported)
	case errors.Is(err, provider.ErrInvalidConfig):
		return fmt.Errorf("-issuer %q was refused: %w (it must be an https URL; plain http only on a loopback host)", issuer, err)
	case errors.Is(err, provider.ErrDiscovery):
		return fmt.Errorf("discover %s: %w (check -issuer and that the provider is reachable: %s/.well-known/openid-configuration must answer)", issuer, err, strings.TrimSuffix(issuer, "/"))
	case errors.Is(err, provider.ErrInvalidMetadata):
		return fmt.Errorf("discover %s: %w (the discovery document was refused; if it names the issuer, -issuer must be exactly the document's issuer, trailing slash included)", issuer, err)
	}
	return fmt.Errorf("discover %s: %w", issuer, err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// plain is what the browser's user is told about a failed request: a plain
// message and what to do, never the library's or the provider's text (those
// go to the app's log).
func plain(err error, status int) (message, todo string) {
	switch {
	case errors.Is(err, exchange.ErrStateMismatch), errors.Is(err, exchange.ErrInvalidTransaction), errors.Is(err, errNoPendingLogin):
		return "This login could not be finished: it was started in another browser or tab, or too long ago.", "Start again from the start page."
	case errors.Is(err, exchange.ErrIssuerMismatch):
		return "The answer to this login did not come from the provider it started at.", "Start again from the start page."
	case errors.Is(err, exchange.ErrAccessDenied):
		return "The login was cancelled or refused at the provider.", "Start again if you want to log in."
	case errors.Is(err, exchange.ErrServerError):
		return "The login provider is not available right now.", "Try again in a few minutes."
	case status == http.StatusServiceUnavailable:
		return "The app is busy.", "Try again in a few minutes."
	}
	return "The app could not complete the login.", "Try again later. If it keeps failing, tell the app's operator: the details are in the app's log."
}

// keyAlgorithms are the -alg values: the algorithms examples/keygen makes
// keys for, and Ed25519 (RFC 9864's name for EdDSA with an Ed25519 key) for
// a provider that lists only that name.
var keyAlgorithms = []jwks.Algorithm{
	jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512,
	jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA, jwks.Ed25519,
}

// scopeToken is an RFC 6749 §3.3 scope-token.
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// checkFlagValues checks -alg (in any letter case; c.keyAlgorithm becomes
// the canonical name), -scopes and -redirect-url in the flags' terms, all
// problems at once.
func checkFlagValues(c *config) error {
	var errs []error
	if c.keyAlgorithm != "" {
		names := make([]string, len(keyAlgorithms))
		found := false
		for i, a := range keyAlgorithms {
			names[i] = string(a)
			if strings.EqualFold(string(c.keyAlgorithm), string(a)) {
				c.keyAlgorithm, found = a, true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("-alg %q is not one of %s", c.keyAlgorithm, strings.Join(names, ", ")))
		} else if c.keyAlgorithm == jwks.Ed25519 && c.issuer == "" {
			errs = append(errs, errors.New("-alg Ed25519 needs -issuer: the embedded provider verifies EdDSA, not RFC 9864's Ed25519 name; use -alg EdDSA with it"))
		}
	}
	for _, sc := range strings.Fields(c.scopes) {
		if !scopeToken.MatchString(sc) {
			errs = append(errs, fmt.Errorf("-scopes: %q is not a scope: printable ASCII without \" or \\ (RFC 6749 §3.3), separated by spaces", sc))
		}
	}
	if c.redirectURL != "" {
		u, err := url.Parse(c.redirectURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(c.redirectURL, "#") {
			errs = append(errs, fmt.Errorf("-redirect-url %q: give the absolute http(s) URL registered at the provider, without a fragment, such as http://127.0.0.1:8080/callback", c.redirectURL))
		}
	}
	return errors.Join(errs...)
}
