package interop_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// These tests prove the fapi2 instance of server.mjs: FAPI 2.0 Security
// Profile, PAR required, DPoP with server nonces, PS256/ES256/EdDSA only.
// They speak raw HTTP; client assertions come from the assertion package,
// DPoP proofs from dpopProver below (the library has no DPoP yet).

// fapiAlgs are the only signing algorithms of the fapi2 instance.
var fapiAlgs = []string{"PS256", "ES256", "EdDSA"}

// dpopProver makes DPoP proofs (RFC 9449 §4.2) with one key and keeps the
// provider's latest nonce.
type dpopProver struct {
	key   *jwks.Key
	nonce string
}

func newDPoPProver(t *testing.T) *dpopProver {
	t.Helper()
	k, err := loadKey(testkeys.P256A, jwks.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopProver{key: k}
}

// proof returns a proof for method and u (query and fragment dropped), with
// the current nonce, and with ath when accessToken is not empty.
func (p *dpopProver) proof(ctx context.Context, method, u, accessToken string) (string, error) {
	htu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	htu.RawQuery, htu.Fragment = "", ""
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": htu.String(), "iat": time.Now().Unix()}
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return signJWS(ctx, p.key, map[string]any{"typ": "dpop+jwt", "jwk": json.RawMessage(p.key.PublicJWKJSON())}, claims)
}

// signJWS signs claims with key into a compact JWS whose header is header
// plus the key's alg (and kid when header has no jwk): for tokens the
// assertion package rightly refuses to make.
func signJWS(ctx context.Context, key *jwks.Key, header, claims map[string]any) (string, error) {
	h := map[string]any{"alg": string(key.Algorithm())}
	if _, ok := header["jwk"]; !ok {
		h["kid"] = key.KeyID()
	}
	for k, v := range header {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := key.Sign(ctx, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// retryNonce sends a request made by send (which mints a fresh proof, and
// a fresh client assertion where there is one) and, when the provider
// answers with a new DPoP-Nonce and error use_dpop_nonce, once more with
// that nonce. It reports whether the first answer was such a challenge.
func (p *dpopProver) retryNonce(send func() (*rawResponse, error)) (resp *rawResponse, challenged bool, err error) {
	resp, err = send()
	if err != nil {
		return nil, false, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		p.nonce = n
	}
	if (resp.Status == 400 || resp.Status == 401) && strings.Contains(resp.str("error")+resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		resp, err = send()
		if err == nil {
			if n := resp.Header.Get("DPoP-Nonce"); n != "" {
				p.nonce = n
			}
		}
		return resp, true, err
	}
	return resp, false, nil
}

// dpopToken POSTs form with client authentication and a DPoP proof to r's
// token endpoint, retrying once for a nonce.
func (p *dpopProver) dpopToken(ctx context.Context, r *rp, form url.Values) (*rawResponse, bool, error) {
	return p.retryNonce(func() (*rawResponse, error) {
		f, err := r.withClientAuth(ctx, form)
		if err != nil {
			return nil, err
		}
		proof, err := p.proof(ctx, http.MethodPost, r.md.TokenEndpoint, "")
		if err != nil {
			return nil, err
		}
		return postForm(ctx, r.md.TokenEndpoint, f, http.Header{"Dpop": {proof}})
	})
}

// dpopGet GETs u with a DPoP-bound access token and a proof, retrying once
// for a nonce.
func (p *dpopProver) dpopGet(ctx context.Context, u, accessToken string) (*rawResponse, bool, error) {
	return p.retryNonce(func() (*rawResponse, error) {
		proof, err := p.proof(ctx, http.MethodGet, u, accessToken)
		if err != nil {
			return nil, err
		}
		return bearerGet(ctx, u, "DPoP", accessToken, http.Header{"Dpop": {proof}})
	})
}

// TestInteropServerFAPI2Discovery checks what the fapi2 instance announces.
func TestInteropServerFAPI2Discovery(t *testing.T) {
	needInterop(t)
	t.Parallel()
	doc, err := discoveryDocument(t.Context(), fapi2OP)
	if err != nil {
		t.Fatal(err)
	}
	endpoint(t, fapi2OP, "pushed_authorization_request_endpoint")
	endpoint(t, fapi2OP, "userinfo_endpoint")
	if doc["require_pushed_authorization_requests"] != true {
		t.Errorf("require_pushed_authorization_requests = %v, want true", doc["require_pushed_authorization_requests"])
	}
	if doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true", doc["authorization_response_iss_parameter_supported"])
	}
	if got := stringList(doc, "response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported = %q, want [code]", got)
	}
	if got := stringList(doc, "code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %q, want [S256]", got)
	}
	if got := stringList(doc, "token_endpoint_auth_methods_supported"); !slices.Equal(got, []string{"private_key_jwt"}) {
		t.Errorf("token_endpoint_auth_methods_supported = %q, want [private_key_jwt]", got)
	}
	for _, name := range []string{"dpop_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported", "id_token_signing_alg_values_supported"} {
		got := stringList(doc, name)
		if len(got) == 0 || slices.ContainsFunc(got, func(a string) bool { return !slices.Contains(fapiAlgs, a) }) {
			t.Errorf("%s = %q, want a non-empty subset of %q", name, got, fapiAlgs)
		}
	}
	if got := stringList(doc, "id_token_signing_alg_values_supported"); !slices.Equal(got, fapiAlgs) {
		t.Errorf("id_token_signing_alg_values_supported = %q, want %q (a provider key for each)", got, fapiAlgs)
	}
	grants := stringList(doc, "grant_types_supported")
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials"} {
		if !slices.Contains(grants, g) {
			t.Errorf("grant_types_supported = %q, missing %s", grants, g)
		}
	}
}

