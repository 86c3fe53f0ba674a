package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// DPoP limits of the resource server (RFC 9449 §4.3, §7.1).
const (
	// maxProofBytes bounds a DPoP proof; an RSA-4096 jwk fits well within.
	maxProofBytes = 8 << 10
	// defaultProofWindow is how far a proof's iat may be from the clock.
	defaultProofWindow = time.Minute
	// maxProofWindow bounds MiddlewareConfig.DPoPProofWindow.
	maxProofWindow = 5 * time.Minute
	// defaultReplayEntries bounds the default in-memory jti cache.
	defaultReplayEntries = 1 << 16
	// maxProofJTI bounds a proof's jti.
	maxProofJTI = 256
)

// Error codes of a DPoP challenge (RFC 9449 §7.1, §8, §9).
const (
	dpopInvalidToken = "invalid_token"
	dpopInvalidProof = "invalid_dpop_proof"
	dpopUseNonce     = "use_dpop_nonce"
)

// errDPoPProof is the cause of every refused proof; the challenge's error
// code says which kind.
var errDPoPProof = errors.New("provider: invalid DPoP proof")

// dpopCheck verifies DPoP proofs for one Middleware.
type dpopCheck struct {
	algs    []string
	public  *url.URL // scheme and host as clients see them (DPoPPublicURL)
	window  time.Duration
	replay  ReplayCache
	now     func() time.Time
	nonces  bool
	secret  [32]byte // nonce MAC key
	algList string   // for the algs="…" challenge parameter
}

// newDPoPCheck builds the checker of cfg, or nil when DPoP is off (no
// DPoPAlgorithms). Invalid settings are errors.
func newDPoPCheck(cfg MiddlewareConfig, now func() time.Time) (*dpopCheck, error) {
	if len(cfg.DPoPAlgorithms) == 0 {
		return nil, nil
	}
	d := &dpopCheck{window: cfg.DPoPProofWindow, replay: cfg.ReplayCache, now: now, nonces: cfg.DPoPNonceRequired}
	for _, a := range cfg.DPoPAlgorithms {
		if _, ok := jose.Lookup(string(a)); !ok || jose.Refused(string(a)) {
			return nil, fmt.Errorf("provider: MiddlewareConfig.DPoPAlgorithms holds %q, not an asymmetric JWS algorithm: %w", short(string(a)), ErrInvalidConfig)
		}
		d.algs = append(d.algs, string(a))
	}
	d.algList = strings.Join(d.algs, " ")
	// The request's Host header is the client's to choose: a proof made
	// for another service would match it. The expected scheme and host
	// come from the configuration only.
	if cfg.DPoPPublicURL == "" {
		return nil, fmt.Errorf("provider: MiddlewareConfig.DPoPPublicURL is empty; with DPoPAlgorithms set it to the scheme and host clients use to reach this service, such as https://api.example.com: %w", ErrInvalidConfig)
	}
	u, err := url.Parse(cfg.DPoPPublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("provider: MiddlewareConfig.DPoPPublicURL %q is not a scheme and host such as https://api.example.com: %w", short(cfg.DPoPPublicURL), ErrInvalidConfig)
	}
	d.public = &url.URL{Scheme: u.Scheme, Host: u.Host}
	switch {
	case d.window == 0:
		d.window = defaultProofWindow
	case d.window < time.Second || d.window > maxProofWindow:
		return nil, fmt.Errorf("provider: MiddlewareConfig.DPoPProofWindow %v is not between 1s and %v: %w", d.window, maxProofWindow, ErrInvalidConfig)
	}
	if d.replay == nil {
		d.replay = newMemoryReplay(defaultReplayEntries, now)
	}
	_, _ = rand.Read(d.secret[:])
	return d, nil
}

// challenge is the WWW-Authenticate value of a DPoP challenge with code
// (empty for none) and a fixed description.
func (d *dpopCheck) challenge(realm, code, description string) string {
	c := "DPoP"
	if realm != "" {
		c += " realm=" + quoteParam(realm) + ","
	}
	c += ` algs="` + d.algList + `"`
	if code != "" {
		c += `, error="` + code + `", error_description="` + description + `"`
	}
	return c
}

// proofClaims are the members of a proof's payload this package reads.
type proofClaims struct {
	jti, htm, htu, nonce, ath string
	iat                       float64
	hasIat                    bool
}

