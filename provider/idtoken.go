package provider

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/digest"
	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// VerifierConfig configures an [IDTokenVerifier].
type VerifierConfig struct {
	// ClientID is the client's identifier: aud must contain it, and azp must
	// equal it when present. Required.
	ClientID string
	// Algorithms is the allow-list of ID token algorithms. The list used is
	// this ∩ the provider's id_token_signing_alg_values_supported ∩ the
	// asymmetric algorithms of package jwks; the token's own alg header only
	// selects from it. Zero means RS256 only (the OIDC default). "none" and
	// HMAC algorithms are a configuration error.
	Algorithms []jwks.Algorithm
	// Leeway is the clock skew allowed on exp, iat, nbf and auth_time. Zero
	// means one minute; it must be positive and at most five minutes.
	Leeway time.Duration
	// MaxTokenBytes bounds the token's size. Zero means 32 KiB; it must not
	// be negative.
	MaxTokenBytes int
	// Now is the clock. Nil means the provider's clock.
	Now func() time.Time
	// ReplayCache remembers the jti of every logout token
	// [IDTokenVerifier.VerifyLogoutToken] accepts, so that each is accepted
	// once. Nil means a bounded in-memory cache of this verifier, right for
	// one process; several replicas share one store.
	ReplayCache ReplayCache
}

// Expected holds what the client expects of one ID token: the values of the
// authorization request that produced it.
type Expected struct {
	// Nonce is the nonce sent in the authorization request. When set, the
	// token's nonce must equal it; when empty, a token carrying a nonce is
	// refused (ErrNonceMismatch).
	Nonce string
	// Refresh says the token came from a refresh request (OIDC Core §12.2):
	// it may carry no nonce, or else the original one, given in Nonce. With
	// Refresh and an empty Nonce, any nonce is refused.
	Refresh bool
	// InsecureSkipNonceCheck accepts a token whatever its nonce. Risk: the
	// nonce is what binds an ID token to the login that asked for it; without
	// the check a token taken from another login (leaked, logged, or stolen
	// from another client's session) is accepted. Use it only in a party that
	// did not start the login and so never knew the nonce — a backend
	// verifying an ID token its front end sends — and keep the token's other
	// checks (aud, azp, exp) and a short lifetime. [IDToken.Nonce] still
	// reports the token's nonce for the caller to compare.
	InsecureSkipNonceCheck bool
	// AccessToken is the access token that came with the ID token. When set
	// and the token has at_hash, at_hash must match it (OIDC Core §3.1.3.8).
	AccessToken string
	// MaxAge is the max_age sent in the authorization request. When
	// positive, auth_time is required and must be within MaxAge (plus
	// leeway) of now.
	MaxAge time.Duration
	// ACR lists the acceptable Authentication Context Class References.
	// When non-empty, the token's acr must be one of them.
	ACR []string
}

// IDToken is a verified ID token's standard claims. Other claims are read
// with [IDToken.Claims].
type IDToken struct {
	// Issuer is iss, equal to the provider's issuer.
	Issuer string
	// Subject is sub, the end-user's identifier at the issuer.
	Subject string
	// Audience is aud; it contains the client ID.
	Audience []string
	// Expiry is exp.
	Expiry time.Time
	// IssuedAt is iat.
	IssuedAt time.Time
	// AuthTime is auth_time, zero when absent.
	AuthTime time.Time
	// Nonce is nonce, empty when absent.
	Nonce string
	// SessionID is sid (OIDC Front-Channel Logout §3), empty when absent.
	SessionID string
	// AuthorizedParty is azp, empty when absent.
	AuthorizedParty string
	// ACR is acr, empty when absent.
	ACR string

	payload []byte
}

// Claims decodes the token's claims (the whole verified payload) into v, as
// json.Unmarshal does.
func (t *IDToken) Claims(v any) error { return decodeClaims(t.payload, v) }

// idClaims is the struct the claims are decoded into, once.
type idClaims struct {
	Iss           optBytes
	Sub, Azp, Sid string
	Aud           []string
	Exp, Iat, Nbf optNumber
	AuthTime      optNumber
	Nonce, Acr    optString
	AtHash        optBytes
}

// IDTokenVerifier verifies the ID tokens of one provider for one client. It
// is immutable and safe for concurrent use.
type IDTokenVerifier struct {
	core     jwsCore
	issuer   string
	clientID string
	leeway   time.Duration
	now      func() time.Time
	replay   ReplayCache // of logout token jti values
}

