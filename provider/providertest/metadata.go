package providertest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// discoveryDocument returns the OpenID Provider Metadata (OIDC Discovery
// §3, RFC 8414), with the Discovery… misbehaviors applied.
func (s *Server) discoveryDocument() map[string]any {
	s.mu.Lock()
	mismatch, httpEP, noPKJ := s.on(DiscoveryIssuerMismatch), s.on(DiscoveryHTTPEndpoints), s.on(DiscoveryNoPrivateKeyJWT)
	s.mu.Unlock()
	ep := func(u string) string {
		if httpEP {
			return strings.Replace(u, "https://", "http://", 1)
		}
		return u
	}
	issuer := s.issuer
	if mismatch {
		issuer = s.issuer + "/other-tenant"
	}
	var algs []string
	for _, a := range s.cfg.ClientAuthAlgorithms {
		algs = append(algs, string(a))
	}
	methods := []string{"private_key_jwt"}
	if noPKJ {
		methods = []string{"client_secret_basic", "client_secret_post"}
	}
	doc := map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           ep(s.AuthorizationEndpoint()),
		"token_endpoint":                                   ep(s.TokenEndpoint()),
		"jwks_uri":                                         ep(s.JWKSURL()),
		"userinfo_endpoint":                                ep(s.UserInfoEndpoint()),
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{string(s.cfg.IDTokenAlgorithm)},
		"token_endpoint_auth_methods_supported":            methods,
		"token_endpoint_auth_signing_alg_values_supported": algs,
		"code_challenge_methods_supported":                 []string{"S256"},
		"grant_types_supported":                            allGrants,
		"scopes_supported":                                 []string{"openid", "profile", "email", "offline_access"},
		"claims_supported":                                 []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp"},
		"authorization_response_iss_parameter_supported":   true,

		"userinfo_signing_alg_values_supported":                    []string{string(s.cfg.IDTokenAlgorithm)},
		"end_session_endpoint":                                     ep(s.EndSessionEndpoint()),
		"backchannel_logout_supported":                             true,
		"backchannel_logout_session_supported":                     true,
		"revocation_endpoint":                                      ep(s.RevocationEndpoint()),
		"revocation_endpoint_auth_methods_supported":               []string{"private_key_jwt"},
		"revocation_endpoint_auth_signing_alg_values_supported":    algs,
		"introspection_endpoint":                                   ep(s.IntrospectionEndpoint()),
		"introspection_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"introspection_endpoint_auth_signing_alg_values_supported": algs,
	}
	s.addFAPIMetadata(doc, ep) // par.go
	return doc
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !s.serveCommon(w, r, SlowDiscovery, ServerErrorDiscovery, EndpointDiscovery) {
		return
	}
	doc := s.discoveryDocument()
	s.writeJSON(w, doc, "application/json", s.is(OversizedDiscovery))
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !s.serveCommon(w, r, SlowJWKS, ServerErrorJWKS, EndpointJWKS) {
		return
	}
	b := s.jwksDocument()
	if s.is(OversizedJWKS) {
		b = append(b[:len(b)-1], []byte(`,"x_padding":""}`)...)
		b = pad(b, s.cfg.OversizeBytes)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=60")
	w.Write(b)
}

// serveCommon answers GET only and applies the slow and 5xx switches. It
// reports whether the handler should go on.
func (s *Server) serveCommon(w http.ResponseWriter, r *http.Request, slow, fail Misbehavior, e Endpoint) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	if s.is(slow) && !s.wait(r.Context()) {
		return false
	}
	if s.is(fail) {
		s.record(Refusal{Endpoint: e, Status: 500, Code: "server_error", Reason: ErrMisbehaving})
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return false
	}
	return true
}

