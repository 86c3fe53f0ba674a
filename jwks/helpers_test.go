package jwks

import (
	"encoding/asn1"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// keyCache holds parsed test keys: a Key is immutable, and parsing RSA keys
// (validation, precomputation, self-test) is the slow part of many tests.
var keyCache sync.Map // name -> *Key

// testKey returns the named testkeys key parsed with a zero KeyConfig.
func testKey(t testing.TB, name string) *Key {
	t.Helper()
	if k, ok := keyCache.Load(name); ok {
		return k.(*Key)
	}
	k, err := ParsePEM(testkeys.PEM(name), KeyConfig{})
	if err != nil {
		t.Fatalf("ParsePEM(%s) error = %v", name, err)
	}
	keyCache.Store(name, k)
	return k
}

func asn1MarshalStruct(v any) ([]byte, error) { return asn1.Marshal(v) }
