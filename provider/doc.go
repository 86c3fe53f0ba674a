// Package provider is the OpenID Provider as a client sees it: discovery
// with the checks a careful client makes, and verification of the ID tokens
// and other JWTs the provider (or a partner service) issues.
//
// Use [Discover] once per provider at start-up, then
// [Provider.IDTokenVerifier] for the ID tokens of the code flow, or
// [NewJWTVerifier] and [Middleware] for service-to-service and partner
// tokens. The examples show each.
//
// # Specifications
//
//   - OpenID Connect Discovery 1.0 §3 (metadata), §4 (obtaining it; the
//     one trailing-slash rule when building the URL; §4.3 exact issuer).
//   - OpenID Connect Core 1.0 §3.1.3.7 (ID token validation), §3.1.3.8 and
//     §3.1.3.6 (at_hash), §2 (claims), §9 (private_key_jwt, the
//     pre-flight's subject).
//   - RFC 7515 / RFC 7519 (JWS compact serialization, JWT claims), RFC 8725
//     (JWT best current practice: explicit typ §3.11, algorithm
//     verification §3.1), RFC 6750 §2.1 and §3 (Bearer tokens and the
//     WWW-Authenticate challenge), RFC 9207 (iss in the authorization
//     response, reported by [Provider.ISSParameterSupported]).
//
// # Security model
//
// Discovery accepts only https URLs (plain http only for an issuer on a
// loopback host, and then for its endpoints too; an https issuer never
// leads to plain http), an issuer in the document equal to the configured
// issuer byte for byte, the required members with their JSON types, a
// bounded body, and redirects within the issuer's origin. With Config.ClientAuthAlgorithm it refuses a
// provider that does not advertise private_key_jwt with that algorithm.
//
// Token verification follows a fixed order and stops at the first failure:
// size and structure before any decoding (compact serialization only, three
// base64url segments, strict alphabet); a header decoded into a tiny struct;
// "crit" refused; the algorithm taken from the verifier's allow-list (the
// header only selects from it; "none" and HMAC in any letter case never);
// the key chosen by kid, kty, alg and use from the issuer's JWK Set only
// (jku, x5u, jwk and x5c are never used); the signature verified before any
// claim is decoded; then the claims decoded once, and iss, sub, aud, azp,
// exp, iat, nbf, nonce, at_hash, auth_time and acr checked as OIDC Core
// §3.1.3.7 requires. Each failure wraps one sentinel error ([ErrTokenExpired],
// [ErrInvalidIssuer], …) and never contains the token.
//
// Keys come from a [jwks.Remote]: a set is never used once older than an
// hour, an unknown kid refetches at most once a minute, and a failed refresh
// fails closed after the maximum age.
//
// The caller must still:
//
//   - check state and PKCE in the authorization response, and iss there when
//     [Provider.ISSParameterSupported] (package exchange does this);
//   - pass the nonce, max_age, acr_values and access token of the request
//     in [Expected]; a zero Expected means "no nonce was sent";
//   - decide whether extra audiences in an ID token are trusted (this
//     package requires azp with several audiences but trusts aud otherwise);
//   - for [JWTVerifier], prevent replay where it matters (jti is returned,
//     not remembered) and authorise the subject.
//
// # Performance
//
// Verification has its own path: no reflection over the claims, the header
// read once, hashes into fixed-size arrays, the signature checked with the
// standard library, keys taken from the cache without a lock.
// BenchmarkVerify compares full ID-token verification (every check on, keys
// cached) with the bare signature check on the same token ("raw": SHA-256
// and rsa.VerifyPKCS1v15 or ecdsa.Verify over the token's own signing
// input); "parallel" and "raw-parallel" run them under b.RunParallel. Medians
// of six runs on a quiet 2-core x86-64 VM, Go 1.26; the benchmark also
// reports the process CPU time per operation, which stays meaningful when
// the machine is shared:
//
//	go test -run '^$' -bench BenchmarkVerify -benchmem -count 6 ./provider/
//
//	                     wall ns/op   CPU ns/op   B/op  allocs
//	RS256/raw                 28657       29047   1376       9
//	RS256/raw-parallel        14690       29103   1376       9
//	RS256/idtoken             33134       33928   2928      23
//	RS256/parallel            17758       35006   2928      23
//	ES256/raw                 58148       58581   1088      19
//	ES256/raw-parallel        29565       58793   1216      21
//	ES256/idtoken             62284       63274   2576      35
//	ES256/parallel            32257       64048   2576      35
//
// idtoken/raw: 1.16 (RS256) and 1.07 (ES256); parallel throughput on two
// cores: 1.87x and 1.93x serial (the bare signature check itself: 1.95x and
// 1.97x). On a loaded machine the ratios move by up to about ten per cent.
package provider
