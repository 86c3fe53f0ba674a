package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// enableFAPI2 switches cfg to the FAPI 2.0 profile with a DPoP key made for
// this run (the provider learns it from the proofs; nothing to register),
// and returns a proof maker of the same key for printing its thumbprint.
func enableFAPI2(cfg *exchange.Config, stdout io.Writer) (*assertion.DPoP, error) {
	dpopKey, err := jwks.Generate(jwks.ES256)
	if err != nil {
		return nil, err
	}
	proofs, err := assertion.NewDPoP(dpopKey, assertion.DPoPConfig{})
	if err != nil {
		return nil, err
	}
	cfg.FAPI2, cfg.DPoPKey = true, dpopKey
	fmt.Fprintf(stdout, "FAPI 2.0:  tokens bound to DPoP key jkt %s (ES256, generated for this run)\n", proofs.Thumbprint())
	return proofs, nil
}

// headlessFAPI2 is headless for the FAPI 2.0 profile: the pushed
// authorization request, the browser's visit with client_id and
// request_uri only, the DPoP-bound code exchange, and a UserInfo request
// with a proof. It prints no token, code or assertion.
func headlessFAPI2(ctx context.Context, op *providertest.Server, p *provider.Provider, client *exchange.Client, proofs *assertion.DPoP, c *config, stdout io.Writer) error {
	authURL, tx, err := client.AuthCodeURL(ctx)
	if err != nil {
		return fmt.Errorf("pushed authorization request: %w", err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	requestURI := shortRequestURI(u.Query().Get("request_uri"))
	fmt.Fprintf(stdout, "2. pushed the authorization request (PAR, RFC 9126) with a fresh assertion and a DPoP proof; request_uri %s\n", requestURI)
	fmt.Fprintf(stdout, "   the browser goes to the authorization endpoint with only %s\n", strings.Join(sortedKeys(u.Query()), " and "))
	callback, err := op.Authorize(ctx, authURL)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	res, err := client.Callback(ctx, tx, callback.Query())
	if err != nil {
		return fmt.Errorf("callback: %w (%s)", err, hint(err, c))
	}
	fmt.Fprintln(stdout, "3. callback: state and iss (RFC 9207) checked; code redeemed with the PKCE verifier, a fresh assertion and a DPoP proof")
	fmt.Fprintf(stdout, "   token_type %s, bound to jkt %s\n", res.Token.TokenType, proofs.Thumbprint())
	fmt.Fprintln(stdout, "4. ID token verified: signature (PS256, ES256 or EdDSA only), iss, aud, exp, iat, nonce and at_hash")
	ui := p.Metadata().UserInfoEndpoint
	if ui != "" {
		resp, err := client.RefreshTokenSource(res.Token, res.IDToken).Client(nil).Get(ui)
		if err != nil {
			return fmt.Errorf("userinfo: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("userinfo: status %d", resp.StatusCode)
		}
		fmt.Fprintln(stdout, "5. UserInfo answered a request with Authorization: DPoP and a proof carrying the token's hash (ath)")
	}
	u2, err := userOf(res.IDToken)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "verified claims:")
	for _, cl := range u2.Claims {
		fmt.Fprintf(stdout, "  %-15s %s\n", cl.Name, cl.Value)
	}
	return nil
}

// logPushed logs the request_uri step of a pushed authorization request
// (the request_uri shown by its prefix only); other URLs log nothing.
func logPushed(log *slog.Logger, authURL string) {
	u, err := url.Parse(authURL)
	if err != nil || !u.Query().Has("request_uri") {
		return
	}
	log.Info("pushed the authorization request (PAR); the browser carries only client_id and request_uri", slog.String("request_uri", shortRequestURI(u.Query().Get("request_uri"))))
}

// shortRequestURI shows a request_uri by its prefix: it is a one-time
// reference to the pushed request.
func shortRequestURI(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i+1] + "…"
	}
	return "…"
}

// sortedKeys returns the names of q in order.
func sortedKeys(q url.Values) []string {
	var l []string
	for k := range q {
		l = append(l, k)
	}
	if len(l) == 2 && l[0] > l[1] {
		l[0], l[1] = l[1], l[0]
	}
	return l
}
