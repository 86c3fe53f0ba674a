package jwks

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

// The standard library reports an unknown curve or algorithm only in an
// error string. These decode just enough of the structure to tell "a key we
// do not use" from "bytes that are not a key", without reading error text.

var (
	oidPublicKeyRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidPublicKeyECDSA   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPublicKeyEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidCurves           = map[string]bool{
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
			return "an EC key on curve " + curve.String()
		}
		return ""
	case p8.Algo.Algorithm.Equal(oidPublicKeyRSA), p8.Algo.Algorithm.Equal(oidPublicKeyEd25519):
		return ""
	}
	return "a key of algorithm " + p8.Algo.Algorithm.String()
}

// unsupportedSEC1 reports whether der is a well-formed SEC1 EC key on a
// curve we do not use.
func unsupportedSEC1(der []byte) bool {
	var k struct {
		Version       int
		PrivateKey    []byte
		NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return false
	}
	return len(k.NamedCurveOID) > 0 && !oidCurves[k.NamedCurveOID.String()]
}
