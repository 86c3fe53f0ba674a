// Package jose is the module's one reader of JOSE and JSON from the network
// or from a token: compact JWS (RFC 7515 §7.1) with strict base64url, the
// protected header (alg, kid, typ, crit; jku, x5u, jwk and x5c never used),
// the algorithm allow-list (none and HMAC refused in any letter case), key
// choice with one bound on the keys tried, the signature check, and one JSON
// object reader with one rule: a member name repeated in an object (compared
// after unescaping) makes the document malformed, and names are
// case-sensitive.
//
// provider (ID tokens, JWTs, discovery), jwks (remote sets and
// VerifySignature), assertion (its check of assertions from elsewhere) and
// exchange (token responses) read through it; provider/providertest keeps
// its own code on purpose. Errors wrap one of the kinds ErrMalformed,
// ErrAlgorithm, ErrHeader, ErrKeyMismatch, ErrNoKey and ErrSignature, which
// each public package maps to its own sentinels.
package jose
