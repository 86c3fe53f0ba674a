package exchange

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePARResponse(t *testing.T) {
	const good = `{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}`
	if uri, err := parsePARResponse(201, []byte(good), nil); err != nil || uri != "urn:ietf:params:oauth:request_uri:abc" {
		t.Fatalf("good response: %q, %v", uri, err)
	}
	var te *TokenError
	if _, err := parsePARResponse(400, []byte(`{"error":"invalid_request"}`), nil); !errors.As(err, &te) || !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("error response: %v, want a *TokenError", err)
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"redirect", 307, good},
		{"202", 202, good},
		{"not JSON", 201, `request_uri=urn:x`},
		{"no request_uri", 201, `{"expires_in":60}`},
		{"empty request_uri", 201, `{"request_uri":"","expires_in":60}`},
		{"https request_uri", 201, `{"request_uri":"https://evil.example/r","expires_in":60}`},
		{"request_uri with space", 201, `{"request_uri":"urn:a b","expires_in":60}`},
		{"huge request_uri", 201, `{"request_uri":"urn:` + strings.Repeat("a", 3000) + `","expires_in":60}`},
		{"request_uri number", 201, `{"request_uri":5,"expires_in":60}`},
		{"no expires_in", 201, `{"request_uri":"urn:x:y"}`},
		{"zero expires_in", 201, `{"request_uri":"urn:x:y","expires_in":0}`},
		{"negative expires_in", 201, `{"request_uri":"urn:x:y","expires_in":-5}`},
		{"a year", 201, `{"request_uri":"urn:x:y","expires_in":31536000}`},
		{"repeated member", 201, `{"request_uri":"urn:x:y","request_uri":"urn:x:z","expires_in":60}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parsePARResponse(tc.status, []byte(tc.body), nil); !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("error = %v, want ErrMalformedResponse", err)
			}
		})
	}
}

func TestCheckPAREndpoint(t *testing.T) {
	md := metadata{issuer: "https://as.example", tokenURL: "https://as.example/token"}
	for _, tc := range []struct {
		par string
		ok  bool
	}{
		{"https://as.example/par", true},
		{"https://AS.example:443/par", true},
		{"", false},
		{"https://evil.example/par", false},
		{"http://as.example/par", false},
		{"https://as.example:8443/par", false},
	} {
		md.parURL = tc.par
		if errs := checkPAREndpoint(md); (len(errs) == 0) != tc.ok || (!tc.ok && !errors.Is(errs[0], ErrInvalidConfig)) {
			t.Errorf("checkPAREndpoint(%q) = %v, want ok=%v", tc.par, errs, tc.ok)
		}
	}
}

func FuzzParsePARResponse(f *testing.F) {
	f.Add(201, []byte(`{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}`))
	f.Add(400, []byte(`{"error":"use_dpop_nonce"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		uri, err := parsePARResponse(status, body, nil)
		if err == nil && (!strings.HasPrefix(strings.ToLower(uri), "urn:") || len(uri) > maxRequestURILen) {
			t.Fatalf("accepted request_uri %q", uri)
		}
	})
}
