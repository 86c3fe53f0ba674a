package assertion

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"

	ijose "github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// FuzzAppendJSONString: the hand-written escaper always yields valid JSON
// that decodes to the input (invalid UTF-8 replaced, as encoding/json does).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "\x00\n\u2028", "\xff\xfe", "😀<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString([]byte("x"), s)[1:]
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, got, err)
		}
		var want string
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		if back != want {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, back, want)
		}
	})
}

// FuzzCompactJWS: the shape check of externally minted assertions (the
// contents of a file another system writes) never panics, and whatever it
// accepts has three base64url parts and an asymmetric alg.
func FuzzCompactJWS(f *testing.F) {
	e := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		"", ".", "..", "a.b.c", "a.b.c.d", "eyJ.eyJ.",
		e([]byte(`{"alg":"RS256"}`)) + "." + e([]byte(`{}`)) + ".c2ln",
		e([]byte(`{"alg":"none"}`)) + "." + e([]byte(`{}`)) + ".",
		e([]byte(`{"alg":"HS256"}`)) + "." + e([]byte(`{}`)) + ".c2ln",
		e([]byte(`{"alg":"RS256","alg":"none"}`)) + "." + e([]byte(`{}`)) + ".c2ln",
		e([]byte(`{"alg":["RS256"]}`)) + "." + e([]byte(`[]`)) + ".c2ln",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if compactJWSProblem(s) != "" {
			return
		}
		parts := strings.Split(s, ".")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			t.Fatalf("accepted %q", s)
		}
		hb, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			t.Fatalf("accepted a header that is not base64url: %q", s)
		}
		var h map[string]any
		if err := json.Unmarshal(hb, &h); err != nil {
			t.Fatalf("accepted a header that is not an object: %q", s)
		}
		alg, _ := h["alg"].(string)
		if alg == "" || ijose.Refused(alg) {
			t.Fatalf("accepted alg %q", alg)
		}
	})
}

// FuzzMint mints tokens with arbitrary custom claims, subject and jti. It
// never panics; every token it returns is a compact JWS go-jose verifies,
// whose registered claims are the configured ones and whose custom claims
// round-trip; every refusal is a documented sentinel.
func FuzzMint(f *testing.F) {
	f.Add("email", "ada@example.com", "roles", "admin", "user-1", "")
	f.Add("iss", "evil", "x", "y", "u", "")
	f.Add("ISS", "evil", "", "", "u", "id")
	f.Add("a", "\xff", "a", "dup", "\n", "\x00")
	f.Add("\u017fub", "v", "<>&", `"\`, "😀", "tok_1")
	f.Add("", "", "", "", "", "")
	key, err := jwks.NewKey(f.Context(), testkeys.Signer(testkeys.Ed25519A), jwks.KeyConfig{})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m, err := NewTokenMinter(key, TokenConfig{Issuer: "https://issuer.example", Audience: []string{"aud"}, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, sub, jti string) {
		claims := map[string]any{k1: v1, k2: []any{v2, len(v2), map[string]string{k1: v2}}}
		var opts []Option
		if sub != "" {
			opts = append(opts, WithSubject(sub))
		}
		if jti != "" {
			opts = append(opts, WithJTI(jti))
		}
		tok, err := m.Mint(t.Context(), claims, opts...)
		if err != nil {
			if errors.Is(err, ErrInvalidClaims) {
				for _, cause := range []error{errClaimCollision, errMalformedClaims, errInvalidSubject, errInvalidJTI} {
					if errors.Is(err, cause) {
						return
					}
				}
			}
			t.Fatalf("Mint error = %v, not a documented sentinel and cause", err)
		}
		obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatalf("jose.ParseSigned: %v", err)
		}
		payload, err := obj.Verify(testkeys.PublicJWK(key))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		var got map[string]any
		if err := json.Unmarshal(payload, &got); err != nil {
			t.Fatal(err)
		}
		if got["iss"] != "https://issuer.example" || got["aud"] != "aud" {
			t.Fatalf("registered claims changed: iss %v aud %v", got["iss"], got["aud"])
		}
		if sub != "" && got["sub"] != sub {
			t.Fatalf("sub = %q, want %q", got["sub"], sub)
		}
		if jti != "" && got["jti"] != jti {
			t.Fatalf("jti = %q, want %q", got["jti"], jti)
		}
		// Custom claims round-trip as encoding/json would carry them.
		var want map[string]any
		b, _ := json.Marshal(claims)
		_ = json.Unmarshal(b, &want)
		for k, w := range want {
			gb, _ := json.Marshal(got[k])
			wb, _ := json.Marshal(w)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("claim %q = %s, want %s", k, gb, wb)
			}
		}
		if !utf8.Valid(payload) {
			t.Fatal("payload is not valid UTF-8")
		}
	})
}
