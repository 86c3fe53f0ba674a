package provider

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
)

// digest hashes msg with h into a fixed-size array, so that the at_hash
// check allocates no hash state. It returns nil for a hash it does not know.
// (Signatures are checked by jwks.VerifySignature, which hashes the same way.)
func digest(h crypto.Hash, msg []byte, out *[64]byte) []byte {
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
