// Package digest hashes a message into an array the caller provides, so that
// signing and verifying a JWT allocate no hash state. jwks uses it for
// signatures, provider for at_hash.
package digest

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
)

// Sum hashes msg with h (SHA-256, SHA-384 or SHA-512, the hashes of the JWS
// algorithms) into out and returns the digest, a slice of out. It returns
// nil for any other h, including zero (EdDSA signs the message itself).
func Sum(h crypto.Hash, msg []byte, out *[64]byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(msg)
		return append(out[:0], s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return append(out[:0], s[:]...)
	case crypto.SHA512:
		s := sha512.Sum512(msg)
		return append(out[:0], s[:]...)
	}
	return nil
}
