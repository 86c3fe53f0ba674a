package jwks

import (
	"errors"
	"testing"
)

// TestErrorFamilies checks that every precise cause wraps the one public
// sentinel a caller acts on, and no other.
func TestErrorFamilies(t *testing.T) {
	t.Parallel()
	public := []error{ErrNoKey, ErrInvalidConfig, ErrNoActiveKey, ErrSignature, ErrUnknownKey, ErrFetch}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"malformed key", errMalformedKey, ErrInvalidConfig},
		{"encrypted key", errEncryptedKey, ErrInvalidConfig},
		{"multiple keys", errMultipleKeys, ErrInvalidConfig},
		{"not a private key", errNotPrivateKey, ErrInvalidConfig},
		{"weak key", errWeakKey, ErrInvalidConfig},
		{"unsupported key", errUnsupportedKey, ErrInvalidConfig},
		{"algorithm mismatch", errAlgorithmMismatch, ErrInvalidConfig},
		{"invalid key", errInvalidKey, ErrInvalidConfig},
		{"not exportable", errNotExportable, ErrInvalidConfig},
		{"invalid ring", errInvalidRing, ErrInvalidConfig},
		{"malformed JWS", errMalformedJWS, ErrSignature},
		{"refused algorithm", errRefusedAlgorithm, ErrSignature},
	}
	for _, tc := range tests {
		for _, p := range public {
			if got, want := errors.Is(tc.err, p), p == tc.want; got != want {
				t.Errorf("errors.Is(%s, %v) = %v, want %v", tc.name, p, got, want)
			}
		}
	}
}
