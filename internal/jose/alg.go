package jose

import (
	"crypto"
	"crypto/elliptic"
	"strings"
)

// Alg describes how a JWS algorithm (RFC 7518 §3.1, RFC 8037, RFC 9864)
// signs.
type Alg struct {
	Name  string
	Kty   string      // "RSA", "EC" or "OKP"
	Hash  crypto.Hash // zero for EdDSA and Ed25519
	PSS   bool
	Curve elliptic.Curve // ES*: the curve
	Size  int            // ES*: bytes of R and of S
}

var algs = [...]Alg{
	{Name: "RS256", Kty: "RSA", Hash: crypto.SHA256},
	{Name: "RS384", Kty: "RSA", Hash: crypto.SHA384},
	{Name: "RS512", Kty: "RSA", Hash: crypto.SHA512},
	{Name: "PS256", Kty: "RSA", Hash: crypto.SHA256, PSS: true},
	{Name: "PS384", Kty: "RSA", Hash: crypto.SHA384, PSS: true},
	{Name: "PS512", Kty: "RSA", Hash: crypto.SHA512, PSS: true},
	{Name: "ES256", Kty: "EC", Hash: crypto.SHA256, Curve: elliptic.P256(), Size: 32},
	{Name: "ES384", Kty: "EC", Hash: crypto.SHA384, Curve: elliptic.P384(), Size: 48},
	{Name: "ES512", Kty: "EC", Hash: crypto.SHA512, Curve: elliptic.P521(), Size: 66},
	{Name: "EdDSA", Kty: "OKP"},
	// RFC 9864 §2.2: the fully-specified name of EdDSA over Ed25519, the
	// same signature as "EdDSA" with an Ed25519 key. The two names are
	// separate entries: an allow-list, a key's "alg" and a provider's list
	// name one or the other, compared exactly.
	{Name: "Ed25519", Kty: "OKP"},
}

// Lookup returns the supported asymmetric algorithm named exactly name
// ("rs256" is not RS256).
func Lookup(name string) (*Alg, bool) {
	for i := range algs {
		if algs[i].Name == name {
			return &algs[i], true
		}
	}
	return nil, false
}

// Names lists the supported algorithms, in a fixed order.
func Names() []string {
	l := make([]string, len(algs))
	for i := range algs {
		l[i] = algs[i].Name
	}
	return l
}

// Refused reports whether name is "none" or an HMAC algorithm in any letter
// case: algorithms never accepted, whatever an allow-list says.
func Refused(name string) bool {
	return strings.EqualFold(name, "none") || (len(name) >= 2 && strings.EqualFold(name[:2], "HS"))
}

// Allowed returns the entry of allow equal to name, compared exactly. none
// and HMAC algorithms are always ErrAlgorithm.
func Allowed(name []byte, allow []string) (string, error) {
	for _, a := range allow {
		if a == string(name) && !Refused(a) {
			return a, nil
		}
	}
	if Refused(string(name)) {
		return "", newError(ErrAlgorithm, "algorithm "+Quote(string(name))+" is none or HMAC, never accepted")
	}
	return "", newError(ErrAlgorithm, "algorithm "+Quote(string(name))+" is not in the allow-list "+strings.Join(allow, ", "))
}
