package provider_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

func TestDiscoverAccessors(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t, testKey(t, testkeys.RSA2048A, "a"))
	p := f.discover(t, provider.Config{ClientAuthAlgorithm: jwks.RS256})
	u := f.issuer()
	checks := []struct{ name, got, want string }{
		{"Issuer", p.Issuer(), u},
		{"AuthorizationEndpoint", p.Metadata().AuthorizationEndpoint, u + "/authorize"},
		{"TokenEndpoint", p.Metadata().TokenEndpoint, u + "/token"},
		{"JWKSURL", p.Metadata().JWKSURL, u + "/jwks"},
		{"UserInfoEndpoint", p.Metadata().UserInfoEndpoint, u + "/userinfo"},
		{"EndSessionEndpoint", p.Metadata().EndSessionEndpoint, u + "/logout"},
		{"RevocationEndpoint", p.Metadata().RevocationEndpoint, u + "/revoke"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s() = %q, want %q", c.name, c.got, c.want)
		}
	}
	if e := p.Endpoint(); e.AuthStyle != oauth2.AuthStyleInParams || e.TokenURL != u+"/token" || e.AuthURL != u+"/authorize" {
		t.Errorf("Endpoint() = %+v", e)
	}
	if !p.Metadata().ISSParameterSupported {
		t.Error("ISSParameterSupported() = false")
	}
	m := p.Metadata().CodeChallengeMethods
	if len(m) != 1 || m[0] != "S256" {
		t.Errorf("CodeChallengeMethods() = %q", m)
	}
	m[0] = "plain"
	if p.Metadata().CodeChallengeMethods[0] != "S256" {
		t.Error("CodeChallengeMethods returned the provider's own slice")
	}
	if c := provider.BoundedClientForTest(p); c == http.DefaultClient || c.Timeout == 0 {
		t.Errorf("the provider's client is unbounded: %+v", c)
	}
}

func TestDiscoverErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		cfg     provider.Config
		wantErr error
	}{
		{name: "issuer mismatch", edit: func(m map[string]any) { m["issuer"] = m["issuer"].(string) + "/" }, wantErr: provider.ErrIssuerMismatchForTest},
		{name: "issuer case differs", edit: func(m map[string]any) { m["issuer"] = strings.Replace(m["issuer"].(string), "http", "HTTP", 1) }, wantErr: provider.ErrIssuerMismatchForTest},
		{name: "issuer missing", edit: func(m map[string]any) { delete(m, "issuer") }, wantErr: provider.ErrInvalidMetadata},
		{name: "issuer not a string", edit: func(m map[string]any) { m["issuer"] = 5 }, wantErr: provider.ErrInvalidMetadata},
		{name: "jwks_uri missing", edit: func(m map[string]any) { delete(m, "jwks_uri") }, wantErr: provider.ErrInvalidMetadata},
		{name: "token_endpoint missing", edit: func(m map[string]any) { delete(m, "token_endpoint") }, wantErr: provider.ErrInvalidMetadata},
		{name: "authorization_endpoint null", edit: func(m map[string]any) { m["authorization_endpoint"] = nil }, wantErr: provider.ErrInvalidMetadata},
		{name: "response_types_supported a string", edit: func(m map[string]any) { m["response_types_supported"] = "code" }, wantErr: provider.ErrInvalidMetadata},
		{name: "subject_types_supported missing", edit: func(m map[string]any) { delete(m, "subject_types_supported") }, wantErr: provider.ErrInvalidMetadata},
		{name: "id_token algs empty", edit: func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []string{} }, wantErr: provider.ErrInvalidMetadata},
		{name: "iss parameter not a bool", edit: func(m map[string]any) { m["authorization_response_iss_parameter_supported"] = "true" }, wantErr: provider.ErrInvalidMetadata},
		{name: "http token endpoint off loopback", edit: func(m map[string]any) { m["token_endpoint"] = "http://idp.example/token" }, wantErr: provider.ErrInsecureEndpointForTest},
		{name: "http PAR endpoint off loopback", edit: func(m map[string]any) { m["pushed_authorization_request_endpoint"] = "http://idp.example/par" }, wantErr: provider.ErrInsecureEndpointForTest},
		{name: "http introspection endpoint off loopback", edit: func(m map[string]any) { m["introspection_endpoint"] = "http://idp.example/introspect" }, wantErr: provider.ErrInsecureEndpointForTest},
		{name: "require PAR not a bool", edit: func(m map[string]any) { m["require_pushed_authorization_requests"] = "true" }, wantErr: provider.ErrInvalidMetadata},
		{name: "DPoP algs not a list", edit: func(m map[string]any) { m["dpop_signing_alg_values_supported"] = "ES256" }, wantErr: provider.ErrInvalidMetadata},
		{name: "ISSUER in upper case is not issuer", edit: func(m map[string]any) { m["ISSUER"] = m["issuer"]; delete(m, "issuer") }, wantErr: provider.ErrInvalidMetadata},
		{name: "jwks_uri relative", edit: func(m map[string]any) { m["jwks_uri"] = "/jwks" }, wantErr: provider.ErrInsecureEndpointForTest},
		{name: "auth methods absent", edit: func(m map[string]any) { delete(m, "token_endpoint_auth_methods_supported") }, cfg: provider.Config{ClientAuthAlgorithm: jwks.RS256}, wantErr: provider.ErrPrivateKeyJWTUnsupported},
		{name: "auth methods without private_key_jwt", edit: func(m map[string]any) {
			m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_jwt"}
		}, cfg: provider.Config{ClientAuthAlgorithm: jwks.ES256}, wantErr: provider.ErrPrivateKeyJWTUnsupported},
		{name: "auth alg not listed", cfg: provider.Config{ClientAuthAlgorithm: jwks.PS256}, wantErr: provider.ErrPrivateKeyJWTUnsupported},
		{name: "auth algs list only HS256", edit: func(m map[string]any) {
			m["token_endpoint_auth_signing_alg_values_supported"] = []string{"HS256", "none"}
		}, cfg: provider.Config{ClientAuthAlgorithm: jwks.RS256}, wantErr: provider.ErrPrivateKeyJWTUnsupported},
		{name: "auth algs absent accepts any", edit: func(m map[string]any) { delete(m, "token_endpoint_auth_signing_alg_values_supported") }, cfg: provider.Config{ClientAuthAlgorithm: jwks.PS256}},
		{name: "no pre-flight without algorithm", edit: func(m map[string]any) { delete(m, "token_endpoint_auth_methods_supported") }},
		{name: "insecure override", edit: func(m map[string]any) { delete(m, "token_endpoint_auth_methods_supported") }, cfg: provider.Config{ClientAuthAlgorithm: jwks.RS256, InsecureSkipClientAuthCheck: true}},
		{name: "unknown members ignored", edit: func(m map[string]any) { m["x_vendor"] = map[string]any{"a": []int{1}} }},
		{name: "oversize", edit: func(m map[string]any) { m["padding"] = strings.Repeat("x", 2000) }, cfg: provider.Config{MaxBodyBytes: 1500}, wantErr: httpread.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIDP(t, testKey(t, testkeys.RSA2048A, "a"))
			if tc.edit != nil {
				f.edit(tc.edit)
			}
			p, err := provider.Discover(t.Context(), f.issuer(), tc.cfg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Discover(%q) error = %v, want nil", tc.name, err)
				}
				p.Close()
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Discover(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
		})
	}
}

