package providertest

import "strconv"

// Misbehavior names one way the server can be told to break the protocol, so
// that a test can check that a client notices. Switch one on with
// [Server.Misbehave], off with [Server.Behave], and all off with
// [Server.Reset]. A switch stays on until it is turned off.
type Misbehavior int

// The misbehaviors. Each has one effect, described beside it.
const (
	// ID tokens.

	// IDTokenWrongIssuer sets the ID token's iss to another URL.
	IDTokenWrongIssuer Misbehavior = iota + 1
	// IDTokenMissingSubject leaves sub out of the ID token.
	IDTokenMissingSubject
	// IDTokenWrongAudience sets the ID token's aud to another client.
	IDTokenWrongAudience
	// IDTokenMissingAudience leaves aud out of the ID token.
	IDTokenMissingAudience
	// IDTokenExtraAudienceWithoutAZP adds a second audience and no azp.
	IDTokenExtraAudienceWithoutAZP
	// IDTokenMissingIssuedAt leaves iat out of the ID token.
	IDTokenMissingIssuedAt
	// IDTokenIssuedInFuture sets iat one hour ahead of the server's clock.
	IDTokenIssuedInFuture
	// IDTokenExpired sets exp one hour behind the server's clock (and iat
	// before it).
	IDTokenExpired
	// IDTokenWrongNonce sets nonce to a value the client never sent.
	IDTokenWrongNonce
	// IDTokenMissingNonce leaves nonce out although the client sent one.
	IDTokenMissingNonce
	// IDTokenAlgNone sends an unsigned ID token with alg "none" and an
	// empty signature.
	IDTokenAlgNone
	// IDTokenCorruptSignature flips one bit of the signature. Use it with
	// Config.IDTokenAlgorithm RS256 (the default) or ES256.
	IDTokenCorruptSignature
	// IDTokenHS256WithPublicKey signs the ID token with HS256 keyed with the
	// PEM (PKIX) encoding of the published signing key: the classic
	// algorithm-confusion attack. The header carries the real kid.
	IDTokenHS256WithPublicKey
	// IDTokenUnpublishedKey signs with a key of the right type that the JWKS
	// does not hold; the header carries that key's kid.
	IDTokenUnpublishedKey
	// IDTokenNoKIDOneKey leaves kid out of the header while the JWKS
	// publishes the signing key alone. Clients may accept the token.
	IDTokenNoKIDOneKey
	// IDTokenNoKIDSeveralKeys leaves kid out of the header while the JWKS
	// publishes the signing key and another key of the same type.
	IDTokenNoKIDSeveralKeys
	// IDTokenWrongATHash sets at_hash to the hash of another access token.
	IDTokenWrongATHash

	// Keys.

	// RotateBeforeSigning rotates the provider's signing key right before
	// each ID token is signed, so a JWKS the client cached earlier lacks
	// the new kid.
	RotateBeforeSigning
	// RotateBetweenLogins rotates the signing key after each ID token is
	// signed, so two logins in a row are signed by different keys.
	RotateBetweenLogins
	// JWKSEncryptionKey adds an RSA key with "use":"enc" to the JWKS.
	JWKSEncryptionKey
	// JWKSSymmetricKey adds an "oct" (HS256) key to the JWKS.
	JWKSSymmetricKey
	// JWKSSecp256k1Key adds an EC key on secp256k1 (alg ES256K) to the JWKS,
	// a curve go-jose does not parse.
	JWKSSecp256k1Key
	// JWKSDecoySameKID puts, before the real key, a different public key of
	// the same type that shares the real key's kid.
	JWKSDecoySameKID

	// Discovery.

	// DiscoveryIssuerMismatch publishes an issuer other than the URL the
	// document was fetched for.
	DiscoveryIssuerMismatch
	// DiscoveryHTTPEndpoints publishes every endpoint with the http scheme.
	// It changes something only when the server runs with TLS.
	DiscoveryHTTPEndpoints
	// DiscoveryNoPrivateKeyJWT publishes token_endpoint_auth_methods_supported
	// without private_key_jwt.
	DiscoveryNoPrivateKeyJWT

	// Transport.

	// OversizedDiscovery pads the discovery document to Config.OversizeBytes.
	OversizedDiscovery
	// OversizedJWKS pads the JWKS to Config.OversizeBytes.
	OversizedJWKS
	// OversizedToken pads successful token responses to Config.OversizeBytes.
	OversizedToken
	// SlowDiscovery delays the discovery response by Config.SlowDelay.
	SlowDiscovery
	// SlowJWKS delays the JWKS response by Config.SlowDelay.
	SlowJWKS
	// SlowToken delays token responses by Config.SlowDelay.
	SlowToken
	// ServerErrorDiscovery answers discovery with 500.
	ServerErrorDiscovery
	// ServerErrorJWKS answers the JWKS with 500.
	ServerErrorJWKS
	// ServerErrorToken answers the token endpoint with 500 (after checking
	// nothing).
	ServerErrorToken
	// ServerErrorUserInfo answers userinfo with 500.
	ServerErrorUserInfo
	// TokenNoIDToken leaves id_token out of successful token responses.
	TokenNoIDToken
	// TokenIDTokenWrongType sends id_token as a JSON number.
	TokenIDTokenWrongType
	// TokenErrorIn200 adds "error":"server_error" to a successful (200)
	// token response that otherwise looks complete.
	TokenErrorIn200
	// AuthorizeWrongIssuer sends iss (RFC 9207) with another issuer.
	AuthorizeWrongIssuer
	// AuthorizeMissingIssuer leaves iss out of the authorization response.
	AuthorizeMissingIssuer
	// AuthorizeWrongState sends a state the client never sent.
	AuthorizeWrongState
	// AuthorizeError answers the authorization request with
	// error=access_denied (with state and iss) instead of a code.
	AuthorizeError

	// UserInfo.

	// UserInfoOtherSubject sets sub of the userinfo response (JSON or
	// signed) to another user's, different from the ID token's; OIDC Core
	// §5.3.4 says the client must not use such a response.
	UserInfoOtherSubject

	// Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6),
	// sent by [Server.SendLogoutToken] and by the end-session endpoint.

	// LogoutTokenNonce adds a nonce claim, which a logout token must never
	// carry (it would let it pass for an ID token).
	LogoutTokenNonce
	// LogoutTokenNoEvents leaves the events claim out.
	LogoutTokenNoEvents
	// LogoutTokenWrongTyp sets the typ header to at+jwt instead of
	// logout+jwt.
	LogoutTokenWrongTyp
	// LogoutTokenReplay sends the jti of the previous logout token the
	// server sent (to any client) again; the first logout token the server
	// sends still gets a fresh jti.
	LogoutTokenReplay
	// LogoutTokenOtherSubject sets sub to another user's than the one
	// logged out (adding sub when only sid was to be sent), so that sub
	// and sid no longer belong together.
	LogoutTokenOtherSubject
	// PAR and DPoP.

	// BearerAfterDPoP answers token_type Bearer to a token request that
	// carried a DPoP proof; the tokens are still bound to the proof's key.
	BearerAfterDPoP
	// DPoPNonceEveryRequest answers every request carrying an otherwise
	// valid DPoP proof (token, PAR and userinfo endpoints) with
	// use_dpop_nonce and a fresh DPoP-Nonce, whatever nonce the proof
	// holds, so a client must give up after one retry.
	DPoPNonceEveryRequest
	// PARExpiredRequestURI issues request_uri values that have expired
	// already (expires_in 0); the authorization endpoint refuses them.
	PARExpiredRequestURI
	// PARRedirect answers the PAR endpoint with 307 to another URL (counted
	// as EndpointPARRedirected), which a client must not follow with its
	// client assertion.
	PARRedirect
	// DPoPNonceHuge sends a DPoP-Nonce header of 1 MiB with use_dpop_nonce
	// answers (it takes effect with Config.DPoPNonceRequired or
	// DPoPNonceEveryRequest).
	DPoPNonceHuge

	endMisbehavior // keep last
)

