// Package providertest runs a strict mock OpenID Provider in-process, on
// [net/http/httptest], for tests of OpenID Connect clients that authenticate
// with private_key_jwt — the way httptest serves tests of HTTP code.
//
// It is NOT a production provider. It approves a configured user without
// asking anyone, keeps everything in memory, signs with keys published in
// this repository (internal/testkeys), and answers quickly rather than
// safely. Use it only in tests and demonstrations.
//
// # What it serves
//
// Below its issuer (the server's URL plus an optional path, optionally with
// a trailing slash):
//
//   - /.well-known/openid-configuration: OpenID Provider Metadata (OIDC
//     Discovery §3) with authorization_response_iss_parameter_supported true,
//     token_endpoint_auth_methods_supported ["private_key_jwt"],
//     code_challenge_methods_supported ["S256"], the PAR endpoint,
//     require_pushed_authorization_requests and
//     dpop_signing_alg_values_supported.
//   - /jwks: the provider's public keys (RFC 7517); [Server.RotateKeys]
//     switches to the next pre-generated key and keeps publishing the
//     previous one.
//   - /authorize: approves at once. It requires a registered client, an
//     exactly matching redirect_uri, response_type code, the openid scope
//     and PKCE with S256 (RFC 7636); it answers with code, state and iss
//     (RFC 9207). [Server.Authorize] plays the browser. It also takes
//     client_id and a request_uri from /par (RFC 9126 §4): single use,
//     expiring, and refused when a parameter sent beside it differs; with
//     Config.RequirePushedAuthorizationRequests a plain request is refused.
//   - /par: pushed authorization requests (RFC 9126), authenticated like
//     token requests, answered 201 with request_uri and expires_in
//     (Config.PARLifetime). A DPoP proof or dpop_jkt there binds the code
//     to that key (RFC 9449 §10).
//   - /token: authorization_code, refresh_token (rotated; a reused refresh
//     token revokes its family), client_credentials, jwt-bearer (RFC 7523
//     §2.1) and token-exchange (RFC 8693). Codes are single use: a second
//     redemption fails and revokes what the first issued. Codes are bound
//     to the client, the redirect_uri and the PKCE challenge. A DPoP proof
//     (RFC 9449 §4.3: one header, typ dpop+jwt, alg in
//     Config.DPoPAlgorithms, a public jwk, jti never replayed, htm, htu,
//     iat within Config.DPoPProofWindow, the server's nonce with
//     Config.DPoPNonceRequired) binds the tokens to its key: token_type
//     DPoP, cnf.jkt in JWT access tokens; a bound code or refresh token
//     needs a proof by the same key.
//   - /userinfo: the user's claims for a Bearer access token, or for a
//     DPoP-bound one sent with the DPoP scheme and a proof carrying ath; a
//     bound token sent as Bearer is refused.
//
// ID tokens carry iss, sub, aud, exp, iat, auth_time, nonce, at_hash, sid,
// azp (with several audiences) and the user's extra claims, signed RS256 by
// default (PS256, ES256 or EdDSA on request). Access and refresh tokens are
// opaque or JWTs (RFC 9068).
//
// # Client authentication
//
// Every token request must authenticate with a client assertion (OIDC Core
// §9 private_key_jwt, RFC 7521 §4.2, RFC 7523 §3, RFC 10070). The checks are
// this package's own code, written from the specifications, so that a
// minting mistake elsewhere in the module cannot hide behind the same
// checking mistake; go-jose verifies the signature only:
//
//   - exactly one authentication method: an Authorization header or a
//     client_secret beside the assertion is refused (and the assertion's
//     jti is spent all the same, so a retry with the same assertion fails);
//   - client_assertion_type exactly
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer;
//   - a compact JWS (three base64url parts, JSON objects, no crit, no
//     repeated member);
//   - alg in the client's allowed list, never none or HMAC;
//   - a signature by a registered key of the client, found by kid, or by
//     trying every fitting key when kid is absent; a jwks_uri is fetched and
//     cached like a real server does;
//   - iss = sub = the client ID;
//   - aud per [AudiencePolicy]: by default the issuer as the sole value;
//   - typ, when present, client-authentication+jwt or JWT;
//   - exp present and not past, iat present and not in the future, nbf not
//     in the future (all within Config.ClockSkew), exp − iat at most
//     Config.MaxAssertionLifetime;
//   - jti present and never seen before (remembered until exp, in bounded
//     memory);
//   - a client_id form parameter, when sent, equal to sub.
//
// Refusals answer as RFC 6749 §5.2 JSON (invalid_client with 401 and
// WWW-Authenticate). A real server hides the reason; this one records it:
// [Server.Refusals] and [Server.LastRefusal] return [Refusal] values whose
// Reason wraps one of the Err… sentinels, for [errors.Is].
//
// # Misbehaving on cue
//
// [Server.Misbehave] switches on one [Misbehavior] or more — wrong or
// missing ID-token claims, alg none, corrupted signatures, HS256 keyed with
// the public key, unpublished or rotated keys, JWKS decoys, discovery
// mismatches, oversized, slow and failing responses, broken token and
// authorization responses, PAR and DPoP tricks (a Bearer token_type after a
// proof, a nonce demanded on every request, an expired request_uri, a
// redirect from /par, a 1 MiB DPoP-Nonce) — so that a test can check that a
// client refuses or survives each. [Server.Reset] switches all off.
//
// # For tests
//
// [Server.Count] counts requests per endpoint, [Server.LastAssertion]
// returns the last client assertion received, decoded. The server is safe
// for concurrent use.
package providertest