func TestDiscoverConfig(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t)
	tests := []struct {
		name string
		cfg  provider.Config
	}{
		{"HS256 client auth", provider.Config{ClientAuthAlgorithm: "HS256"}},
		{"none client auth", provider.Config{ClientAuthAlgorithm: "none"}},
		{"unknown client auth", provider.Config{ClientAuthAlgorithm: "RS1"}},
		{"negative MaxBodyBytes", provider.Config{MaxBodyBytes: -1}},
		{"negative KeySet.MaxAge", provider.Config{KeySet: jwks.RemoteConfig{MaxAge: -time.Minute}}},
	}
	for _, tc := range tests {
		_, err := provider.Discover(t.Context(), f.issuer(), tc.cfg)
		if !errors.Is(err, provider.ErrInvalidConfig) {
			t.Errorf("Discover(%q) error = %v, want %v", tc.name, err, provider.ErrInvalidConfig)
		}
	}
}

// TestPreciseCauses checks that each precise cause the tests look for is
// reported under the public sentinel its callers act on.
func TestPreciseCauses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cause, under error
	}{
		{"insecure issuer", provider.ErrInsecureIssuerForTest, provider.ErrInvalidConfig},
		{"insecure endpoint", provider.ErrInsecureEndpointForTest, provider.ErrInvalidMetadata},
		{"issuer mismatch", provider.ErrIssuerMismatchForTest, provider.ErrInvalidMetadata},
		{"unsupported header", provider.ErrUnsupportedHeaderForTest, provider.ErrMalformedToken},
		{"missing subject", provider.ErrMissingSubjectForTest, provider.ErrMalformedToken},
		{"missing iat", provider.ErrMissingIssuedAtForTest, provider.ErrMalformedToken},
		{"iat in the future", provider.ErrIssuedInFutureForTest, provider.ErrTokenNotYetValid},
		{"azp", provider.ErrInvalidAuthorizedPartyForTest, provider.ErrInvalidAudience},
	}
	for _, tc := range tests {
		if !errors.Is(tc.cause, tc.under) {
			t.Errorf("%s: %v does not wrap %v", tc.name, tc.cause, tc.under)
		}
	}
}

