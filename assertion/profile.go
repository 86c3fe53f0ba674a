package assertion

import (
	"strconv"
	"time"
)

// Profile selects how a client assertion names its audience and type. The
// choice is per authorization server.
type Profile int

const (
	// ProfileRFC10070 is the default (the zero value): "aud" is the
	// authorization server's validated issuer identifier as a single JSON
	// string and the header's "typ" is "client-authentication+jwt"
	// (RFC 10070). An assertion made for one server cannot be replayed at
	// another server's token endpoint that trusts the same client key
	// (audience injection).
	ProfileRFC10070 Profile = iota
	// ProfileLegacy serves servers that still demand the token endpoint URL
	// as "aud" (ORY Hydra, Okta, Microsoft Entra ID): "aud" is the token
	// endpoint URL as a single JSON string, "typ" is "JWT", and with
	// Config.Certificate the header carries "x5t#S256" (Entra).
	//
	// Risk: without the issuer as audience and without explicit typing, an
	// assertion is open to the audience-injection attack that RFC 10070
	// fixes. Use it only for servers that refuse ProfileRFC10070, with the
	// token endpoint taken from that server's validated discovery document.
	ProfileLegacy
)

// name returns "rfc10070", "legacy" or "Profile(n)", for messages.
func (p Profile) name() string {
	switch p {
	case ProfileRFC10070:
		return "rfc10070"
	case ProfileLegacy:
		return "legacy"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// ClientAssertionType is the value of the client_assertion_type form
// parameter that accompanies a client assertion (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Header "typ" values.
const (
	// typeClientAuthentication is the "typ" of a [ProfileRFC10070] client
	// assertion.
	typeClientAuthentication = "client-authentication+jwt"
	// typeJWT is the "typ" of a [ProfileLegacy] client assertion and the
	// default "typ" of a [TokenMinter] token.
	typeJWT = "JWT"
)

// Lifetimes and sizes.
const (
	// defaultLifetime is the lifetime of a client assertion or token when
	// none is configured, and the longest client assertion lifetime allowed
	// without Config.AllowLongLifetime.
	defaultLifetime = 5 * time.Minute
	// maxLifetime is the longest lifetime this package ever signs.
	maxLifetime = time.Hour
	// maxAssertionSize bounds an externally minted assertion read by
	// [FromFile] or returned by a [SourceFunc], in bytes after trimming.
	maxAssertionSize = 16 << 10
)
