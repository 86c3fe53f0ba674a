package providertest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/jwks"
)

// Reasons the server refuses a DPoP proof or a DPoP-bound token (RFC 9449).
// The token and PAR endpoints answer them with 400 invalid_dpop_proof (or
// use_dpop_nonce, or invalid_grant for a binding mismatch), userinfo with
// 401 and a DPoP WWW-Authenticate challenge.
var (
	// ErrDPoPProofMissing: a DPoP-bound code, refresh token or access token
	// was used without a DPoP proof (at userinfo: sent as a Bearer token).
	ErrDPoPProofMissing = errors.New("providertest: DPoP proof missing for a bound grant or token")
	// ErrDPoPMultipleProofs: the request carried more than one DPoP header.
	ErrDPoPMultipleProofs = errors.New("providertest: more than one DPoP header")
	// ErrDPoPMalformed: the proof is not a compact JWS whose header and
	// payload are JSON objects (or uses crit, or repeats a member).
	ErrDPoPMalformed = errors.New("providertest: malformed DPoP proof")
	// ErrDPoPType: the typ header is not dpop+jwt.
	ErrDPoPType = errors.New("providertest: DPoP proof typ is not dpop+jwt")
	// ErrDPoPAlgorithm: alg is none, HMAC or not in Config.DPoPAlgorithms.
	ErrDPoPAlgorithm = errors.New("providertest: DPoP proof algorithm not allowed")
	// ErrDPoPKey: the jwk header is missing, holds private members, does
	// not parse or does not fit alg.
	ErrDPoPKey = errors.New("providertest: DPoP proof jwk not acceptable")
	// ErrDPoPSignature: the signature does not verify with the jwk header.
	ErrDPoPSignature = errors.New("providertest: DPoP proof signature does not verify")
	// ErrDPoPMissingJTI: jti is missing, empty or not a string.
	ErrDPoPMissingJTI = errors.New("providertest: DPoP proof jti missing")
	// ErrDPoPReplay: the proof's jti was seen before (for the same key)
	// within the proof window.
	ErrDPoPReplay = errors.New("providertest: DPoP proof jti replayed")
	// ErrDPoPMethod: htm is not the request's method.
	ErrDPoPMethod = errors.New("providertest: DPoP proof htm mismatch")
	// ErrDPoPURI: htu is not the endpoint's URL (query and fragment
	// ignored).
	ErrDPoPURI = errors.New("providertest: DPoP proof htu mismatch")
	// ErrDPoPIssuedAt: iat is missing, not a number, or further than
	// Config.DPoPProofWindow from the server's clock.
	ErrDPoPIssuedAt = errors.New("providertest: DPoP proof iat outside the window")
	// ErrDPoPAccessTokenHash: at userinfo, ath is missing or is not the
	// hash of the access token.
	ErrDPoPAccessTokenHash = errors.New("providertest: DPoP proof ath mismatch")
	// ErrDPoPNonce: the server requires a nonce and the proof lacks the
	// current one; the answer is use_dpop_nonce with a DPoP-Nonce header.
	ErrDPoPNonce = errors.New("providertest: DPoP nonce missing or stale")
	// ErrDPoPKeyMismatch: the proof's key is not the one the code
	// (dpop_jkt), refresh token or access token is bound to, or a token
	// sent with the DPoP scheme is not DPoP-bound.
	ErrDPoPKeyMismatch = errors.New("providertest: DPoP key does not match the binding")
)

// defaultDPoPAlgorithms are the DPoP proof algorithms accepted by default.
var defaultDPoPAlgorithms = []jwks.Algorithm{jwks.ES256, jwks.EdDSA, jwks.PS256}

// fapiState is the state of PAR (par.go) and DPoP (this file).
type fapiState struct {
	// guards every field below
	mu         sync.Mutex
	pushed     map[string]*pushedRequest // request_uri → pushed request
	nonce      string                    // the current DPoP nonce, "" before the first
	nonceUntil time.Time
	proofJTIs  map[string]time.Time // jkt + "\x00" + jti → forget after
}

