// Package testkeys holds private keys generated ahead of time for tests, so
// that no test pays for RSA key generation unless generation is what it tests.
//
// The PEM files under testdata carry the label "TESTING KEY" so that secret
// scanners do not flag them; [PEM] rewrites the label to "PRIVATE KEY" when a
// key is loaded. These keys are public: never use them outside tests.
package testkeys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
)

// Names of the pre-generated keys. Every key is stored as PKCS#8.
const (
	RSA2048A   = "rsa2048-a"
	RSA2048B   = "rsa2048-b"
	RSA2048C   = "rsa2048-c"
	RSA3072    = "rsa3072"
	RSA4096    = "rsa4096"
	RSA1024    = "rsa1024" // too small: for refusal tests only
	P256A      = "p256-a"
	P256B      = "p256-b"
	P256ShortX = "p256-shortx" // its X coordinate has a leading zero byte
	P384       = "p384"
	P521       = "p521"
	Ed25519A   = "ed25519-a"
	Ed25519B   = "ed25519-b"
)

//go:embed testdata/*.pem
var files embed.FS

// Names lists every key name, sorted.
func Names() []string {
	ents, err := files.ReadDir("testdata")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".pem"))
	}
	sort.Strings(out)
	return out
}

// PEM returns the named key as a PKCS#8 "PRIVATE KEY" PEM block. It panics
// on an unknown name.
func PEM(name string) []byte {
	b, err := files.ReadFile("testdata/" + name + ".pem")
	if err != nil {
		panic(fmt.Sprintf("testkeys: unknown key %q", name))
	}
	return bytes.ReplaceAll(b, []byte("TESTING KEY"), []byte("PRIVATE KEY"))
}

// Signer returns the named key parsed. It panics on an unknown name.
func Signer(name string) crypto.Signer {
	blk, _ := pem.Decode(PEM(name))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		panic(fmt.Sprintf("testkeys: parse %q: %v", name, err))
	}
	return k.(crypto.Signer)
}