// verify checks the DPoP proof of r for the access token at bound to the
// key thumbprint jkt (RFC 9449 §4.3, §7.1). It returns the challenge's error
// code (invalid_dpop_proof or use_dpop_nonce) with the error.
func (d *dpopCheck) verify(ctx context.Context, r *http.Request, at, jkt string) (string, error) {
	hs := r.Header.Values("DPoP")
	if len(hs) != 1 {
		return dpopInvalidProof, fmt.Errorf("provider: %d DPoP headers, want exactly one: %w", len(hs), errDPoPProof)
	}
	t, err := jose.Parse(hs[0], maxProofBytes, d.algs)
	if err != nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof: %v: %w", err, errDPoPProof)
	}
	if !jose.TypIs(t.Typ, "dpop+jwt") || t.Typ == nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof typ is not dpop+jwt: %w", errDPoPProof)
	}
	var jwk []byte
	if err := jose.Object(t.Header, func(name, val []byte) error {
		if string(name) == "jwk" {
			jwk = val
		}
		return nil
	}); err != nil || jwk == nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof header has no jwk: %w", errDPoPProof)
	}
	pub, tj, err := jose.ParsePublicJWK(jwk)
	if err != nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof jwk: %v: %w", err, errDPoPProof)
	}
	if err := jose.VerifySignature(pub, t.Alg, []byte(t.SigningInput), t.Signature); err != nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof signature: %v: %w", err, errDPoPProof)
	}
	var c proofClaims
	if err := jose.Object(t.Payload, func(name, val []byte) error {
		var dst *string
		switch string(name) {
		case "jti":
			dst = &c.jti
		case "htm":
			dst = &c.htm
		case "htu":
			dst = &c.htu
		case "nonce":
			dst = &c.nonce
		case "ath":
			dst = &c.ath
		case "iat":
			f, err := strconv.ParseFloat(string(val), 64)
			if err != nil {
				return errors.New("iat is not a number")
			}
			c.iat = f
			c.hasIat = true
			return nil
		default:
			return nil
		}
		s, ok := jose.String(val)
		if !ok {
			return fmt.Errorf("member %q is not a string", name)
		}
		*dst = s
		return nil
	}); err != nil {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof claims: %v: %w", err, errDPoPProof)
	}
	now := d.now()
	bad := func(why string) (string, error) {
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof %s: %w", why, errDPoPProof)
	}
	switch {
	case c.jti == "" || len(c.jti) > maxProofJTI:
		return bad("has no jti or one over 256 bytes")
	case c.htm != r.Method:
		return bad("htm is not the request's method")
	case !d.htuMatches(c.htu, r):
		return bad("htu is not the request's URL")
	case !c.hasIat || c.iat != math.Trunc(c.iat) || math.Abs(c.iat-float64(now.Unix())) > d.window.Seconds():
		return bad(fmt.Sprintf("iat is missing or more than %v from the server's clock", d.window))
	case subtle.ConstantTimeCompare([]byte(c.ath), []byte(athOf(at))) != 1:
		return bad("ath is not the hash of the access token")
	case subtle.ConstantTimeCompare([]byte(jose.Thumbprint(tj)), []byte(jkt)) != 1:
		return bad("key is not the one the token is bound to (cnf.jkt)")
	}
	if d.nonces && !d.validNonce(c.nonce, now) {
		return dpopUseNonce, fmt.Errorf("provider: DPoP proof without the server's current nonce: %w", errDPoPProof)
	}
	fresh, err := d.replay.Remember(ctx, "dpop:"+jkt+":"+c.jti, time.Unix(int64(c.iat), 0).Add(d.window+time.Second))
	switch {
	case err != nil:
		return dpopInvalidProof, fmt.Errorf("provider: DPoP proof replay cache: %v: %w", err, errDPoPProof)
	case !fresh:
		return bad("jti was used before (a replayed proof)")
	}
	return "", nil
}

// htuMatches compares htu, without query and fragment, with the request's
// URL: scheme and host from DPoPPublicURL (never the request's Host or TLS
// state: the client chooses the Host header, and a proxy may terminate
// TLS), the path as received. An htu with user information is refused.
func (d *dpopCheck) htuMatches(htu string, r *http.Request) bool {
	u, err := url.Parse(htu)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	want := &url.URL{Scheme: d.public.Scheme, Host: d.public.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
	norm := func(u *url.URL) string {
		scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		host = strings.TrimSuffix(host, map[string]string{"https": ":443", "http": ":80"}[scheme])
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		return scheme + "://" + host + p
	}
	return norm(u) == norm(want)
}

// athOf returns BASE64URL(SHA-256(at)).
func athOf(at string) string {
	sum := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// nonce returns the server nonce of now: the minute's index and its MAC,
// valid for the current and the previous window.
func (d *dpopCheck) nonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()/int64(d.window.Seconds())))
	m := hmac.New(sha256.New, d.secret[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validNonce reports whether n is the nonce of now's window or the one
// before.
func (d *dpopCheck) validNonce(n string, now time.Time) bool {
	if n == "" {
		return false
	}
	return hmac.Equal([]byte(n), []byte(d.nonce(now))) || hmac.Equal([]byte(n), []byte(d.nonce(now.Add(-d.window))))
}

// boundKey returns the cnf.jkt of a verified token, "" when it has none.
func boundKey(t *JWT) (string, error) {
	var c struct {
		Cnf *struct {
			Jkt string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := t.Claims(&c); err != nil {
		return "", err
	}
	if c.Cnf == nil {
		return "", nil
	}
	return c.Cnf.Jkt, nil
}

// quoteParam renders s as an auth-param quoted-string.
func quoteParam(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