var misbehaviorNames = [...]string{
	IDTokenWrongIssuer:             "IDTokenWrongIssuer",
	IDTokenMissingSubject:          "IDTokenMissingSubject",
	IDTokenWrongAudience:           "IDTokenWrongAudience",
	IDTokenMissingAudience:         "IDTokenMissingAudience",
	IDTokenExtraAudienceWithoutAZP: "IDTokenExtraAudienceWithoutAZP",
	IDTokenMissingIssuedAt:         "IDTokenMissingIssuedAt",
	IDTokenIssuedInFuture:          "IDTokenIssuedInFuture",
	IDTokenExpired:                 "IDTokenExpired",
	IDTokenWrongNonce:              "IDTokenWrongNonce",
	IDTokenMissingNonce:            "IDTokenMissingNonce",
	IDTokenAlgNone:                 "IDTokenAlgNone",
	IDTokenCorruptSignature:        "IDTokenCorruptSignature",
	IDTokenHS256WithPublicKey:      "IDTokenHS256WithPublicKey",
	IDTokenUnpublishedKey:          "IDTokenUnpublishedKey",
	IDTokenNoKIDOneKey:             "IDTokenNoKIDOneKey",
	IDTokenNoKIDSeveralKeys:        "IDTokenNoKIDSeveralKeys",
	IDTokenWrongATHash:             "IDTokenWrongATHash",
	RotateBeforeSigning:            "RotateBeforeSigning",
	RotateBetweenLogins:            "RotateBetweenLogins",
	JWKSEncryptionKey:              "JWKSEncryptionKey",
	JWKSSymmetricKey:               "JWKSSymmetricKey",
	JWKSSecp256k1Key:               "JWKSSecp256k1Key",
	JWKSDecoySameKID:               "JWKSDecoySameKID",
	DiscoveryIssuerMismatch:        "DiscoveryIssuerMismatch",
	DiscoveryHTTPEndpoints:         "DiscoveryHTTPEndpoints",
	DiscoveryNoPrivateKeyJWT:       "DiscoveryNoPrivateKeyJWT",
	OversizedDiscovery:             "OversizedDiscovery",
	OversizedJWKS:                  "OversizedJWKS",
	OversizedToken:                 "OversizedToken",
	SlowDiscovery:                  "SlowDiscovery",
	SlowJWKS:                       "SlowJWKS",
	SlowToken:                      "SlowToken",
	ServerErrorDiscovery:           "ServerErrorDiscovery",
	ServerErrorJWKS:                "ServerErrorJWKS",
	ServerErrorToken:               "ServerErrorToken",
	ServerErrorUserInfo:            "ServerErrorUserInfo",
	TokenNoIDToken:                 "TokenNoIDToken",
	TokenIDTokenWrongType:          "TokenIDTokenWrongType",
	TokenErrorIn200:                "TokenErrorIn200",
	AuthorizeWrongIssuer:           "AuthorizeWrongIssuer",
	AuthorizeMissingIssuer:         "AuthorizeMissingIssuer",
	AuthorizeWrongState:            "AuthorizeWrongState",
	AuthorizeError:                 "AuthorizeError",
	UserInfoOtherSubject:           "UserInfoOtherSubject",
	LogoutTokenNonce:               "LogoutTokenNonce",
	LogoutTokenNoEvents:            "LogoutTokenNoEvents",
	LogoutTokenWrongTyp:            "LogoutTokenWrongTyp",
	LogoutTokenReplay:              "LogoutTokenReplay",
	LogoutTokenOtherSubject:        "LogoutTokenOtherSubject",
	BearerAfterDPoP:                "BearerAfterDPoP",
	DPoPNonceEveryRequest:          "DPoPNonceEveryRequest",
	PARExpiredRequestURI:           "PARExpiredRequestURI",
	PARRedirect:                    "PARRedirect",
	DPoPNonceHuge:                  "DPoPNonceHuge",
}

// String returns the constant's name, such as "IDTokenAlgNone".
func (m Misbehavior) String() string {
	if m > 0 && m < endMisbehavior {
		return misbehaviorNames[m]
	}
	return "Misbehavior(" + strconv.Itoa(int(m)) + ")"
}

// Misbehaviors lists every defined misbehavior, in declaration order.
func Misbehaviors() []Misbehavior {
	out := make([]Misbehavior, 0, int(endMisbehavior)-1)
	for m := Misbehavior(1); m < endMisbehavior; m++ {
		out = append(out, m)
	}
	return out
}
