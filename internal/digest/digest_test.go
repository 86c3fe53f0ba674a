package digest

import (
	"bytes"
	"crypto"
	_ "crypto/md5"
	"testing"
)

func TestSum(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{nil, []byte("eyJhbGciOiJSUzI1NiJ9.e30"), bytes.Repeat([]byte{0xff}, 1000)}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, m := range msgs {
			hh := h.New()
			hh.Write(m)
			want := hh.Sum(nil)
			var out [64]byte
			if got := Sum(h, m, &out); !bytes.Equal(got, want) {
				t.Errorf("Sum(%v, %d bytes) = %x, want %x", h, len(m), got, want)
			}
		}
	}
	for _, h := range []crypto.Hash{0, crypto.MD5, crypto.SHA224, crypto.SHA512_256} {
		var out [64]byte
		if got := Sum(h, []byte("x"), &out); got != nil {
			t.Errorf("Sum(%v) = %x, want nil", h, got)
		}
	}
}

func TestSumAllocatesNothing(t *testing.T) {
	msg := []byte("eyJhbGciOiJSUzI1NiJ9.e30")
	var out [64]byte
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if n := testing.AllocsPerRun(100, func() { Sum(h, msg, &out) }); n != 0 {
			t.Errorf("Sum(%v) allocates %v times, want 0", h, n)
		}
	}
}