func (s *Server) writeJSON(w http.ResponseWriter, doc map[string]any, ctype string, oversized bool) {
	if oversized {
		doc["x_padding"] = ""
	}
	b, _ := json.Marshal(doc)
	if oversized {
		b = pad(b, s.cfg.OversizeBytes)
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(b)
}

// secp256k1Key is the generator point of secp256k1 as a JWK: a valid public
// key on a curve the library does not support.
const secp256k1Key = `{"kty":"EC","crv":"secp256k1","kid":"secp256k1-decoy","use":"sig","alg":"ES256K",` +
	`"x":"eb5mfvncu6xVoGKVzocLBwKb_NstzijZWfKBWxb4F5g","y":"SDradyajxGVdpPv8DhEIqP0XtEimhVQZnEfQj_sQ1Lg"}`

// octKey is a symmetric key, which a public JWKS must never hold.
const octKey = `{"kty":"oct","kid":"hs256-decoy","use":"sig","alg":"HS256","k":"c2VjcmV0LXNoYXJlZC1ieS1ub2JvZHktZXhjZXB0LXRoZS10ZXN0"}`

// jwksDocument returns the JWK Set with the key misbehaviors applied.
func (s *Server) jwksDocument() []byte {
	s.mu.Lock()
	keys := s.keys.published()
	cur, next := s.keys.current(), s.keys.next()
	m := func(x Misbehavior) bool { return s.on(x) }
	oneKey, several, decoy := m(IDTokenNoKIDOneKey), m(IDTokenNoKIDSeveralKeys), m(JWKSDecoySameKID)
	enc, oct, k1 := m(JWKSEncryptionKey), m(JWKSSymmetricKey), m(JWKSSecp256k1Key)
	s.mu.Unlock()
	if oneKey {
		keys = []*jwks.Key{cur}
	}
	if several && len(keys) < 2 {
		keys = append(keys, next)
	}
	var entries [][]byte
	if decoy {
		// A different key of the same type, published first under the
		// current key's kid.
		j := jose.JSONWebKey{Key: next.Public(), KeyID: cur.KeyID(), Algorithm: string(cur.Algorithm()), Use: "sig"}
		b, _ := j.MarshalJSON()
		entries = append(entries, b)
	}
	for _, k := range keys {
		entries = append(entries, k.PublicJWKJSON())
	}
	if enc {
		j := jose.JSONWebKey{Key: testkeys.Signer(testkeys.RSA2048B).Public(), KeyID: "enc-decoy", Algorithm: "RSA-OAEP-256", Use: "enc"}
		b, _ := j.MarshalJSON()
		entries = append(entries, b)
	}
	if oct {
		entries = append(entries, []byte(octKey))
	}
	if k1 {
		entries = append(entries, []byte(secp256k1Key))
	}
	out := []byte(`{"keys":[`)
	for i, e := range entries {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	return append(out, "]}"...)
}

// serveUserInfo is the userinfo endpoint (OIDC Core §5.3) with the Bearer
// access token in the Authorization header (RFC 6750 §2.1).
func (s *Server) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.is(ServerErrorUserInfo) {
		s.record(Refusal{Endpoint: EndpointUserInfo, Status: 500, Code: "server_error", Reason: ErrMisbehaving})
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	// DPoP-bound tokens (RFC 9449 §7, dpop.go).
	if !s.userInfoDPoP(w, r) {
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	now := s.now()
	s.mu.Lock()
	t := s.tokens[tok]
	ok := strings.EqualFold(scheme, "Bearer") && tok != "" && t != nil && !t.refresh && !t.revoked && now.Before(t.expires) &&
		strings.Contains(" "+t.scope+" ", " openid ")
	var claims map[string]any
	if ok {
		claims = map[string]any{}
		for k, v := range t.user.Claims {
			claims[k] = v
		}
		claims["sub"] = t.user.Subject
	}
	s.mu.Unlock()
	if !ok {
		s.record(Refusal{Endpoint: EndpointUserInfo, Status: http.StatusUnauthorized, Code: "invalid_token", Reason: ErrInvalidToken})
		// RFC 6750 §3.1: no error code when no token was sent at all.
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="providertest"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="providertest", error="invalid_token"`)
		}
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	s.writeUserInfo(r.Context(), w, tok, claims)
}