// IDTokenVerifier returns a verifier of this provider's ID tokens. It fails
// with ErrInvalidConfig when ClientID is empty, Leeway or MaxTokenBytes is
// out of range, or an algorithm is not a supported asymmetric one (then
// ErrUnsupportedAlgorithm too); and with ErrUnsupportedAlgorithm when the
// allow-list is empty after intersecting with the provider's
// id_token_signing_alg_values_supported. Problems are joined with
// errors.Join. No I/O.
func (p *Provider) IDTokenVerifier(cfg VerifierConfig) (*IDTokenVerifier, error) {
	var errs []error
	if cfg.ClientID == "" {
		errs = append(errs, fmt.Errorf("provider: VerifierConfig.ClientID is required: %w", ErrInvalidConfig))
	}
	leeway, err := checkLeeway(cfg.Leeway)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.MaxTokenBytes < 0 {
		errs = append(errs, fmt.Errorf("provider: MaxTokenBytes %d is negative: %w", cfg.MaxTokenBytes, ErrInvalidConfig))
	}
	algs, err := filterAlgs(cfg.Algorithms, p.meta.IDTokenSigningAlgorithms)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	now := p.now
	if cfg.Now != nil {
		now = cfg.Now
	}
	v := &IDTokenVerifier{
		core:     jwsCore{keys: p.keys, algs: algs, maxBytes: orInt(cfg.MaxTokenBytes, defaultMaxTokenBytes)},
		issuer:   p.issuer,
		clientID: cfg.ClientID,
		leeway:   leeway,
		now:      clock.Or(now),
		replay:   cfg.ReplayCache,
	}
	if v.replay == nil {
		v.replay = newMemoryReplay(maxLogoutJTIs, v.now)
	}
	return v, nil
}