func TestDiscoverClientAuthError(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t)
	_, err := provider.Discover(t.Context(), f.issuer(), provider.Config{ClientAuthAlgorithm: jwks.EdDSA})
	var ce *provider.ClientAuthError
	if !errors.As(err, &ce) {
		t.Fatalf("Discover error = %v, want a *ClientAuthError", err)
	}
	if ce.Algorithm != jwks.EdDSA || len(ce.Algorithms) != 2 || !strings.Contains(err.Error(), "EdDSA") {
		t.Fatalf("ClientAuthError = %+v (%v)", ce, err)
	}
	// With the override the failure is logged instead.
	var logs bytes.Buffer
	p, err := provider.Discover(t.Context(), f.issuer(), provider.Config{ClientAuthAlgorithm: jwks.EdDSA, InsecureSkipClientAuthCheck: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.Contains(logs.String(), "InsecureSkipClientAuthCheck") {
		t.Fatalf("no warning logged: %q", logs.String())
	}
}

func TestDiscoverIssuerURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer  string
		wantErr error
	}{
		{"http://idp.example", provider.ErrInsecureIssuerForTest},
		{"ftp://idp.example", provider.ErrInsecureIssuerForTest},
		{"https://idp.example?x=1", provider.ErrInsecureIssuerForTest},
		{"https://idp.example#f", provider.ErrInsecureIssuerForTest},
		{"https://user:pw@idp.example", provider.ErrInsecureIssuerForTest},
		{"idp.example", provider.ErrInsecureIssuerForTest},
		{"", provider.ErrInsecureIssuerForTest},
		{"http://idp.example", provider.ErrInvalidConfig},
		{"https://idp.example?x=1", provider.ErrInvalidConfig},
	}
	for _, tc := range tests {
		_, err := provider.Discover(t.Context(), tc.issuer, provider.Config{})
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("Discover(%q) error = %v, want %v", tc.issuer, err, tc.wantErr)
		}
	}
}

// TestDiscoverIssuerWithPath checks the trailing-slash rule of OIDC
// Discovery §4: the slash is removed to build the URL, and the document's
// issuer must still equal the configured one exactly.
func TestDiscoverIssuerWithPath(t *testing.T) {
	t.Parallel()
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/tenant/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"` + issuer + `","authorization_endpoint":"https://a.example/a","token_endpoint":"https://a.example/t","jwks_uri":"https://a.example/k","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer = srv.URL + "/tenant/"
	p, err := provider.Discover(t.Context(), issuer, provider.Config{})
	if err != nil {
		t.Fatalf("Discover(%q): %v", issuer, err)
	}
	p.Close()
	if _, err := provider.Discover(t.Context(), srv.URL+"/tenant", provider.Config{}); !errors.Is(err, provider.ErrIssuerMismatchForTest) {
		t.Fatalf("Discover without the slash error = %v, want %v", err, provider.ErrIssuerMismatchForTest)
	}
}

func TestDiscoverTransport(t *testing.T) {
	t.Parallel()
	good := newFakeIDP(t)
	mux := http.NewServeMux()
	mux.Handle("/cross/.well-known/openid-configuration", http.RedirectHandler(good.issuer()+"/.well-known/openid-configuration", http.StatusFound))
	mux.HandleFunc("/500/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) })
	mux.HandleFunc("/slow/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/notjson/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) })
	mux.HandleFunc("/two/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{} {}")) })
	var srv *httptest.Server
	// A document whose issuer member comes twice, the second spelled with
	// an escape: the one reader refuses it whatever the values.
	mux.HandleFunc("/dup/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := srv.URL + "/dup"
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q,`+
			`"response_types_supported":["code"],"subject_types_supported":["public"],`+
			`"id_token_signing_alg_values_supported":["RS256"],"issu\u0065r":%q}`, u, u+"/a", u+"/t", u+"/j", u)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		path    string
		cfg     provider.Config
		wantErr error
	}{
		{"/cross", provider.Config{}, provider.ErrDiscovery},
		{"/500", provider.Config{}, provider.ErrDiscovery},
		{"/slow", provider.Config{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}, provider.ErrDiscovery},
		{"/notjson", provider.Config{}, provider.ErrInvalidMetadata},
		{"/two", provider.Config{}, provider.ErrInvalidMetadata},
		{"/dup", provider.Config{}, provider.ErrInvalidMetadata},
	}
	for _, tc := range tests {
		_, err := provider.Discover(t.Context(), srv.URL+tc.path, tc.cfg)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("Discover(%s) error = %v, want %v", tc.path, err, tc.wantErr)
		}
	}
}

// TestHTTPClientBodyLimit checks that the provider's client bounds bodies
// read through it by other packages (the key-set fetch in jwks).
func TestHTTPClientBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t)
	p := f.discover(t, provider.Config{MaxBodyBytes: 4096})
	f.edit(func(m map[string]any) { m["padding"] = strings.Repeat("x", 8192) })
	resp, err := provider.BoundedClientForTest(p).Get(f.issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, httpread.ErrTooLarge) || len(b) > 4096 {
		t.Fatalf("read %d bytes through a 4096-byte limit, error %v, want %v", len(b), err, httpread.ErrTooLarge)
	}
}
