// Package jwks holds the keys of a private_key_jwt client: it loads and wraps
// private signing keys, rotates them on a schedule, publishes their public
// halves as a JWK Set over HTTP, and caches the JWK Sets of others.
//
// Use it to give a client assertion minter (package assertion) or a token
// minter the key it signs with, and to serve /.well-known/jwks.json so that
// identity providers and partners can verify what you sign.
//
// # Keys
//
// A [Key] is a private signing key with its JWS algorithm and key ID. Load
// one from PEM ([ParsePEM], [LoadPEMFile]: PKCS#8, PKCS#1 RSA or SEC1 EC),
// from a base64-encoded PEM in an environment variable ([LoadPEMEnv],
// [ParseBase64PEM]: `openssl base64` output wrapped at 64 columns or
// `base64` output on one line, with or without a trailing newline, LF or
// CRLF), from a private JWK ([ParseJWK]), generate one ([Generate],
// [GenerateRSA]), or wrap any [crypto.Signer] such as a KMS or HSM key
// ([NewKey]; a [ContextSigner] gets the caller's context). Every
// constructor signs and verifies a probe before it returns, so a
// misconfigured key fails at start-up rather than at the first token.
//
// The algorithm defaults to the key's natural one (RS256 for RSA, ES256,
// ES384 or ES512 for P-256, P-384 or P-521, EdDSA for Ed25519); a
// [KeyConfig] may choose another that fits (PS256 for an RSA key, say). The
// key ID defaults to the RFC 7638 thumbprint, which every replica computes
// alike.
//
// Loaders refuse, with an error that says what was found and what is
// expected and that wraps a sentinel for [errors.Is]: encrypted PEM
// ([ErrEncryptedKey]), several key blocks ([ErrMultipleKeys]), a public key
// or certificate ([ErrNotPrivateKey]), RSA below 2048 bits ([ErrWeakKey]),
// curves other than P-256, P-384, P-521 and Ed25519, and multi-prime RSA
// ([ErrUnsupportedKey]), an algorithm that does not fit the key, HS* or
// "none" ([ErrAlgorithmMismatch]), and inconsistent key components or a
// signer that fails its self-test ([ErrInvalidKey]).
//
// # Rotation
//
// A [Ring] holds keys with activation and retirement times ([Entry]). Its
// signing key is the most recently activated key that has not retired. A
// key is published [RingConfig.Lead] (default one hour) before it
// activates, so verifiers that cache the set see it before the first token
// signed with it, and stays published [RingConfig.Grace] (default one day)
// after it retires, so tokens signed just before still verify.
// [Ring.Rotate] does a whole rotation in one call. The ring's answers are a
// pure function of its entries and the time, so replicas configured with
// the same entries agree without talking to each other. See Example
// (Rotation).
//
// # Publishing
//
// A [Handler] serves a [Set] or a [Ring] at /.well-known/jwks.json with
// Content-Type application/jwk-set+json, Cache-Control public with a
// max-age, a strong ETag and 304 Not Modified on a matching If-None-Match.
// A [Set] is also available as a value ([Set.JSON]) for providers that take
// a JWKS pasted into a dashboard.
//
// # Verifying with someone else's keys
//
// [VerifySignature] checks one JWS signature with a public key; [Remote]
// caches a remote JWK Set and can serve as go-oidc's KeySet.
//
// # Specifications
//
//   - RFC 7517, JSON Web Key: §4 (members), §5 (JWK Set), §8.5.1 (media type).
//   - RFC 7518, JSON Web Algorithms: §3.1 (the "alg" values), §3.3 (RS*),
//     §3.4 (ES*, with signatures as fixed-length R||S), §3.5 (PS*, salt as
//     long as the hash), §6.2 and §6.3 (EC and RSA key members; EC
//     coordinates left-padded to the full size, RSA n without leading zeros).
//   - RFC 7638, JWK Thumbprint (the default key ID).
//   - RFC 8037, CFRG curves in JOSE (Ed25519 as OKP, EdDSA).
//   - RFC 9110 §8.8.3 and §13.1.2 (ETag, If-None-Match).
//
// # Security model
//
// What this package guarantees:
//
//   - A published set, JWK or PEM carries public members only: kty, kid,
//     use "sig", alg, and n/e, crv/x/y or crv/x. Never d, p, q, dp, dq, qi,
//     oth or k.
//   - A [Key] never shows its private part: fmt verbs (on the pointer and on
//     the value), slog and json.Marshal show the key ID and algorithm only,
//     and no error of this package carries key bytes.
//   - Only asymmetric algorithms exist here; HS* and "none" are refused
//     everywhere, as are keys below 2048-bit RSA and curves other than
//     P-256, P-384, P-521 and Ed25519.
//   - Every key has passed a sign-and-verify self-test, and in-memory keys
//     are private copies: changing the caller's key afterwards changes
//     nothing.
//
// What the caller must still do:
//
//   - Keep the key material itself secret: the environment variable, the
//     file (mode 0600), [Key.PrivatePEM] output.
//   - Choose [RingConfig.Lead] longer than every verifier's JWKS cache time
//     (including the Handler's max-age) and [RingConfig.Grace] longer than the
//     lifetime of anything signed; give every replica the same entries.
//   - Serve the handler over HTTPS, and register the JWKS URL (or the set)
//     with the provider.
//   - Check everything else about a token ([VerifySignature] checks only the
//     signature): issuer, audience, expiry, and which algorithms to accept.
package jwks
