package provider

import "slices"

// Metadata is the part of a provider's discovery document (OIDC Discovery
// §3, RFC 8414) that this module uses, as validated by [Discover]: every
// endpoint an absolute https URL (plain http only on loopback hosts, for a
// plain-http issuer), every list of strings a list of strings. An absent
// optional endpoint is "", an absent optional list nil.
type Metadata struct {
	// Issuer is issuer, equal to the issuer given to Discover.
	Issuer string
	// AuthorizationEndpoint is authorization_endpoint.
	AuthorizationEndpoint string
	// TokenEndpoint is token_endpoint.
	TokenEndpoint string
	// JWKSURL is jwks_uri.
	JWKSURL string
	// UserInfoEndpoint is userinfo_endpoint.
	UserInfoEndpoint string
	// EndSessionEndpoint is end_session_endpoint (OpenID Connect
	// RP-Initiated Logout 1.0).
	EndSessionEndpoint string
	// RevocationEndpoint is revocation_endpoint (RFC 7009).
	RevocationEndpoint string
	// IntrospectionEndpoint is introspection_endpoint (RFC 7662).
	IntrospectionEndpoint string
	// PushedAuthorizationRequestEndpoint is
	// pushed_authorization_request_endpoint (RFC 9126).
	PushedAuthorizationRequestEndpoint string
	// RequirePushedAuthorizationRequests is
	// require_pushed_authorization_requests (RFC 9126 §5).
	RequirePushedAuthorizationRequests bool
	// ISSParameterSupported is
	// authorization_response_iss_parameter_supported (RFC 9207): when true,
	// the authorization response must carry iss equal to Issuer.
	ISSParameterSupported bool
	// BackchannelLogoutSupported and BackchannelLogoutSessionSupported are
	// backchannel_logout_supported and backchannel_logout_session_supported
	// (OpenID Connect Back-Channel Logout 1.0 §2.1).
	BackchannelLogoutSupported, BackchannelLogoutSessionSupported bool
	// ResponseTypes is response_types_supported.
	ResponseTypes []string
	// SubjectTypes is subject_types_supported.
	SubjectTypes []string
	// IDTokenSigningAlgorithms is id_token_signing_alg_values_supported.
	IDTokenSigningAlgorithms []string
	// TokenEndpointAuthMethods is token_endpoint_auth_methods_supported.
	TokenEndpointAuthMethods []string
	// TokenEndpointAuthSigningAlgorithms is
	// token_endpoint_auth_signing_alg_values_supported.
	TokenEndpointAuthSigningAlgorithms []string
	// CodeChallengeMethods is code_challenge_methods_supported (RFC 7636).
	CodeChallengeMethods []string
	// DPoPSigningAlgorithms is dpop_signing_alg_values_supported (RFC 9449
	// §5.1).
	DPoPSigningAlgorithms []string
}

// Metadata returns a copy of the provider's validated metadata. No I/O.
func (p *Provider) Metadata() Metadata {
	m := p.meta
	for _, l := range []*[]string{&m.ResponseTypes, &m.SubjectTypes, &m.IDTokenSigningAlgorithms, &m.TokenEndpointAuthMethods, &m.TokenEndpointAuthSigningAlgorithms, &m.CodeChallengeMethods, &m.DPoPSigningAlgorithms} {
		*l = slices.Clone(*l)
	}
	return m
}