// checkFAPIConfig validates the PAR and DPoP fields of cfg and applies their
// defaults.
func checkFAPIConfig(cfg *Config) []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"PARLifetime", &cfg.PARLifetime, defaultPARLifetime},
		{"DPoPProofWindow", &cfg.DPoPProofWindow, defaultDPoPProofWindow},
		{"DPoPNonceLifetime", &cfg.DPoPNonceLifetime, defaultDPoPNonceLifetime},
	} {
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("providertest: %s is negative", d.name))
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	cfg.DPoPAlgorithms = slices.Clone(cfg.DPoPAlgorithms)
	if len(cfg.DPoPAlgorithms) == 0 {
		cfg.DPoPAlgorithms = slices.Clone(defaultDPoPAlgorithms)
	}
	return append(errs, checkAlgorithms("DPoPAlgorithms", cfg.DPoPAlgorithms)...)
}

// DPoPNonce returns the server's current DPoP nonce, starting a new one when
// none is current (Config.DPoPNonceLifetime). It does no network I/O; a
// test may use it to build a proof without the use_dpop_nonce round trip.
func (s *Server) DPoPNonce() string { return s.nextNonce(false) }

// nextNonce returns the current nonce, or a new one when fresh is set or the
// current one has expired.
func (s *Server) nextNonce(fresh bool) string {
	now := s.now()
	f := &s.fapi
	f.mu.Lock()
	defer f.mu.Unlock()
	if fresh || f.nonce == "" || !now.Before(f.nonceUntil) {
		f.nonce, f.nonceUntil = randomString(18), now.Add(s.cfg.DPoPNonceLifetime)
	}
	return f.nonce
}

// dpopContextKey carries the thumbprint of a verified proof's key from the
// token endpoint to the grants.
type dpopContextKey struct{}

// dpopJKT returns the thumbprint of the request's verified DPoP key, or "".
func dpopJKT(ctx context.Context) string {
	jkt, _ := ctx.Value(dpopContextKey{}).(string)
	return jkt
}

// tokenType is the token_type for tokens bound to jkt (none when "").
func (s *Server) tokenType(jkt string) string {
	if jkt == "" || s.is(BearerAfterDPoP) {
		return "Bearer"
	}
	return "DPoP"
}

// checkDPoPBinding compares the key a grant is bound to with the request's
// proof key; an unbound grant takes any proof, or none.
func checkDPoPBinding(what, bound, got string) error {
	switch {
	case bound == "":
		return nil
	case got == "":
		return fmt.Errorf("providertest: the %s is DPoP-bound and no proof was sent: %w", what, ErrDPoPProofMissing)
	case got != bound:
		return fmt.Errorf("providertest: the %s is bound to another DPoP key: %w", what, ErrDPoPKeyMismatch)
	}
	return nil
}

// tokenDPoP checks the DPoP proof of a token request, if any (RFC 9449
// §4.3). It returns r with the proof's key thumbprint in its context, or
// answers the refusal and returns false.
func (s *Server) tokenDPoP(w http.ResponseWriter, r *http.Request, clientID string) (*http.Request, bool) {
	if len(r.Header.Values("DPoP")) == 0 {
		if s.cfg.RequireDPoP {
			s.refuseDPoP(w, EndpointToken, clientID, fmt.Errorf("providertest: Config.RequireDPoP: the token request has no DPoP proof: %w", ErrDPoPProofMissing))
			return r, false
		}
		return r, true
	}
	jkt, err := s.verifyDPoP(r, http.MethodPost, s.TokenEndpoint(), "")
	if err != nil {
		s.refuseDPoP(w, EndpointToken, clientID, err)
		return r, false
	}
	if s.cfg.DPoPNonceRequired {
		w.Header().Set("DPoP-Nonce", s.nextNonce(false))
	}
	return r.WithContext(context.WithValue(r.Context(), dpopContextKey{}, jkt)), true
}

