package jwks

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// The standard library reports an unknown curve or algorithm only in an
// error string. These decode just enough of the structure to tell "a key we
// do not use" from "bytes that are not a key", without reading error text.

var (
	oidPublicKeyRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidPublicKeyECDSA   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPublicKeyEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	// curveNames names curves seen in the wild, for error messages.
	curveNames = map[string]string{
		"1.3.132.0.10":          "secp256k1",
		"1.3.132.0.33":          "P-224",
		"1.2.840.10045.3.1.1":   "P-192",
		"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
		"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
		"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
	}
	oidCurves = map[string]bool{
		"1.2.840.10045.3.1.7": true, // P-256
		"1.3.132.0.34":        true, // P-384
		"1.3.132.0.35":        true, // P-521
	}
)

// unsupportedPKCS8 describes the key when der is a well-formed PKCS#8
// structure for a key type or curve we do not use, and returns "" otherwise.
func unsupportedPKCS8(der []byte) string {
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &p8); err != nil || len(rest) != 0 {
		return ""
	}
	switch {
	case p8.Algo.Algorithm.Equal(oidPublicKeyECDSA):
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(p8.Algo.Parameters.FullBytes, &curve); err == nil && !oidCurves[curve.String()] {
			return "an EC key on curve " + curveName(curve)
		}
		return ""
	case p8.Algo.Algorithm.Equal(oidPublicKeyRSA), p8.Algo.Algorithm.Equal(oidPublicKeyEd25519):
		return ""
	}
	return "a key of algorithm " + p8.Algo.Algorithm.String()
}

func curveName(oid asn1.ObjectIdentifier) string {
	if n, ok := curveNames[oid.String()]; ok {
		return n + " (" + oid.String() + ")"
	}
	return oid.String()
}

// unsupportedSEC1 describes the curve when der is a well-formed SEC1 EC key
// on a curve we do not use, and returns "" otherwise.
func unsupportedSEC1(der []byte) string {
	var k struct {
		Version       int
		PrivateKey    []byte
		NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil || len(k.NamedCurveOID) == 0 || oidCurves[k.NamedCurveOID.String()] {
		return ""
	}
	return curveName(k.NamedCurveOID)
}

// pkcs8RSA returns the PKCS#1 key inside a PKCS#8 structure for RSA, or nil.
func pkcs8RSA(der []byte) []byte {
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(der, &p8); err != nil || !p8.Algo.Algorithm.Equal(oidPublicKeyRSA) {
		return nil
	}
	return p8.PrivateKey
}

// classifyRSA explains why the standard library refused a well-formed
// PKCS#1 RSA key: too small (crypto/x509 refuses keys below 1024 bits by
// itself), or components that do not fit together. It returns nil when der
// is not a well-formed PKCS#1 structure, which is then malformed.
func classifyRSA(der []byte) error {
	if der == nil {
		return nil
	}
	var k struct {
		Version int
		N       *big.Int
		E       int
		D       *big.Int
		P       *big.Int
		Q       *big.Int
		Dp      *big.Int        `asn1:"optional"`
		Dq      *big.Int        `asn1:"optional"`
		Qinv    *big.Int        `asn1:"optional"`
		Rest    []asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N == nil || k.N.Sign() <= 0 {
		return nil
	}
	if k.Version > 0 || len(k.Rest) > 0 {
		return fmt.Errorf("jwks: multi-prime RSA key; only two-prime keys are accepted: %w", errUnsupportedKey)
	}
	if err := checkSigningRSABits(k.N.BitLen()); err != nil {
		return err
	}
	return fmt.Errorf("jwks: RSA key components are inconsistent: %w", errInvalidKey)
}
