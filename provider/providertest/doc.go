// Package providertest runs a strict mock OpenID Provider in-process, on
// [net/http/httptest], for tests of OpenID Connect clients that authenticate
// with private_key_jwt — the way httptest serves tests of HTTP code.
//
//	op := providertest.New(t, providertest.Config{}) // closed by t.Cleanup
//	if err := op.RegisterClient(providertest.Client{
//		ID:           "my-app",
//		JWKSJSON:     jwks.NewSet(key).JSON(),
//		RedirectURIs: []string{"http://127.0.0.1/callback"},
//	}); err != nil {
//		t.Fatal(err)
//	}
//	p, err := provider.Discover(ctx, op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
//	…
//	op.Misbehave(providertest.IDTokenWrongATHash) // now check that the client refuses
//
// It is NOT a production provider. It approves a configured user without
// asking anyone, keeps everything in memory, signs with test keys published
// in this repository (internal/testkeys) and answers quickly rather than
// safely. Use it only in tests and demonstrations; [Start] serves programs
// that have no [testing.TB].
//
// # What it serves
//
// Discovery with authorization_response_iss_parameter_supported,
// private_key_jwt, S256, PAR and DPoP metadata; the provider's JWK Set
// ([Server.RotateKeys] rotates it); an authorization endpoint that approves
// at once ([Server.Authorize] plays the browser), also from a request_uri of
// the pushed authorization request endpoint (RFC 9126: authenticated like
// token requests, single use, expiring, required with
// Config.RequirePushedAuthorizationRequests); a token endpoint for the
// authorization code (single-use codes bound to client, redirect URI, PKCE
// challenge and DPoP key), refresh token (rotated, reuse revokes the family),
// client credentials, JWT bearer and token exchange grants, checking DPoP
// proofs (RFC 9449 §4.3: typ, alg, a public jwk, jti never replayed, htm,
// htu, iat window, the server's nonce with Config.DPoPNonceRequired; a proof
// on every token request with Config.RequireDPoP, as oidc-provider's FAPI 2.0
// profile demands) and then
// answering token_type DPoP with cnf.jkt in JWT access tokens; UserInfo as
// JSON or, for a client with UserInfoSigned, a signed JWT (OIDC Core
// §5.3.2), with the DPoP scheme for bound tokens; revocation (RFC 7009) and
// introspection (RFC 7662), which authenticate the client like the token
// endpoint; RP-Initiated Logout at /end_session ([Server.EndSession] plays
// the browser); and Back-Channel Logout tokens POSTed to a client's loopback
// BackchannelLogoutURI ([Server.SendLogoutToken]). ID tokens are signed
// RS256 by default (PS256, ES256 or EdDSA on request).
//
// # Client authentication
//
// Every request to the token, revocation and introspection endpoints must
// carry a client assertion, checked by this package's own code, written from
// the specifications, so that a minting mistake elsewhere in the module
// cannot hide behind the same checking mistake: one authentication method
// only, the exact client_assertion_type, a compact JWS with an allowed
// asymmetric alg and a registered key of the client, iss = sub = client ID,
// aud per [AudiencePolicy] (by default the issuer alone), the typ, exp, iat
// and nbf within [Config.ClockSkew], and a jti never seen before. A real
// server hides why it refused; this one records it ([Server.Refusals],
// [Server.LastRefusal]), as a reason that wraps one of the Err… sentinels.
//
// # Misbehaving on cue
//
// [Server.Misbehave] switches on misbehaviours — wrong ID-token claims, alg
// none, corrupted signatures, unpublished or rotated keys, discovery
// mismatches, oversize, slow and failing responses, a UserInfo sub of another
// user, bad logout tokens (with a nonce, without events, wrongly typed, a
// replayed jti, another user's sub), PAR and DPoP tricks (a Bearer
// token_type after a proof, a nonce demanded on every request, an expired
// request_uri, a redirect from the PAR endpoint, a 1 MiB DPoP-Nonce) — so
// that a test can check that a client refuses or survives each;
// [Server.Reset] switches all off.
//
// # Specifications
//
// OpenID Connect Discovery 1.0 §3, OpenID Connect Core 1.0 §3.1, §5.3 and
// §9, RP-Initiated Logout 1.0, Back-Channel Logout 1.0, RFC 6749 §5.2, RFC
// 7009, RFC 7517, RFC 7521 §4.2, RFC 7523 §2.1 and §3, RFC 7636, RFC 7662,
// RFC 8693, RFC 9068, RFC 9126, RFC 9207, RFC 9449 and RFC 10070. See the
// security model in the module README:
// https://github.com/pkjwt/pkjwt#security-model
package providertest