// refuseDPoP answers a refused proof at the token or PAR endpoint: 400
// use_dpop_nonce with a DPoP-Nonce header, or 400 invalid_dpop_proof.
func (s *Server) refuseDPoP(w http.ResponseWriter, e Endpoint, clientID string, err error) {
	if errors.Is(err, ErrDPoPNonce) {
		w.Header().Set("DPoP-Nonce", s.challengeNonce())
		s.refuse(w, e, clientID, &tokenError{http.StatusBadRequest, "use_dpop_nonce", "a DPoP nonce is required", err}, "")
		return
	}
	s.refuse(w, e, clientID, &tokenError{http.StatusBadRequest, "invalid_dpop_proof", "the DPoP proof is invalid", err}, "")
}

// challengeNonce is the DPoP-Nonce sent with use_dpop_nonce, with the
// DPoPNonceEveryRequest and DPoPNonceHuge misbehaviors applied.
func (s *Server) challengeNonce() string {
	s.mu.Lock()
	every, huge := s.on(DPoPNonceEveryRequest), s.on(DPoPNonceHuge)
	s.mu.Unlock()
	if huge {
		return strings.Repeat("N", 1<<20)
	}
	return s.nextNonce(every)
}

// userInfoDPoP applies RFC 9449 §7 at userinfo. A token sent with the DPoP
// scheme must be DPoP-bound and come with a proof by its key (htm, htu, ath);
// it is then handed on as a Bearer token for the usual checks. A DPoP-bound
// token sent any other way is refused. Anything else passes unchanged. It
// reports whether the handler should go on.
func (s *Server) userInfoDPoP(w http.ResponseWriter, r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if tok == "" {
		return true
	}
	s.mu.Lock()
	var bound, clientID string
	t := s.tokens[tok]
	if t != nil {
		bound, clientID = t.jkt, t.clientID
	}
	s.mu.Unlock()
	refuse := func(code string, err error) bool {
		s.record(Refusal{Endpoint: EndpointUserInfo, Status: http.StatusUnauthorized, Code: code, Reason: err, ClientID: clientID})
		var algs []string
		for _, a := range s.cfg.DPoPAlgorithms {
			algs = append(algs, string(a))
		}
		if code == "use_dpop_nonce" {
			w.Header().Set("DPoP-Nonce", s.challengeNonce())
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP algs="%s", error="%s"`, strings.Join(algs, " "), code))
		http.Error(w, code, http.StatusUnauthorized)
		return false
	}
	if !strings.EqualFold(scheme, "DPoP") {
		if bound != "" {
			return refuse("invalid_token", fmt.Errorf("providertest: a DPoP-bound access token was sent with the %.20q scheme: %w", scheme, ErrDPoPProofMissing))
		}
		return true
	}
	if t == nil {
		return refuse("invalid_token", fmt.Errorf("providertest: unknown access token: %w", ErrInvalidToken))
	}
	if bound == "" {
		return refuse("invalid_token", fmt.Errorf("providertest: the access token is not DPoP-bound: %w", ErrDPoPKeyMismatch))
	}
	jkt, err := s.verifyDPoP(r, r.Method, s.UserInfoEndpoint(), tok)
	switch {
	case errors.Is(err, ErrDPoPNonce):
		return refuse("use_dpop_nonce", err)
	case err != nil:
		return refuse("invalid_dpop_proof", err)
	case jkt != bound:
		return refuse("invalid_token", fmt.Errorf("providertest: the access token is bound to another DPoP key: %w", ErrDPoPKeyMismatch))
	}
	if s.cfg.DPoPNonceRequired {
		w.Header().Set("DPoP-Nonce", s.nextNonce(false))
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return true
}

// privateJWKMembers are the members of private (or symmetric) JWKs.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// verifyDPoP checks the request's DPoP proof (RFC 9449 §4.3) for method htm
// at endpoint htu, with ath when accessToken is set, and returns the RFC
// 7638 thumbprint of its key. Errors wrap the ErrDPoP… sentinels.
func (s *Server) verifyDPoP(r *http.Request, htm, htu, accessToken string) (string, error) {
	vals := r.Header.Values("DPoP")
	switch {
	case len(vals) == 0:
		return "", fmt.Errorf("providertest: no DPoP header: %w", ErrDPoPProofMissing)
	case len(vals) > 1:
		return "", fmt.Errorf("providertest: %d DPoP headers: %w", len(vals), ErrDPoPMultipleProofs)
	}
	raw := vals[0]
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("providertest: DPoP proof has %d parts, want 3: %w", len(parts), ErrDPoPMalformed)
	}
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", fmt.Errorf("providertest: DPoP proof is not base64url: %w", ErrDPoPMalformed)
	}
	header, err := decodeObject(hb)
	if err != nil {
		return "", fmt.Errorf("providertest: DPoP proof header: %v: %w", err, ErrDPoPMalformed)
	}
	claims, err := decodeObject(cb)
	if err != nil {
		return "", fmt.Errorf("providertest: DPoP proof payload: %v: %w", err, ErrDPoPMalformed)
	}
	if _, ok := header["crit"]; ok {
		return "", fmt.Errorf("providertest: DPoP proof header has crit: %w", ErrDPoPMalformed)
	}
	typ, _ := header["typ"].(string)
	if strings.TrimPrefix(strings.ToLower(typ), "application/") != "dpop+jwt" {
		return "", fmt.Errorf("providertest: DPoP proof typ %.40q: %w", fmt.Sprint(header["typ"]), ErrDPoPType)
	}
	algName, _ := header["alg"].(string)
	alg := jwks.Algorithm(algName)
	if algName == "" || refusedAlg(algName) || !slices.Contains(s.cfg.DPoPAlgorithms, alg) || len(sig) == 0 {
		return "", fmt.Errorf("providertest: DPoP proof alg %.20q not allowed: %w", fmt.Sprint(header["alg"]), ErrDPoPAlgorithm)
	}

	// The key: the jwk header member, public only, fitting alg.
	var members map[string]json.RawMessage
	json.Unmarshal(hb, &members) // hb decoded as an object above
	rawJWK, ok := members["jwk"]
	if !ok {
		return "", fmt.Errorf("providertest: DPoP proof has no jwk header: %w", ErrDPoPKey)
	}
	jm, err := decodeObject(rawJWK)
	if err != nil {
		return "", fmt.Errorf("providertest: DPoP proof jwk: %v: %w", err, ErrDPoPKey)
	}
	for _, m := range privateJWKMembers {
		if _, ok := jm[m]; ok {
			return "", fmt.Errorf("providertest: DPoP proof jwk has the private member %q: %w", m, ErrDPoPKey)
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(rawJWK); err != nil || !jwk.IsPublic() || !jwk.Valid() || !keyFits(jwk.Key, alg) {
		return "", fmt.Errorf("providertest: DPoP proof jwk is not a public key for %s: %w", alg, ErrDPoPKey)
	}
	jkt, err := jwkThumbprint(jm)
	if err != nil {
		return "", err
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return "", fmt.Errorf("providertest: go-jose refused the DPoP proof: %v: %w", err, ErrDPoPMalformed)
	}
	if payload, err := jws.Verify(jwk.Key); err != nil || string(payload) != string(cb) {
		return "", fmt.Errorf("providertest: DPoP proof signature: %w", ErrDPoPSignature)
	}

	// The claims.
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return "", fmt.Errorf("providertest: DPoP proof jti missing or not a string: %w", ErrDPoPMissingJTI)
	}
	if m, _ := claims["htm"].(string); m != htm {
		return "", fmt.Errorf("providertest: DPoP proof htm %.20q, want %s: %w", fmt.Sprint(claims["htm"]), htm, ErrDPoPMethod)
	}
	u, _ := claims["htu"].(string)
	got, ok := normalizeHTU(u)
	if want, _ := normalizeHTU(htu); !ok || got != want {
		return "", fmt.Errorf("providertest: DPoP proof htu %.100q, want %s: %w", fmt.Sprint(claims["htu"]), htu, ErrDPoPURI)
	}
	now, win := s.now(), s.cfg.DPoPProofWindow
	iat, ok := numericDate(claims["iat"])
	if !ok || iat.Before(now.Add(-win)) || iat.After(now.Add(win)) {
		return "", fmt.Errorf("providertest: DPoP proof iat %.30q not within %s of now %s: %w", fmt.Sprint(claims["iat"]), win, now.UTC().Format(time.RFC3339), ErrDPoPIssuedAt)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if ath, _ := claims["ath"].(string); ath != b64enc(sum[:]) {
			return "", fmt.Errorf("providertest: DPoP proof ath missing or not the access token's hash: %w", ErrDPoPAccessTokenHash)
		}
	}
	if s.is(DPoPNonceEveryRequest) {
		return "", fmt.Errorf("providertest: DPoPNonceEveryRequest switched on: %w: %w", ErrDPoPNonce, ErrMisbehaving)
	}
	if s.cfg.DPoPNonceRequired {
		n, _ := claims["nonce"].(string)
		if cur := s.nextNonce(false); n == "" || n != cur {
			return "", fmt.Errorf("providertest: DPoP proof nonce missing or not the current one: %w", ErrDPoPNonce)
		}
	}
	if err := s.spendProofJTI(jkt+"\x00"+jti, iat.Add(win)); err != nil {
		return "", err
	}
	return jkt, nil
}

// spendProofJTI remembers a proof's key and jti until forget, refusing one
// still remembered. It fails closed when Config.MaxJTIs unexpired values are
// remembered.
func (s *Server) spendProofJTI(key string, forget time.Time) error {
	now := s.now()
	f := &s.fapi
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proofJTIs == nil {
		f.proofJTIs = map[string]time.Time{}
	}
	if until, seen := f.proofJTIs[key]; seen && now.Before(until) {
		return fmt.Errorf("providertest: DPoP proof jti seen before: %w", ErrDPoPReplay)
	}
	if len(f.proofJTIs) >= s.cfg.MaxJTIs {
		for k, until := range f.proofJTIs {
			if !now.Before(until) {
				delete(f.proofJTIs, k)
			}
		}
		if len(f.proofJTIs) >= s.cfg.MaxJTIs {
			return fmt.Errorf("providertest: %d DPoP proof jti values remembered: %w", len(f.proofJTIs), ErrReplayCacheFull)
		}
	}
	f.proofJTIs[key] = forget
	return nil
}

// jwkThumbprint is the RFC 7638 thumbprint of a public JWK (SHA-256,
// base64url): the required members, in lexicographic order, as compact JSON.
func jwkThumbprint(jm map[string]any) (string, error) {
	var names []string
	switch jm["kty"] {
	case "EC":
		names = []string{"crv", "kty", "x", "y"}
	case "RSA":
		names = []string{"e", "kty", "n"}
	case "OKP":
		names = []string{"crv", "kty", "x"}
	default:
		return "", fmt.Errorf("providertest: DPoP proof jwk kty %.20q: %w", fmt.Sprint(jm["kty"]), ErrDPoPKey)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		v, ok := jm[n].(string)
		if !ok {
			return "", fmt.Errorf("providertest: DPoP proof jwk member %s missing: %w", n, ErrDPoPKey)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		nb, _ := json.Marshal(n)
		vb, _ := json.Marshal(v)
		b.Write(nb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return b64enc(sum[:]), nil
}

// normalizeHTU returns an absolute http(s) URL without query and fragment,
// with scheme and host in lower case and a default port dropped (RFC 9449
// §4.3, RFC 3986 §6.2.2 and §6.2.3).
func normalizeHTU(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return scheme + "://" + host + p, true
}
