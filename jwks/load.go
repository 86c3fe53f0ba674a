package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// maxKeyInput bounds every key input; the largest accepted key (RSA 4096 as
// PEM or JWK) is well below it, and so is an RSA 8192 key, which is refused
// with a reason rather than as oversize.
const maxKeyInput = 64 << 10

// ParsePEM parses a private key from PEM: PKCS#8 ("PRIVATE KEY"), PKCS#1
// ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"). Exactly one key block must
// be present; text outside blocks is ignored. RSA keys are validated and
// precomputed once here.
//
// The PEM may also come base64-encoded, as the provider guides produce it:
// `openssl genpkey … | openssl base64` (wrapped at 64 columns) or
// `base64 < key.pem` (one line). Line breaks (LF or CRLF), surrounding white
// space and a trailing newline are tolerated; standard and URL-safe
// alphabets, padded or not, are accepted. A PEM whose line breaks are
// written as the two characters \n on a single line is accepted too.
//
// Errors wrap ErrNoKey (no key at all) or ErrInvalidConfig (a block or a
// base64 value that does not decode, an encrypted key, a second key block, a
// public key or certificate, an RSA key below 2048 or above 4096 bits, an
// unsupported key type or curve, an algorithm that does not fit the key,
// inconsistent key components), and never contain key bytes.
func ParsePEM(data []byte, cfg KeyConfig) (*Key, error) {
	if len(data) > maxKeyInput*2 {
		return nil, fmt.Errorf("jwks: key input of %d bytes exceeds %d: %w", len(data), maxKeyInput*2, errMalformedKey)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("jwks: empty key input: %w", ErrNoKey)
	}
	if bytes.Contains(trimmed, []byte("-----BEGIN")) {
		// A PEM pasted into a one-line variable with its line breaks
		// written as the two characters \n (as JSON-escaped service
		// account keys are).
		if !bytes.Contains(trimmed, []byte(`\n`)) || bytes.ContainsRune(trimmed, '\n') {
			return parsePEMBlock(trimmed, cfg)
		}
		unescaped := bytes.ReplaceAll(bytes.ReplaceAll(trimmed, []byte(`\r\n`), []byte("\n")), []byte(`\n`), []byte("\n"))
		defer clear(unescaped)
		return parsePEMBlock(unescaped, cfg)
	}
	compact := bytes.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', ' ', '\t':
			return -1
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, trimmed)
	defer clear(compact)
	compact = bytes.TrimRight(compact, "=")
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(compact)))
	defer clear(raw)
	n, err := base64.RawStdEncoding.Decode(raw, compact)
	if err != nil {
		return nil, fmt.Errorf("jwks: the value is neither PEM nor base64 of a PEM (bad base64 near byte %d); produce it with `openssl base64 < key.pem`: %w", base64Offset(err), errMalformedKey)
	}
	raw = raw[:n]
	if !bytes.Contains(raw, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("jwks: no PEM block found, and the base64 value does not decode to one; expected -----BEGIN PRIVATE KEY----- or its base64: %w", ErrNoKey)
	}
	return parsePEMBlock(raw, cfg)
}

// parsePEMBlock parses exactly one PEM private key block from data.
func parsePEMBlock(data []byte, cfg KeyConfig) (*Key, error) {
	if len(data) > maxKeyInput {
		return nil, fmt.Errorf("jwks: key input of %d bytes exceeds %d: %w", len(data), maxKeyInput, errMalformedKey)
	}
	var found *pem.Block
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if found != nil {
			return nil, fmt.Errorf("jwks: found a second PEM block %q after %q; give exactly one private key: %w", shortLabel(blk.Type), shortLabel(found.Type), errMultipleKeys)
		}
		found = blk
	}
	if found == nil {
		if bytes.Contains(data, []byte("-----BEGIN ")) {
			return nil, fmt.Errorf("jwks: a PEM block starts but does not decode (bad base64 or no matching END line): %w", errMalformedKey)
		}
		return nil, fmt.Errorf("jwks: no PEM block found; expected -----BEGIN PRIVATE KEY-----: %w", ErrNoKey)
	}
	if _, ok := found.Headers["Proc-Type"]; ok || found.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("jwks: PEM block %q is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem): %w", shortLabel(found.Type), errEncryptedKey)
	}
	signer, err := parseDER(found.Type, found.Bytes)
	if err != nil {
		return nil, err
	}
	return NewKey(context.Background(), signer, cfg)
}

func parseDER(label string, der []byte) (crypto.Signer, error) {
	switch label {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			if what := unsupportedPKCS8(der); what != "" {
				return nil, fmt.Errorf("jwks: PKCS#8 key is %s; use RSA, P-256, P-384, P-521 or Ed25519: %w", what, errUnsupportedKey)
			}
			if err := classifyRSA(pkcs8RSA(der)); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("jwks: PKCS#8 private key does not parse: %w", errMalformedKey)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("jwks: PKCS#8 key of type %T: %w", k, errUnsupportedKey)
		}
		return s, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			if err := classifyRSA(der); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("jwks: PKCS#1 RSA private key does not parse: %w", errMalformedKey)
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			if curve := unsupportedSEC1(der); curve != "" {
				return nil, fmt.Errorf("jwks: SEC1 EC key on curve %s; use P-256, P-384 or P-521: %w", curve, errUnsupportedKey)
			}
			return nil, fmt.Errorf("jwks: SEC1 EC private key does not parse: %w", errMalformedKey)
		}
		return k, nil
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", "EC PUBLIC KEY":
		return nil, fmt.Errorf("jwks: found a %q PEM block, but a private key is needed (-----BEGIN PRIVATE KEY-----): %w", label, errNotPrivateKey)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("jwks: PEM block is encrypted: %w", errEncryptedKey)
	}
	return nil, fmt.Errorf("jwks: found a %q PEM block; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY: %w", shortLabel(label), ErrNoKey)
}

