package testkeys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/pem"
	"slices"
	"testing"
)

func TestEveryKeyLoads(t *testing.T) {
	t.Parallel()
	want := []string{Ed25519A, Ed25519B, P256A, P256B, P256ShortX, P384, P521, RSA1024, RSA2048A, RSA2048B, RSA2048C, RSA3072, RSA4096}
	slices.Sort(want)
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	for _, name := range Names() {
		raw, err := files.ReadFile("testdata/" + name + ".pem")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte("TESTING KEY")) || bytes.Contains(raw, []byte("PRIVATE KEY")) {
			t.Errorf("%s: the stored file must be labelled TESTING KEY only", name)
		}
		blk, rest := pem.Decode(PEM(name))
		if blk == nil || blk.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
			t.Errorf("PEM(%s) is not exactly one PRIVATE KEY block", name)
		}
		if Signer(name) == nil {
			t.Errorf("Signer(%s) = nil", name)
		}
	}
}

func TestKeyProperties(t *testing.T) {
	t.Parallel()
	for name, bits := range map[string]int{RSA1024: 1024, RSA2048A: 2048, RSA2048B: 2048, RSA2048C: 2048, RSA3072: 3072, RSA4096: 4096} {
		if got := Signer(name).(*rsa.PrivateKey).N.BitLen(); got != bits {
			t.Errorf("%s has %d bits, want %d", name, got, bits)
		}
	}
	for name, curve := range map[string]string{P256A: "P-256", P256B: "P-256", P256ShortX: "P-256", P384: "P-384", P521: "P-521"} {
		if got := Signer(name).(*ecdsa.PrivateKey).Curve.Params().Name; got != curve {
			t.Errorf("%s is on %s, want %s", name, got, curve)
		}
	}
	for _, name := range []string{Ed25519A, Ed25519B} {
		if _, ok := Signer(name).(ed25519.PrivateKey); !ok {
			t.Errorf("%s is a %T, want ed25519.PrivateKey", name, Signer(name))
		}
	}
	raw, err := Signer(P256ShortX).Public().(*ecdsa.PublicKey).Bytes()
	if err != nil || raw[1] != 0 {
		t.Errorf("P256ShortX: X must start with a zero byte")
	}
	// Keys with the same type differ.
	if Signer(RSA2048A).(*rsa.PrivateKey).Equal(Signer(RSA2048B)) || Signer(P256A).(*ecdsa.PrivateKey).Equal(Signer(P256B)) {
		t.Errorf("two test keys are the same key")
	}
}

func TestUnknownNamePanics(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"PEM":    func() { PEM("no-such-key") },
		"Signer": func() { Signer("no-such-key") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(unknown) did not panic", name)
				}
			}()
			f()
		}()
	}
}
