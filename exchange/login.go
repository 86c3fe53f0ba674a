package exchange

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuthCodeURL starts a login (OIDC Core §3.1.2.1, RFC 7636): it returns the
// authorization endpoint URL to send the user to, with response_type=code,
// client_id, redirect_uri, scope ("openid" and Config.Scopes), a fresh state
// and nonce and a PKCE S256 code challenge, and the [Transaction] that the
// application keeps in the user's session for [Client.Callback].
//
// With pushed authorization requests (Config.PushAuthorizationRequests,
// Config.FAPI2, or a provider that requires them) those parameters are
// POSTed under ctx to the provider's PAR endpoint (RFC 9126) with a fresh
// client assertion (and a DPoP proof with Config.DPoPKey), and the URL
// returned carries only client_id and the request_uri the provider
// issued. Without PAR it does no I/O, and with Config.DPoPKey the URL
// carries dpop_jkt, which binds the code to the key (RFC 9449 §10).
//
// [WithScopes], [WithRedirectURL], [WithMaxAge] and [WithParam] (prompt,
// login_hint, acr_values, …) apply; WithResource adds resource indicators.
//
// Errors: ErrInvalidConfig, for an invalid option or when no redirect URL
// is configured or given; with PAR also those of a token request (a
// *[TokenError], ErrMalformedResponse for a redirect, an oversized body or
// a response without a usable request_uri or expires_in, an assertion
// error, a context or network error).
func (c *Client) AuthCodeURL(ctx context.Context, opts ...Option) (string, Transaction, error) {
	o, err := collect(opts)
	if err != nil {
		return "", Transaction{}, err
	}
	redirect := c.redirectURL
	if o.redirectURL != "" {
		if err := checkRedirectURL(o.redirectURL); err != nil {
			return "", Transaction{}, fmt.Errorf("exchange: WithRedirectURL: %v: %w", err, errInvalidOption)
		}
		redirect = o.redirectURL
	}
	if redirect == "" {
		return "", Transaction{}, fmt.Errorf("exchange: no redirect URL; set Config.RedirectURL or pass WithRedirectURL: %w", ErrInvalidConfig)
	}
	u, err := url.Parse(c.authURL)
	if err != nil || c.authURL == "" {
		return "", Transaction{}, fmt.Errorf("exchange: the provider has no usable authorization endpoint: %w", ErrInvalidConfig)
	}
	tx := newTransaction(c.issuer, redirect, c.now())
	scopes := c.scopes
	if o.scopesSet {
		scopes = o.scopes
	}
	q := u.Query()
	for k, v := range o.params {
		q[k] = slices.Clone(v)
	}
	for _, r := range o.resources {
		q.Add("resource", r)
	}
	q.Set("response_type", "code")
	q.Set("client_id", c.clientID)
	q.Set("redirect_uri", redirect)
	q.Set("scope", scopeString(scopes))
	q.Set("state", tx.State)
	q.Set("nonce", tx.Nonce)
	q.Set("code_challenge", tx.challenge())
	q.Set("code_challenge_method", "S256")
	if o.maxAgeSet {
		tx.MaxAge = o.maxAge
		q.Set("max_age", strconv.FormatInt(int64(o.maxAge.Seconds()), 10))
	}
	if c.usePAR {
		return c.pushAuthorization(ctx, u, q, tx)
	}
	if c.dpop != nil {
		q.Set("dpop_jkt", c.dpop.proofs.Thumbprint())
	}
	u.RawQuery = q.Encode()
	return u.String(), tx, nil
}

// maxFutureSkew is how far in the future a transaction's creation time may
// be (servers of one application whose clocks differ slightly).
const maxFutureSkew = time.Minute

// scopeString joins "openid" and scopes, without duplicates.
func scopeString(scopes []string) string {
	out := []string{"openid"}
	for _, s := range scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// callbackCode checks the authorization response in query against tx and
// returns the code. The order matters: state first (a response that is not
// for this transaction says nothing, not even an error), then iss (RFC 9207
// §2.4: before anything else of the response is used), then an error
// response, then the code.
func (c *Client) callbackCode(tx Transaction, query url.Values) (string, error) {
	if err := tx.check(c.issuer); err != nil {
		return "", err
	}
	switch age := c.now().Sub(tx.Created); {
	case age > c.txMaxAge:
		return "", fmt.Errorf("exchange: the transaction is %v old, more than %v: %w", age.Round(time.Second), c.txMaxAge, errTransactionExpired)
	case age < -maxFutureSkew:
		return "", fmt.Errorf("exchange: the transaction was created %v in the future: %w", (-age).Round(time.Second), ErrInvalidTransaction)
	}
	for k, v := range query {
		if len(v) > 1 {
			return "", fmt.Errorf("exchange: callback repeats parameter %s (RFC 6749 §3.1): %w", quote(truncate(k, 32)), errMalformedCallback)
		}
	}
	state := query.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(tx.State)) != 1 {
		return "", fmt.Errorf("exchange: the callback's state is missing or not the transaction's: %w", ErrStateMismatch)
	}
	if iss, ok := query["iss"]; ok {
		if subtle.ConstantTimeCompare([]byte(iss[0]), []byte(c.issuer)) != 1 {
			return "", fmt.Errorf("exchange: the callback's iss %s is not the issuer %s (RFC 9207): %w", quote(truncate(iss[0], 128)), quote(c.issuer), ErrIssuerMismatch)
		}
	} else if c.issRequired {
		return "", fmt.Errorf("exchange: the provider advertises authorization_response_iss_parameter_supported but the callback has no iss (RFC 9207 §2.4): %w", errIssuerMissing)
	}
	if code, ok := query["error"]; ok {
		return "", &AuthorizationError{
			Code:        untrusted(code[0], maxCodeLen, nil),
			Description: untrusted(query.Get("error_description"), maxDescriptionLen, nil),
			URI:         untrusted(query.Get("error_uri"), maxURILen, nil),
		}
	}
	code := query.Get("code")
	if code == "" {
		return "", fmt.Errorf("exchange: the callback has neither code nor error: %w", errMalformedCallback)
	}
	return code, nil
}

// exchangeCode redeems code (RFC 6749 §4.1.3, RFC 7636 §4.5) with a fresh
// client assertion.
func (c *Client) exchangeCode(ctx context.Context, tx Transaction, code string) (*tokenResponse, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {tx.RedirectURL},
		"code_verifier": {tx.Verifier},
	}
	r, err := c.authenticate(ctx, form, []string{code, tx.Verifier})
	if err != nil {
		return nil, err
	}
	if err := requireBearer(r); err != nil {
		return nil, err
	}
	if !r.hasIDToken || r.idToken == "" {
		return nil, fmt.Errorf("exchange: the token response to an openid login has no id_token: %w", errNoIDToken)
	}
	return r, nil
}