// shortLabel shortens an untrusted or long string (a PEM label, a key ID)
// for an error message; callers quote it with %q.
func shortLabel(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func base64Offset(err error) int64 {
	if e, ok := err.(base64.CorruptInputError); ok {
		return int64(e)
	}
	return -1
}

// LoadPEMEnv reads the environment variable name, which holds a base64 PEM
// or a plain PEM (see [ParsePEM]), and parses the private key. An unset
// or empty variable wraps ErrNoKey; the message names the variable, never its
// value.
func LoadPEMEnv(name string, cfg KeyConfig) (*Key, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("jwks: environment variable %s is not set or empty; set it to the base64 of a PEM private key: %w", name, ErrNoKey)
	}
	k, err := ParsePEM([]byte(v), cfg)
	if err != nil {
		return nil, fmt.Errorf("jwks: environment variable %s: %w", name, err)
	}
	return k, nil
}

// LoadPEMFile reads a PEM private key from the file at path. Errors are those
// of [ParsePEM] and of reading the file.
func LoadPEMFile(path string, cfg KeyConfig) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyInput+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: read %s: %w", path, err)
	}
	k, err := ParsePEM(b, cfg)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("jwks: file %s: %w", path, err)
	}
	return k, nil
}

// ParseJWK parses a private key from a JWK (RFC 7517): RSA with d, p, q and
// the CRT members, EC with d, or OKP Ed25519 with d. When cfg leaves them
// zero, the JWK's own "alg" and "kid" are used. A public JWK and a
// symmetric ("oct") key wrap ErrInvalidConfig. Other errors are those of
// [ParsePEM].
func ParseJWK(data []byte, cfg KeyConfig) (*Key, error) {
	if len(data) > maxKeyInput {
		return nil, fmt.Errorf("jwks: key input of %d bytes exceeds %d: %w", len(data), maxKeyInput, errMalformedKey)
	}
	var head struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		// RSA members, to explain a refusal by go-jose.
		N string `json:"n"`
		E string `json:"e"`
		D string `json:"d"`
		P string `json:"p"`
		Q string `json:"q"`
	}
	// The module's one JSON reader: a repeated member (two "d", say) or a
	// member spelled in another case is malformed, not silently resolved.
	if err := jose.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("jwks: JWK is not a JSON object of string members (%v): %w", err, errMalformedKey)
	}
	switch head.Kty {
	case "RSA", "EC", "OKP":
	case "oct":
		return nil, fmt.Errorf("jwks: JWK of kty \"oct\" is a symmetric key; use an RSA, EC or OKP key: %w", errUnsupportedKey)
	case "":
		return nil, fmt.Errorf("jwks: JWK has no kty: %w", errMalformedKey)
	default:
		return nil, fmt.Errorf("jwks: JWK of kty %q: %w", shortLabel(head.Kty), errUnsupportedKey)
	}
	if head.Kty == "EC" && head.Crv != "P-256" && head.Crv != "P-384" && head.Crv != "P-521" {
		return nil, fmt.Errorf("jwks: JWK on curve %q; use P-256, P-384 or P-521: %w", shortLabel(head.Crv), errUnsupportedKey)
	}
	if head.Kty == "OKP" && head.Crv != "Ed25519" {
		return nil, fmt.Errorf("jwks: OKP JWK on curve %q; only Ed25519 signs: %w", shortLabel(head.Crv), errUnsupportedKey)
	}
	if head.Kty == "RSA" {
		// go-jose refuses moduli above 4096 bits with an untyped error;
		// say why before it does.
		if n, err := base64.RawURLEncoding.DecodeString(head.N); err == nil && len(n) > 0 {
			if err := checkSigningRSABits(new(big.Int).SetBytes(n).BitLen()); err != nil {
				return nil, err
			}
		}
	}
	var jwk gojose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		if head.Kty == "RSA" {
			if err := classifyRSAJWK(head.N, head.E, head.D, head.P, head.Q); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("jwks: JWK does not parse (%v): %w", err, errMalformedKey)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("jwks: JWK has \"use\" %q; a signing key needs \"sig\": %w", shortLabel(jwk.Use), errAlgorithmMismatch)
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("jwks: the JWK is public (no \"d\"); a private key is needed: %w", errNotPrivateKey)
	}
	if cfg.Algorithm == "" && jwk.Algorithm != "" {
		cfg.Algorithm = Algorithm(jwk.Algorithm)
	}
	if cfg.KeyID == "" {
		cfg.KeyID = jwk.KeyID
	}
	var signer crypto.Signer
	switch k := jwk.Key.(type) {
	case *rsa.PrivateKey:
		signer = k
	case *ecdsa.PrivateKey:
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return nil, fmt.Errorf("jwks: JWK key of type %T: %w", jwk.Key, errUnsupportedKey)
	}
	return NewKey(context.Background(), signer, cfg)
}

// classifyRSAJWK explains why go-jose refused an RSA JWK whose members are
// all present and decode: too small, or components that do not fit
// together. It returns nil otherwise, which is then malformed.
func classifyRSAJWK(n, e, d, p, q string) error {
	var ints []*big.Int
	for _, m := range []string{n, e, d, p, q} {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || len(b) == 0 {
			return nil
		}
		ints = append(ints, new(big.Int).SetBytes(b))
	}
	if err := checkSigningRSABits(ints[0].BitLen()); err != nil {
		return err
	}
	return fmt.Errorf("jwks: RSA key components are inconsistent: %w", errInvalidKey)
}