// TestInteropServerFAPI2RequiresPAR sends a plain authorization request,
// complete with PKCE: the fapi2 instance refuses it and sends the user agent
// back with invalid_request and its iss.
func TestInteropServerFAPI2RequiresPAR(t *testing.T) {
	needInterop(t)
	t.Parallel()
	r := newExtraRP(t, fapi2OP, clientFAPI2ES256)
	authURL := r.oauth.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", rand.Text()))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, authURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := doRaw(req)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Status != http.StatusSeeOther || !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("plain authorization request: status %d, Location %q, want 303 to %s", resp.Status, resp.Header.Get("Location"), redirectURI)
	}
	q := loc.Query()
	if q.Get("error") != "invalid_request" || q.Get("iss") != env.issuer(fapi2OP) || q.Get("code") != "" {
		t.Errorf("plain authorization request: callback error %q, iss %q, code present %v; want invalid_request, %s, no code",
			q.Get("error"), q.Get("iss"), q.Get("code") != "", env.issuer(fapi2OP))
	}
}

// par pushes an authorization request for r's client (RFC 9126) and
// returns its request_uri.
func par(t *testing.T, r *rp, params url.Values) (string, *rawResponse) {
	t.Helper()
	f, err := r.withClientAuth(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := postForm(t.Context(), endpoint(t, fapi2OP, "pushed_authorization_request_endpoint"), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.str("request_uri"), resp
}

// TestInteropServerFAPI2Flow runs the whole FAPI 2.0 flow against the fapi2
// instance with a PS256, an ES256 and an EdDSA client key: PAR with
// private_key_jwt, authorization by request_uri, the code exchange with a
// DPoP proof (first answered with a nonce challenge), a DPoP-bound access
// token that userinfo accepts with a proof and refuses as a bearer token, a
// DPoP-bound refresh, and client_credentials with DPoP.
func TestInteropServerFAPI2Flow(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, id := range []string{clientFAPI2PS256, clientFAPI2ES256, clientFAPI2EdDSA} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			r := newExtraRP(t, fapi2OP, id)
			p := newDPoPProver(t)
			state, verifier := rand.Text(), oauth2.GenerateVerifier()
			requestURI, resp := par(t, r, url.Values{
				"response_type":         {"code"},
				"redirect_uri":          {redirectURI},
				"scope":                 {"openid"},
				"state":                 {state},
				"nonce":                 {rand.Text()},
				"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
				"code_challenge_method": {"S256"},
			})
			if resp.Status != http.StatusCreated || !strings.HasPrefix(requestURI, "urn:ietf:params:oauth:request_uri:") {
				t.Fatalf("PAR: status %d: %s", resp.Status, resp.Body)
			}

			ua, err := newUserAgent()
			if err != nil {
				t.Fatal(err)
			}
			cb, err := ua.authorize(ctx, r.md.AuthorizationEndpoint+"?"+url.Values{"client_id": {id}, "request_uri": {requestURI}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			q := cb.Query()
			if q.Get("state") != state || q.Get("iss") != env.issuer(fapi2OP) || q.Get("code") == "" {
				t.Fatalf("callback: error %q, state or iss differs, or no code", q.Get("error"))
			}

			resp, challenged, err := p.dpopToken(ctx, r, url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {q.Get("code")},
				"redirect_uri":  {redirectURI},
				"code_verifier": {verifier},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !challenged {
				t.Error("code exchange: the first DPoP proof, without a nonce, was not answered with use_dpop_nonce")
			}
			if resp.Status != 200 || resp.str("token_type") != "DPoP" || resp.str("refresh_token") == "" || resp.str("id_token") == "" {
				t.Fatalf("code exchange: status %d, token_type %q, refresh or ID token missing: %s", resp.Status, resp.str("token_type"), resp.Body)
			}
			idHeader, _, _ := strings.Cut(resp.str("id_token"), ".")
			if b, err := base64.RawURLEncoding.DecodeString(idHeader); err != nil || !strings.Contains(string(b), `"alg":"PS256"`) {
				t.Errorf("ID token header %s, want alg PS256 (the fapi2 default)", b)
			}
			at := resp.str("access_token")

			ui := endpoint(t, fapi2OP, "userinfo_endpoint")
			uresp, _, err := p.dpopGet(ctx, ui, at)
			if err != nil {
				t.Fatal(err)
			}
			if uresp.Status != 200 || uresp.str("sub") != subject {
				t.Errorf("userinfo with DPoP: status %d: %s", uresp.Status, uresp.Body)
			}
			if bresp, err := bearerGet(ctx, ui, "Bearer", at, nil); err != nil || bresp.Status != http.StatusUnauthorized {
				t.Errorf("userinfo with the DPoP-bound token as a bearer token: %v, status %d, want 401", err, bresp.Status)
			}

			resp, _, err = p.dpopToken(ctx, r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {resp.str("refresh_token")}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || resp.str("token_type") != "DPoP" {
				t.Errorf("refresh with DPoP: status %d: %s", resp.Status, resp.Body)
			}

			resp, _, err = p.dpopToken(ctx, r, url.Values{"grant_type": {"client_credentials"}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || resp.str("token_type") != "DPoP" {
				t.Errorf("client_credentials with DPoP: status %d: %s", resp.Status, resp.Body)
			}
		})
	}
}

// TestInteropServerFAPI2Refused shows the fapi2 instance's refusals: a token
// request without a DPoP proof, a DPoP proof with a stale nonce after the
// retry, a client assertion for the token endpoint URL, and pushed requests
// without PKCE or with the plain method.
func TestInteropServerFAPI2Refused(t *testing.T) {
	needInterop(t)
	t.Parallel()
	r := newExtraRP(t, fapi2OP, clientFAPI2Probe)
	key, err := extraKey(clientFAPI2Probe)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("token request without DPoP", func(t *testing.T) {
		// oidc-provider answers invalid_grant here (not invalid_request or
		// invalid_dpop_proof); its reason is only in the refusal log.
		mark := env.refusalMark(t, fapi2OP, clientFAPI2Probe)
		resp, err := r.tokenRequest(t.Context(), url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 400 || resp.str("error") != "invalid_grant" {
			t.Errorf("status %d, error %q, want 400 invalid_grant: %s", resp.Status, resp.str("error"), resp.Body)
		}
		refs := env.refusalsSince(t, fapi2OP, clientFAPI2Probe, mark)
		if len(refs) != 1 || refs[0].Detail != "DPoP proof JWT not provided" {
			t.Errorf("refusals = %+v, want one for the missing DPoP proof", refs)
		}
	})

	t.Run("DPoP proof without nonce", func(t *testing.T) {
		p := newDPoPProver(t)
		f, err := r.withClientAuth(t.Context(), url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		proof, err := p.proof(t.Context(), http.MethodPost, r.md.TokenEndpoint, "")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := postForm(t.Context(), r.md.TokenEndpoint, f, http.Header{"Dpop": {proof}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 400 || resp.str("error") != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == "" {
			t.Errorf("status %d, error %q, DPoP-Nonce %q; want 400 use_dpop_nonce with a nonce: %s", resp.Status, resp.str("error"), resp.Header.Get("DPoP-Nonce"), resp.Body)
		}
	})

	t.Run("assertion audience token endpoint", func(t *testing.T) {
		m, err := assertion.NewMinter(key, assertion.Config{ClientID: clientFAPI2Probe, Audience: r.md.TokenEndpoint, Profile: assertion.ProfileLegacy})
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Assertion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p := newDPoPProver(t)
		resp, _, err := p.retryNonce(func() (*rawResponse, error) {
			proof, err := p.proof(t.Context(), http.MethodPost, r.md.TokenEndpoint, "")
			if err != nil {
				return nil, err
			}
			return postForm(t.Context(), r.md.TokenEndpoint, url.Values{
				"grant_type":            {"client_credentials"},
				"client_id":             {clientFAPI2Probe},
				"client_assertion_type": {assertion.ClientAssertionType},
				"client_assertion":      {a},
			}, http.Header{"Dpop": {proof}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 401 || resp.str("error") != "invalid_client" {
			t.Errorf("status %d, error %q, want 401 invalid_client: %s", resp.Status, resp.str("error"), resp.Body)
		}
	})

	base := url.Values{
		"response_type": {"code"},
		"redirect_uri":  {redirectURI},
		"scope":         {"openid"},
		"state":         {rand.Text()},
	}
	for name, extra := range map[string]url.Values{
		"PAR without PKCE":    {},
		"PAR with PKCE plain": {"code_challenge": {rand.Text() + rand.Text()}, "code_challenge_method": {"plain"}},
	} {
		t.Run(name, func(t *testing.T) {
			params := url.Values{}
			for k, v := range base {
				params[k] = v
			}
			for k, v := range extra {
				params[k] = v
			}
			_, resp := par(t, r, params)
			if resp.Status != 400 || resp.str("error") != "invalid_request" {
				t.Errorf("status %d, error %q, want 400 invalid_request: %s", resp.Status, resp.str("error"), resp.Body)
			}
		})
	}
}