func checkLeeway(l time.Duration) (time.Duration, error) {
	switch {
	case l == 0:
		return defaultLeeway, nil
	case l < 0 || l > maxLeeway:
		return 0, fmt.Errorf("provider: Leeway %v is outside (0, %v]: %w", l, maxLeeway, ErrInvalidConfig)
	}
	return l, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Verify verifies rawIDToken as OIDC Core §3.1.3.7 requires for the
// authorization code flow, in this order: size and structure (compact JWS,
// three base64url segments), header (no crit), alg in the allow-list (none
// and HMAC never), key by kid, kty, alg and use from the provider's set
// (jku, x5u, jwk and x5c are never used), signature; then the claims, decoded
// once: iss exactly the issuer, sub present, aud contains the client ID, azp
// equal to the client ID when present and required with several audiences,
// exp (with leeway), iat present and not in the future, nbf, nonce, at_hash,
// auth_time with max_age, acr.
//
// It may fetch the provider's keys (see jwks.Remote). Each failure wraps one
// sentinel: ErrMalformedToken (also for a refused header, a missing sub or
// iat), ErrUnsupportedAlgorithm, ErrInvalidSignature (with
// jwks.ErrUnknownKey or jwks.ErrFetch),
// ErrInvalidIssuer, ErrInvalidAudience (also for azp), ErrTokenExpired,
// ErrTokenNotYetValid (also for iat), ErrNonceMismatch,
// ErrAccessTokenHashMismatch, ErrAuthTimeInvalid, ErrACRNotSatisfied. Errors
// never contain the token.
func (v *IDTokenVerifier) Verify(ctx context.Context, rawIDToken string, exp Expected) (*IDToken, error) {
	payload, alg, err := v.core.verify(ctx, rawIDToken)
	if err != nil {
		return nil, err
	}
	var c idClaims
	if err := decodeIDClaims(payload, &c); err != nil {
		return nil, err
	}
	if !c.Iss.ok || string(c.Iss.v) != v.issuer {
		return nil, fmt.Errorf("provider: id token iss %q, expected %q: %w", short(string(c.Iss.v)), v.issuer, ErrInvalidIssuer)
	}
	if c.Sub == "" {
		return nil, fmt.Errorf("provider: id token has no sub: %w", errMissingSubject)
	}
	if !contains(c.Aud, v.clientID) {
		return nil, fmt.Errorf("provider: id token aud %q does not contain the client ID %q: %w", shortList(c.Aud), v.clientID, ErrInvalidAudience)
	}
	if c.Azp != "" && c.Azp != v.clientID {
		return nil, fmt.Errorf("provider: id token azp %q is not the client ID %q: %w", short(c.Azp), v.clientID, errInvalidAuthorizedParty)
	}
	if c.Azp == "" && len(c.Aud) > 1 {
		return nil, fmt.Errorf("provider: id token has %d audiences and no azp: %w", len(c.Aud), errInvalidAuthorizedParty)
	}
	now := v.now()
	t := &IDToken{Issuer: v.issuer, Subject: c.Sub, Audience: c.Aud, AuthorizedParty: c.Azp, SessionID: c.Sid, payload: payload}
	if t.Expiry, t.IssuedAt, err = checkTimes(now, v.leeway, c.Exp, c.Iat, c.Nbf, "id token"); err != nil {
		return nil, err
	}
	t.Nonce = c.Nonce.v
	switch {
	case exp.InsecureSkipNonceCheck:
	case exp.Refresh && !c.Nonce.ok:
	case exp.Nonce == "" && c.Nonce.ok:
		return nil, fmt.Errorf("provider: id token carries a nonce that was not asked for: %w", ErrNonceMismatch)
	case exp.Nonce != "" && !c.Nonce.ok:
		return nil, fmt.Errorf("provider: id token has no nonce, one was sent: %w", ErrNonceMismatch)
	case exp.Nonce != "" && subtle.ConstantTimeCompare([]byte(c.Nonce.v), []byte(exp.Nonce)) != 1:
		return nil, fmt.Errorf("provider: id token nonce differs from the one sent: %w", ErrNonceMismatch)
	}
	if exp.AccessToken != "" && c.AtHash.ok {
		if !atHashMatches(alg, exp.AccessToken, c.AtHash.v) {
			return nil, fmt.Errorf("provider: id token at_hash does not match the access token: %w", ErrAccessTokenHashMismatch)
		}
	}
	if c.AuthTime.ok {
		at, ok := c.AuthTime.time()
		if !ok {
			return nil, fmt.Errorf("provider: id token auth_time is out of range: %w", ErrAuthTimeInvalid)
		}
		t.AuthTime = at
	}
	if exp.MaxAge > 0 {
		switch {
		case !c.AuthTime.ok:
			return nil, fmt.Errorf("provider: max_age was requested and the id token has no auth_time: %w", ErrAuthTimeInvalid)
		case t.AuthTime.After(now.Add(v.leeway)):
			return nil, fmt.Errorf("provider: id token auth_time %s is in the future: %w", t.AuthTime.Format(time.RFC3339), ErrAuthTimeInvalid)
		case now.After(t.AuthTime.Add(exp.MaxAge + v.leeway)):
			return nil, fmt.Errorf("provider: id token auth_time %s is older than max_age %v: %w", t.AuthTime.Format(time.RFC3339), exp.MaxAge, ErrAuthTimeInvalid)
		}
	}
	t.ACR = c.Acr.v
	if len(exp.ACR) > 0 && (!c.Acr.ok || !contains(exp.ACR, c.Acr.v)) {
		return nil, fmt.Errorf("provider: id token acr %q is not one of %q: %w", short(t.ACR), shortList(exp.ACR), ErrACRNotSatisfied)
	}
	return t, nil
}

// checkTimes checks exp (required), iat (required, not in the future) and
// nbf (when present) against now with leeway.
func checkTimes(now time.Time, leeway time.Duration, exp, iat, nbf optNumber, what string) (time.Time, time.Time, error) {
	e, ok := exp.time()
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("provider: %s exp is missing or out of range: %w", what, ErrTokenExpired)
	}
	if !now.Before(e.Add(leeway)) {
		return time.Time{}, time.Time{}, fmt.Errorf("provider: %s expired at %s (now %s, leeway %v): %w", what, e.Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway, ErrTokenExpired)
	}
	i, ok := iat.time()
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("provider: %s iat is missing or out of range: %w", what, errMissingIssuedAt)
	}
	if i.After(now.Add(leeway)) {
		return time.Time{}, time.Time{}, fmt.Errorf("provider: %s issued in the future at %s (now %s, leeway %v): %w", what, i.Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway, errIssuedInFuture)
	}
	if nbf.ok {
		n, ok := nbf.time()
		if !ok || n.After(now.Add(leeway)) {
			return time.Time{}, time.Time{}, fmt.Errorf("provider: %s not valid before %s: %w", what, n.Format(time.RFC3339), ErrTokenNotYetValid)
		}
	}
	return e, i, nil
}

// atHashMatches checks at_hash (OIDC Core §3.1.3.6): the base64url of the
// left half of the hash of the access token, with the hash of the ID token's
// alg (SHA-512 for EdDSA with Ed25519).
func atHashMatches(alg *jose.Alg, accessToken string, atHash []byte) bool {
	h := alg.Hash
	if alg.Kty == "OKP" {
		h = crypto.SHA512
	}
	var buf [64]byte
	sum := digest.Sum(h, []byte(accessToken), &buf)
	if sum == nil {
		return false
	}
	var enc [43]byte // base64url of at most 32 bytes
	want := enc[:base64.RawURLEncoding.EncodedLen(len(sum)/2)]
	base64.RawURLEncoding.Encode(want, sum[:len(sum)/2])
	return subtle.ConstantTimeCompare(want, atHash) == 1
}
