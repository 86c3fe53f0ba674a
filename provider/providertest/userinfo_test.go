package providertest_test

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// userinfo GETs the userinfo endpoint with a Bearer token and returns the
// status, media type and body.
func userinfo(t *testing.T, s *providertest.Server, at string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.UserInfoEndpoint(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, mt, b
}

// verifyJWT verifies tok with the server's published keys under alg with
// go-jose and returns its typ header and claims.
func verifyJWT(t *testing.T, s *providertest.Server, tok string, alg jose.SignatureAlgorithm) (string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("ParseSignedCompact: %v", err)
	}
	set := s.PublicKeys()
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("%d published keys for kid %q", len(keys), jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string)
	return typ, c
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	user := providertest.User{Subject: "alice", Claims: map[string]any{"email": "alice@example.com"}}
	for _, tc := range []struct {
		name   string
		alg    jwks.Algorithm
		signed bool
	}{
		{"JSON", "", false},
		{"signed RS256", "", true},
		{"signed ES256", jwks.ES256, true},
		{"signed EdDSA", jwks.EdDSA, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testClient()
			c.UserInfoSigned = tc.signed
			s, _ := newServer(t, providertest.Config{IDTokenAlgorithm: tc.alg, User: user, Clients: []providertest.Client{c}})
			tok := login(t, s, t0)
			alg := jose.SignatureAlgorithm(tc.alg)
			if alg == "" {
				alg = jose.RS256
			}
			_, idc := verifyJWT(t, s, tok["id_token"].(string), alg)
			for _, other := range []bool{false, true} {
				if other {
					s.Misbehave(providertest.UserInfoOtherSubject)
				}
				st, mt, body := userinfo(t, s, tok["access_token"].(string))
				s.Reset()
				if st != 200 {
					t.Fatalf("userinfo: status %d", st)
				}
				var claims map[string]any
				if tc.signed {
					if mt != "application/jwt" {
						t.Errorf("signed userinfo: media type %q, want application/jwt", mt)
					}
					_, claims = verifyJWT(t, s, string(body), alg)
					if claims["iss"] != s.Issuer() || claims["aud"] != clientID {
						t.Errorf("signed userinfo: iss %v aud %v, want %s and %s", claims["iss"], claims["aud"], s.Issuer(), clientID)
					}
				} else {
					if mt != "application/json" {
						t.Errorf("userinfo: media type %q, want application/json", mt)
					}
					if err := json.Unmarshal(body, &claims); err != nil {
						t.Fatalf("userinfo is not JSON: %v", err)
					}
					if _, ok := claims["iss"]; ok {
						t.Errorf("JSON userinfo carries iss")
					}
				}
				if claims["email"] != "alice@example.com" {
					t.Errorf("userinfo email = %v", claims["email"])
				}
				if sameSub := claims["sub"] == idc["sub"]; sameSub == other || claims["sub"] == nil {
					t.Errorf("UserInfoOtherSubject %v: userinfo sub %v, ID token sub %v", other, claims["sub"], idc["sub"])
				}
			}
		})
	}
}
