// Package jwks holds the keys of a private_key_jwt client: it loads private
// signing keys, rotates them, publishes their public halves as a JWK Set and
// caches the JWK Sets of others.
//
//	key, err := jwks.LoadPEMEnv("JWT_PRIVATE_KEY", jwks.KeyConfig{}) // base64 PEM or PEM
//	…
//	ring, err := jwks.NewRing(jwks.RingConfig{}, jwks.Entry{Key: key, Activate: time.Now()})
//	…
//	http.Handle("/.well-known/jwks.json", jwks.NewHandler(ring, jwks.HandlerConfig{}))
//	// Sign with ring (package assertion); later, ring.Rotate(next) rotates without downtime.
//
// # Keys
//
// A [Key] is a private signing key with its JWS algorithm and key ID. Load
// one from PEM ([ParsePEM], [LoadPEMFile]: PKCS#8, PKCS#1 or SEC1, plain or
// base64-encoded), from an environment variable ([LoadPEMEnv]), or from a
// private JWK ([ParseJWK]); generate one ([Generate], [GenerateRSA]); or wrap
// any [crypto.Signer] such as a KMS or HSM key ([NewKey]; a [ContextSigner]
// gets the caller's context). Every constructor signs and verifies a probe, so
// a misconfigured key fails at start-up rather than at the first token. The
// algorithm defaults to the key's natural one (RS256, ES256/ES384/ES512 or
// EdDSA), the key ID to the RFC 7638 thumbprint, which every replica computes
// alike. An unset variable is [ErrNoKey]; a key refused for any other
// reason (or a ring's inconsistent schedule) is [ErrInvalidConfig], with the
// reason in the message.
//
// # Rotation and publishing
//
// A [Ring] schedules keys ([Entry]). A key is published [RingConfig.Lead]
// before it activates, so that verifiers caching the set know it before the
// first token it signs, and stays published [RingConfig.Grace] after it
// retires. The ring's answers are a pure function of its entries and the
// time, so replicas given the same entries agree without talking to each
// other (Example (Rotation)). A [Handler] serves a [Set] or a [Ring] with a
// strong ETag and Cache-Control; [Set.JSON] is the set to paste into a
// provider's dashboard.
//
// # Someone else's keys
//
// [Remote] caches a remote JWK Set, such as a provider's jwks_uri, for
// package provider; its method set satisfies go-oidc's KeySet.
//
// # Specifications
//
//   - RFC 7517 (JSON Web Key): §4 (members), §5 (JWK Set), §8.5.1 (media
//     type).
//   - RFC 7518 (JSON Web Algorithms): §3.1 ("alg" values), §3.3 (RS*), §3.4
//     (ES*, signatures as fixed-length R||S), §3.5 (PS*), §6.2 and §6.3 (EC
//     and RSA key members).
//   - RFC 7638 (JWK Thumbprint), RFC 8037 (Ed25519 as OKP, EdDSA).
//   - RFC 9110 §8.8.3 and §13.1.2 (ETag, If-None-Match).
//
// # Security model
//
// What this package guarantees, and what the caller must still do, is part of
// the module's security model in the README at the root of this repository:
// https://github.com/pkjwt/pkjwt#security-model
package jwks
