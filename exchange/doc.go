// Package exchange talks to an OpenID Provider's token endpoint as a client
// that authenticates with private_key_jwt: every request carries a client
// assertion minted for that request alone. It covers the login of a
// server-side web application (authorization code with PKCE, then the ID
// token verified), refresh, client credentials, the JWT bearer grant and
// token exchange, and hands back [golang.org/x/oauth2] tokens and token
// sources so the rest of an application keeps using x/oauth2.
//
// Use it after [provider.Discover]: [New] takes the discovered provider and
// a [Config] with the client ID and the signing key (a *jwks.Key, or a
// *jwks.Ring that rotates), or an [assertion.Source] for assertions minted
// elsewhere.
//
// # Usage
//
// The login is two HTTP handlers: one calls [Client.AuthCodeURL], stores the
// [Transaction] in the user's server-side session and redirects; the other
// takes the transaction out of the session and calls [Client.Callback] with
// the callback's query. The result carries the tokens and the verified ID
// token. See Example_login; [Client.RefreshTokenSource] keeps the tokens
// fresh afterwards (ExampleClient_RefreshTokenSource). Services without a user call
// [Client.ClientCredentialsTokenSource] (Example_clientCredentials); a
// service acting for a user exchanges that user's token with
// [Client.TokenExchange] (Example_tokenExchange).
//
// # Specifications
//
//   - RFC 6749 §4.1 (authorization code grant), §4.4 (client credentials),
//     §5.1 and §5.2 (token responses and errors), §6 (refresh)
//   - RFC 7636 (PKCE), S256 only
//   - RFC 7523 §2.1 (JWT bearer grant) and §2.2 (client authentication with
//     a JWT), with the audience of RFC 10070 by default
//   - RFC 8693 (token exchange)
//   - RFC 8707 (resource indicators), through [WithResource]
//   - RFC 9207 (the iss authorization response parameter)
//   - RFC 9700 (OAuth 2.0 security best current practice): PKCE, state and
//     nonce each of 256 random bits, exact issuer checks, no redirects
//     followed from the token endpoint
//   - OpenID Connect Core 1.0 §3.1 (authorization code flow), §9
//     (private_key_jwt), §12 (refresh: §12.2 ID token continuity)
//
// # Security model
//
// What this package does:
//
//   - Mints a new client assertion for every token request (or asks the
//     configured [assertion.Source] for one) and sends it exactly once.
//     Nothing here retries a request; the next call, a [TokenSource]'s next
//     fetch included, mints a new assertion. The only authentication
//     method sent is the assertion in the body: no Authorization header,
//     no client_secret. golang.org/x/oauth2's Config.Exchange is not used,
//     so its AuthStyleAutoDetect (which re-posts the same form, replaying
//     the jti) cannot happen.
//   - Never follows a redirect from the token endpoint: a 307 or 308 would
//     resend the code, the PKCE verifier and the assertion to another
//     address. A 3xx answer is [ErrRedirect].
//   - Bounds every token response ([Config.MaxResponseBytes], 1 MiB by
//     default; a longer body is [ErrResponseTooLarge], never a truncation)
//     and every request in time ([DefaultTimeout] unless the caller's
//     client or context sets one).
//   - Turns every refusal into a [*TokenError] or [*AuthorizationError]
//     whose code matches a sentinel with errors.Is, and keeps what the
//     server said without guessing. An error member in a 200 is an error;
//     a body that is not a JSON object is [ErrMalformedResponse].
//   - Checks the callback in this order: the transaction's issuer and age,
//     no repeated parameters, the state (in constant time), the RFC 9207
//     iss (required when the provider advertises it), then an error
//     response, then the code. A callback that fails the state check never
//     reveals its error text.
//   - Verifies the ID token with the provider's verifier: signature against
//     the provider's JWK Set, iss, aud, azp, exp, iat, the transaction's
//     nonce, at_hash against the access token, and auth_time against a
//     requested max_age. A token response to a login without an id_token,
//     or with one that is not a JSON string, is an error.
//   - On refresh, requires a new ID token, if any, to keep the original iss
//     and sub and to name the client in aud (OIDC Core §12.2).
//   - Keeps codes, verifiers, assertions and tokens out of every error and
//     log record. A server that echoes them in error_description has them
//     replaced by "[redacted]", as has anything shaped like a JWT; server
//     strings are bounded and rendered quoted with HTML specials escaped.
//     [Transaction] and [Result] redact their secrets in every formatting
//     path (but not in JSON: a transaction must survive the session).
//
// What the caller must still do:
//
//   - Keep the [Transaction] server-side (or encrypted and authenticated)
//     and bound to the user's session, use it for one callback only, and
//     delete it before calling [Client.Callback].
//   - Register the exact redirect URI at the provider, serve it over
//     https, and publish the client's public keys (see jwks.Handler).
//   - Choose the assertion profile per provider: the default (aud = the
//     issuer, RFC 10070) unless the provider demands the token endpoint
//     ([assertion.ProfileLegacy]).
//   - Escape [TokenError.Description] and [AuthorizationError.Description]
//     before rendering them: they are the server's words.
//   - Store tokens as secrets.
//
// # Transport retries
//
// net/http's Transport re-sends a POST on its own only when the server
// cannot have processed the first attempt (nothing was written on a reused
// connection, or an HTTP/2 server refused the stream unprocessed), so the
// server never sees an assertion twice; no other layer here retries.
//
// # Performance
//
// BenchmarkExchange times [Client.Callback] end to end against the
// in-process providertest: callback checks, assertion minted and signed,
// token request over loopback HTTP, ID token verified. On a quiet 2-vCPU
// VM (go test -run '^$' -bench BenchmarkExchange -benchmem -count 6
// ./exchange/, medians) it takes 1.37 ms with an ES256 client key and
// 2.22 ms with an RSA-2048 (RS256) key. A CPU profile of the ES256 case puts 5–7% of the CPU in
// this library and its dependencies on the client side (about 0.1 ms per
// exchange: assertion signing, ID token verification, checks, form and
// JSON), about 75% in the mock provider (its RS256 ID token signature and
// its assertion verification), and the rest in net/http and the runtime
// shared by both. With an RSA-2048 client key the assertion's signature
// raises the library's share to about 36%.
package exchange
