package jwks

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
)

var b64 = base64.RawURLEncoding

// publicMembers returns the JWK's kty and its public members in RFC 7638
// lexicographic order, values base64url-encoded without padding. EC
// coordinates are left-padded to the curve size; RSA n and e are minimal.
func publicMembers(pub crypto.PublicKey) (kty string, members [][2]string, err error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		e := big.NewInt(int64(p.E)).Bytes()
		return "RSA", [][2]string{{"e", b64.EncodeToString(e)}, {"n", b64.EncodeToString(p.N.Bytes())}}, nil
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, err := p.Bytes() // uncompressed point: 0x04 || X || Y
		if err != nil {
			return "", nil, fmt.Errorf("jwks: EC public key: %v: %w", err, errUnsupportedKey)
		}
		x, y := raw[1:1+size], raw[1+size:]
		return "EC", [][2]string{{"crv", p.Curve.Params().Name}, {"x", b64.EncodeToString(x)}, {"y", b64.EncodeToString(y)}}, nil
	case ed25519.PublicKey:
		return "OKP", [][2]string{{"crv", "Ed25519"}, {"x", b64.EncodeToString(p)}}, nil
	}
	return "", nil, fmt.Errorf("jwks: public key of type %T: %w", pub, errUnsupportedKey)
}

// thumbprint computes the RFC 7638 JWK thumbprint: base64url(SHA-256) of the
// required members in lexicographic order, without white space.
func thumbprint(pub crypto.PublicKey) (string, error) {
	kty, members, err := publicMembers(pub)
	if err != nil {
		return "", err
	}
	// Required members in lexicographic order: crv, e, kty, n, x, y.
	all := append([][2]string{{"kty", kty}}, members...)
	sortMembers(all)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range all {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Quote(m[0]))
		buf.WriteByte(':')
		buf.WriteString(strconv.Quote(m[1]))
	}
	buf.WriteByte('}')
	sum := sha256.Sum256(buf.Bytes())
	return b64.EncodeToString(sum[:]), nil
}

func sortMembers(m [][2]string) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j][0] < m[j-1][0]; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

// marshalPublicJWK writes the public JWK in a fixed member order: kty, kid,
// use, alg, then the key's public members. Only public members are ever
// written.
func marshalPublicJWK(pub crypto.PublicKey, kid string, alg Algorithm) ([]byte, error) {
	kty, members, err := publicMembers(pub)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"kty":`)
	buf.WriteString(strconv.Quote(kty))
	buf.WriteString(`,"kid":`)
	writeJSONString(&buf, kid)
	buf.WriteString(`,"use":"sig","alg":`)
	writeJSONString(&buf, string(alg))
	if kty == "RSA" {
		// Conventional order: n before e.
		members = [][2]string{members[1], members[0]}
	}
	for _, m := range members {
		buf.WriteString(`,"` + m[0] + `":"` + m[1] + `"`)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
