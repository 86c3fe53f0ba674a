// Package assertion mints the JWTs a client signs with its private key:
// client assertions for private_key_jwt, and short-lived JWTs with custom
// claims for partners and other services.
//
//	m, err := assertion.NewMinter(key, assertion.Config{ // key: a *jwks.Key or a *jwks.Ring
//		ClientID: "s6BhdRkqt3",
//		Audience: p.Issuer(), // RFC 10070: the validated issuer, never the token endpoint
//	})
//	…
//	a, err := m.Assertion(ctx) // a new assertion, with a new jti, for one token request
//
//	tm, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
//		Issuer:   "my-project",
//		Audience: []string{"crossmint.com"},
//	})
//	…
//	tok, err := tm.Mint(ctx, map[string]any{"email": email}, assertion.WithSubject(userID))
//
// A [Minter] authenticates a client at a token endpoint; package exchange
// asks it for a new assertion for every request. [ProfileLegacy] serves the
// servers that still demand the token endpoint as audience (ORY Hydra, Okta,
// Microsoft Entra ID). A [TokenMinter] signs tokens that a partner or another
// of your services verifies against your published JWK Set (package jwks).
// [FromFile] and [SourceFunc] pass on assertions minted elsewhere, such as a
// Kubernetes service-account token. The examples show each, including the
// Crossmint, Stytch and SuperTokens tokens.
//
// # Specifications
//
//   - OpenID Connect Core 1.0 §9 (private_key_jwt client authentication).
//   - RFC 7523 §3 as updated by RFC 10070: "aud" is the authorization server's
//     issuer identifier as a single string, and "typ" is
//     "client-authentication+jwt".
//   - RFC 7519 §4.1 (registered claims; one audience as a string, several as
//     an array), RFC 7515 (compact serialisation), RFC 7518 §3 and RFC 8037
//     (algorithms, through jwks.Key.Sign).
//   - RFC 8725 §3.11 (explicit typing): a TokenMinter refuses the client
//     assertion type, so a service token cannot pass as a client assertion.
//   - RFC 9562 §5.4: "jti" is a random UUIDv4, new for every token.
//
// # Security model
//
// What this package guarantees, and what the caller must still do, is part of
// the module's security model in the README at the root of this repository:
// https://github.com/pkjwt/pkjwt#security-model
package assertion
