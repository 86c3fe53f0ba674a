// Package provider is the OpenID Provider as a client sees it: discovery with
// the checks a careful client makes, and verification of the ID tokens and
// other JWTs that the provider (or a partner service) issues.
//
//	p, err := provider.Discover(ctx, "https://login.example.com", provider.Config{})
//	…
//	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "s6BhdRkqt3"})
//	…
//	tok, err := v.Verify(ctx, rawIDToken, provider.Expected{Nonce: nonce})
//	if errors.Is(err, provider.ErrTokenExpired) {
//		… // log in again
//	}
//	fmt.Println(tok.Subject, tok.SessionID)
//
// Call [Discover] once per provider at start-up and [Provider.Close] at
// shutdown; the provider's JWK Set is fetched lazily and cached. For tokens
// that are not ID tokens, such as service-to-service and partner tokens, use
// [NewJWTVerifier] with a [jwks.Remote] of the issuer's JWK Set, and
// [Middleware] to guard an HTTP handler with Bearer tokens. The examples show
// each (Example (PassportIDToken), ExampleMiddleware). Every failure wraps one
// sentinel error for [errors.Is] and never contains the token.
//
// # Specifications
//
//   - OpenID Connect Discovery 1.0 §3 (metadata), §4 (the discovery URL; §4.3
//     the issuer repeated exactly).
//   - OpenID Connect Core 1.0 §3.1.3.7 (ID token validation), §3.1.3.6 and
//     §3.1.3.8 (at_hash), §9 (private_key_jwt, checked by
//     [Provider.CheckPrivateKeyJWT]).
//   - RFC 7515 and RFC 7519 (JWS compact serialization, JWT claims), RFC 8725
//     §3.1 and §3.11 (algorithm verification, explicit typing).
//   - OpenID Connect Core 1.0 §5.3.2 (signed UserInfo,
//     [IDTokenVerifier.VerifyUserInfo]); Back-Channel Logout 1.0 §2.4 and
//     §2.6 (logout tokens, [IDTokenVerifier.VerifyLogoutToken]).
//   - RFC 6750 §2.1 and §3 (Bearer tokens, the WWW-Authenticate challenge).
//   - RFC 9207 (iss in the authorization response, reported by
//     [Provider.ISSParameterSupported]).
//
// # Security model
//
// What this package checks, and what the caller must still check, is part of
// the module's security model in the README at the root of this repository:
// https://github.com/pkjwt/pkjwt#security-model
package provider
