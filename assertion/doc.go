// Package assertion mints the JWTs a client signs with its private key:
// client assertions for private_key_jwt client authentication, and other
// short-lived signed JWTs with custom claims (partner user tokens,
// service-to-service tokens).
//
// Use a [Minter] when your application authenticates to an OpenID Provider's
// token endpoint with a key instead of a client secret; pass it (as a
// [Source]) to the exchange package, which asks for a new assertion for every
// token request. Use a [TokenMinter] when a partner or another of your
// services verifies tokens you sign against your published JWK Set (see
// jwks.Set and jwks.Handler). Keys come from package jwks: a single
// *jwks.Key, or a *jwks.Ring that rotates.
//
//	m, err := assertion.NewMinter(key, assertion.Config{
//		ClientID: "s6BhdRkqt3",
//		Audience: p.Issuer(), // RFC 10070: the validated issuer, never the token endpoint
//	})
//	…
//	a, err := m.Assertion(ctx) // a new assertion, new jti, for this one request
//
// The examples show a client assertion, the legacy profile for Microsoft
// Entra ID, and the Crossmint, Stytch and SuperTokens tokens.
//
// # Specifications
//
//   - OpenID Connect Core 1.0 §9, private_key_jwt client authentication.
//   - RFC 7523 §3 (JWT for client authentication) as updated by RFC 10070:
//     "aud" is the authorization server's issuer identifier as a single
//     string, and the header's "typ" is "client-authentication+jwt".
//     [ProfileLegacy] keeps the pre-RFC 10070 form (token endpoint URL,
//     "typ" "JWT") for servers that demand it.
//   - RFC 7519 (JWT): registered claims iss, sub, aud (one value as a string,
//     several as an array), exp, nbf, iat, jti as NumericDate seconds.
//   - RFC 7515 (JWS compact serialisation) and RFC 7518 §3 / RFC 8037
//     (RS256…PS512, ES256/ES384/ES512 as fixed-length R||S, EdDSA), through
//     jwks.Key.Sign.
//   - RFC 8725 §3.11 (explicit typing): client assertions carry their own
//     "typ", and a TokenMinter refuses that type, so that a service token
//     cannot pass as a client assertion.
//   - RFC 9562 §5.4: "jti" is a random UUIDv4 from crypto/rand
//     (github.com/google/uuid), new for every token.
//
// # Security model
//
// What this package guarantees for every token it returns:
//
//   - The header holds "alg", "kid" and "typ" only — plus "x5t#S256" in the
//     legacy profile when a certificate is configured, and only if that
//     certificate holds the signing key's public key. Never "jku", "x5u",
//     "jwk", "x5c" or "crit": nothing that tells a verifier where to find a
//     key.
//   - "iss" and "sub" are the client ID and "aud" the configured audience,
//     byte for byte: values are validated (UTF-8, no control characters, no
//     surrounding white space; an absolute http(s) URL for a client
//     assertion's audience) and never trimmed or normalised.
//   - Every call signs a new token with a fresh jti; no assertion is cached.
//     A client assertion lives at most 5 minutes unless
//     Config.AllowLongLifetime is set, and no token ever lives longer than
//     [MaxLifetime] (one hour).
//   - Custom claims cannot override a registered claim: a custom member named
//     iss, sub, aud, exp, nbf, iat or jti in any letter case (encoding/json
//     matches names case-insensitively) is [ErrClaimCollision].
//   - Configuration is validated up front and reported at once
//     ([errors.Join]); zero values fail closed: a missing client ID, client
//     assertion audience or token issuer is a configuration error, and a token
//     without an audience is refused, never minted with the claim left out.
//   - No error, String, GoString, Format or LogValue output contains a token,
//     an assertion or key material.
//
// What the caller must still do: take the audience from the provider's
// validated discovery document (provider.Provider.Issuer, or its token
// endpoint for the legacy profile), send each assertion once over TLS, and
// protect the private key. [FromFile] and [SourceFunc] only check that an
// externally minted assertion looks like a compact JWS with an asymmetric
// "alg"; its issuer, audience and signature are the minting system's
// business and the authorization server's to verify.
//
// # Performance
//
// A client assertion costs little more than its signature: the header is
// encoded once per key (cached behind an atomic pointer, so a rotating
// jwks.Ring costs one re-encoding per rotation), the claims are written by
// hand into one stack buffer from a prefix precomputed per Minter, and the
// compact serialisation is built in one buffer sized up front.
//
// BenchmarkMint has sub-benchmarks raw (the hash and crypto.Signer.Sign
// over an input as long as the assertion's signing input, with the same key:
// the physical floor) and assertion (a complete client assertion).
// BenchmarkMintPaired times the same two operations interleaved and reports
// per-operation medians and their ratio, which stay put when the machine's
// load drifts. Run both with
//
//	go test -run '^$' -bench BenchmarkMint -benchmem -count 6 ./assertion/
//
// Medians of 6 runs on a quiet 2-vCPU linux/amd64 virtual machine
// (Go 1.26), per-operation medians from BenchmarkMintPaired (the ratio's
// range over the 6 runs in brackets), allocations from BenchmarkMint:
//
//	        raw        assertion   assertion/raw         allocs/op raw → assertion
//	RS256   838 µs     844 µs      1.007 (1.007–1.007)   3 → 6
//	ES256   23.9 µs    25.0 µs     1.049 (1.045–1.051)   60 → 69
//	EdDSA   17.8 µs    18.4 µs     1.034 (1.032–1.040)   1 → 4
//
// The three extra allocations for RS256 and EdDSA are this package's (the
// jti, the output buffer and the returned string); for ES256 the other six
// are jwks.Key.Sign's conversion of the signer's ASN.1 DER into R||S, which
// is also most of the ES256 time above the raw signature.
package assertion
