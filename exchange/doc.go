// Package exchange talks to an OpenID Provider's token endpoint as a client
// that authenticates with private_key_jwt: every request carries a client
// assertion minted for it alone, and tokens come back as [golang.org/x/oauth2]
// types, so the rest of an application keeps using x/oauth2.
//
//	c, err := exchange.New(p, exchange.Config{ // p from provider.Discover
//		ClientID:    "s6BhdRkqt3",
//		Key:         key, // a *jwks.Key or *jwks.Ring; assertions with aud = p.Issuer()
//		RedirectURL: "https://app.example/callback",
//	})
//	…
//	// Login handler: send the user to the provider.
//	authURL, tx, err := c.AuthCodeURL(r.Context())
//	… // keep tx in the user's server-side session (it holds the PKCE verifier)
//	http.Redirect(w, r, authURL, http.StatusFound)
//
//	// Redirect URI handler: take tx out of the session, then
//	res, err := c.Callback(ctx, tx, r.URL.Query())
//	… // res.IDToken is verified; res.Token is an *oauth2.Token
//	ts := c.RefreshTokenSource(res.Token, res.IDToken) // a fresh assertion per refresh
//
// Use it after [provider.Discover]. For other assertion settings (the
// legacy audience, another lifetime, a certificate thumbprint) set
// Config.Assertions to an [assertion.Minter] instead of Key (ExampleNew
// (LegacyProfile)). See Example (Login) and
// ExampleClient_RefreshTokenSource. Services without a user call
// [Client.ClientCredentialsTokenSource] (Example (ClientCredentials)); a
// service acting for a user exchanges that user's token with
// [Client.TokenExchange] (Example (TokenExchange)); [Client.JWTBearer] trades a
// JWT for an access token. A web app also reads [Client.UserInfo], logs out
// with [Client.EndSessionURL] and [Client.BackchannelLogoutHandler], revokes
// and introspects tokens, and keeps logins in progress in sealed cookies
// ([Client.TransactionCookies]). Refusals are [*TokenError] and [*AuthorizationError]
// values that match the sentinel of their code with [errors.Is], such as
// [ErrInvalidGrant].
//
// FAPI 2.0 (Example (Fapi2)): Config.FAPI2 with a Config.DPoPKey pushes
// every authorization request (PAR), binds codes and tokens to the DPoP key,
// answers DPoP nonce challenges once with a new assertion and proof, and
// sends the bound tokens through [TokenSource.Client] with proofs, only to
// the provider's origin and the WithResource origins. Config.DPoPKey and
// Config.PushAuthorizationRequests turn on each piece alone.
//
// # Specifications
//
//   - RFC 6749 §4.1 (authorization code grant), §4.4 (client credentials),
//     §5.1 and §5.2 (token responses and errors), §6 (refresh).
//   - RFC 7636 (PKCE), S256 only.
//   - RFC 7523 §2.1 (JWT bearer grant) and §2.2 (client authentication with a
//     JWT), with the audience of RFC 10070 by default.
//   - RFC 8693 (token exchange), RFC 8707 (resource indicators, [WithResource]).
//   - RFC 9207 (the iss authorization response parameter).
//   - RFC 9126 (pushed authorization requests), RFC 9449 (DPoP) and the
//     FAPI 2.0 Security Profile (final) for a client.
//   - RFC 9700 (OAuth 2.0 security best current practice): PKCE, state and
//     nonce of 256 random bits each, exact issuer checks, no redirect followed
//     from the token endpoint.
//   - OpenID Connect Core 1.0 §3.1 (authorization code flow), §5.3
//     (UserInfo), §9 (private_key_jwt), §12.2 (ID token continuity on refresh);
//     RP-Initiated Logout 1.0, Back-Channel Logout 1.0; RFC 7009, RFC 7662.
//
// # Security model
//
// What this package does, and what the caller must still do (keep the
// [Transaction] server-side and use it once, register the exact redirect URI,
// store tokens as secrets), is part of the module's security model in the
// README at the root of this repository:
// https://github.com/pkjwt/pkjwt#security-model
package exchange
