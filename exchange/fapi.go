package exchange

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// fapiAlgs are the signing algorithms the FAPI 2.0 Security Profile (final,
// §5.4) allows.
var fapiAlgs = []string{"PS256", "ES256", "EdDSA"}

// fapiAlgorithm reports whether alg is one of fapiAlgs.
func fapiAlgorithm(alg string) bool { return slices.Contains(fapiAlgs, alg) }

// maxAssertionBytes bounds a client assertion read back for its algorithm.
const maxAssertionBytes = 64 << 10

// clientAssertion asks the client's assertion source for a new assertion.
// With FAPI2 its header's alg is checked every time, not only in New: a
// key ring may have rotated to a key of another algorithm since (FAPI 2.0
// §5.4). An assertion that fails the check is never sent.
func (c *Client) clientAssertion(ctx context.Context) (string, error) {
	a, err := c.assertions.Assertion(ctx)
	if err != nil {
		return "", fmt.Errorf("exchange: client assertion: %w", err)
	}
	if a == "" {
		return "", fmt.Errorf("exchange: the assertion source returned an empty assertion: %w", ErrInvalidConfig)
	}
	if c.fapi2 {
		if _, err := jose.Parse(a, maxAssertionBytes, fapiAlgs); err != nil {
			return "", fmt.Errorf("exchange: FAPI2: the client assertion is not a JWS signed with PS256, ES256 or EdDSA (did the key source rotate to a key of another algorithm?): %v: %w", err, errFAPI2)
		}
	}
	return a, nil
}

// fapiIDTokenAlgorithms returns the FAPI algorithms the provider signs ID
// tokens with (all three when it advertises none of them, so that the
// verifier reports the gap).
func fapiIDTokenAlgorithms(provider []string) []jwks.Algorithm {
	var out []jwks.Algorithm
	for _, a := range fapiAlgs {
		if slices.Contains(provider, a) {
			out = append(out, jwks.Algorithm(a))
		}
	}
	if len(out) == 0 {
		for _, a := range fapiAlgs {
			out = append(out, jwks.Algorithm(a))
		}
	}
	return out
}

// newProofs builds the DPoP proof maker of cfg.DPoPKey, checked against the
// provider's dpop_signing_alg_values_supported; nil without a key.
func newProofs(md metadata, cfg Config) (*assertion.DPoP, []error) {
	if cfg.DPoPKey == nil {
		return nil, nil
	}
	p, err := assertion.NewDPoP(cfg.DPoPKey, assertion.DPoPConfig{Now: cfg.Now})
	if err != nil {
		return nil, []error{fmt.Errorf("exchange: Config.DPoPKey: %w: %w", err, ErrInvalidConfig)}
	}
	alg := string(cfg.DPoPKey.Algorithm())
	switch {
	case len(md.dpopAlgs) == 0:
		return nil, []error{fmt.Errorf("exchange: Config.DPoPKey is set, but the provider advertises no dpop_signing_alg_values_supported (RFC 9449 §5.1), so it does not support DPoP: %w", ErrInvalidConfig)}
	case !slices.Contains(md.dpopAlgs, alg):
		return nil, []error{fmt.Errorf("exchange: Config.DPoPKey has algorithm %s, which is not in the provider's dpop_signing_alg_values_supported %s; use a key of one of those: %w", alg, quote(truncate(fmt.Sprint(md.dpopAlgs), 128)), ErrInvalidConfig)}
	}
	return p, nil
}

// checkPAREndpoint reports why the provider's PAR endpoint cannot carry
// this client's authorization requests: missing, or on an origin other
// than the issuer's and the token endpoint's (the client assertion, whose
// audience is the issuer, goes there). Discovery has already refused plain
// http (except for a loopback issuer that is http itself).
func checkPAREndpoint(md metadata) []error {
	if md.parURL == "" {
		return []error{fmt.Errorf("exchange: pushed authorization requests are on (Config.PushAuthorizationRequests, FAPI2 or the provider's require_pushed_authorization_requests), but the provider has no pushed_authorization_request_endpoint: %w", ErrInvalidConfig)}
	}
	o := originOf(md.parURL)
	if o == "" || (o != originOf(md.issuer) && o != originOf(md.tokenURL)) {
		return []error{fmt.Errorf("exchange: the provider's pushed_authorization_request_endpoint %s is on another origin than its issuer and token endpoint; refusing to send client assertions there: %w", quote(truncate(redactURL(md.parURL), 128)), ErrInvalidConfig)}
	}
	if strings.HasPrefix(md.issuer, "https:") && !strings.HasPrefix(o, "https:") {
		return []error{fmt.Errorf("exchange: the provider's pushed_authorization_request_endpoint is plain http: %w", ErrInvalidConfig)}
	}
	return nil
}

// fapiProblems lists every reason the provider md or the configuration cfg
// cannot support the FAPI 2.0 Security Profile, each wrapping
// ErrInvalidConfig. The PAR endpoint and the DPoP algorithms are checked by
// checkPAREndpoint and newProofs; the private_key_jwt method and key
// algorithm by New.
func fapiProblems(md metadata, cfg Config) []error {
	var errs []error
	gap := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("exchange: FAPI2: "+format+": %w", append(a, errFAPI2)...))
	}
	if !slices.Contains(md.challengeMethods, "S256") {
		gap("the provider does not advertise S256 in code_challenge_methods_supported")
	}
	if !md.issRequired {
		gap("the provider does not advertise authorization_response_iss_parameter_supported (RFC 9207)")
	}
	if !slices.Contains(md.responseTypes, "code") {
		gap("the provider does not support response type code")
	}
	if cfg.DPoPKey == nil {
		gap("Config.DPoPKey is nil; FAPI 2.0 needs sender-constrained tokens: set a DPoP key (jwks.Generate(jwks.ES256))")
	} else if !fapiAlgorithm(string(cfg.DPoPKey.Algorithm())) {
		gap("Config.DPoPKey's algorithm %s is not PS256, ES256 or EdDSA", cfg.DPoPKey.Algorithm())
	}
	if len(md.dpopAlgs) > 0 && !slices.ContainsFunc(md.dpopAlgs, fapiAlgorithm) {
		gap("the provider's dpop_signing_alg_values_supported has none of PS256, ES256, EdDSA")
	}
	if len(md.authSigningAlgs) > 0 && !slices.ContainsFunc(md.authSigningAlgs, fapiAlgorithm) {
		gap("the provider's token_endpoint_auth_signing_alg_values_supported has none of PS256, ES256, EdDSA")
	}
	if !slices.ContainsFunc(md.idTokenAlgs, fapiAlgorithm) {
		gap("the provider's id_token_signing_alg_values_supported has none of PS256, ES256, EdDSA")
	}
	for _, a := range cfg.IDTokenAlgorithms {
		if !fapiAlgorithm(string(a)) {
			gap("Config.IDTokenAlgorithms holds %s; FAPI 2.0 allows PS256, ES256 or EdDSA", a)
		}
	}
	switch m := cfg.Assertions.(type) {
	case nil:
	case *assertion.Minter:
		if m != nil && m.Profile() != assertion.ProfileRFC10070 {
			gap("the Minter in Config.Assertions uses the legacy profile; FAPI 2.0 needs the issuer as the sole audience (assertion.ProfileRFC10070)")
		}
	default:
		gap("Config.Assertions is an assertion source whose audience cannot be checked; use Config.Key or an *assertion.Minter of assertion.ProfileRFC10070")
	}
	return errs
}
