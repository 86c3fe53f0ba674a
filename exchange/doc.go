// Package exchange talks to an OpenID Provider's token endpoint with a fresh
// private_key_jwt client assertion on every request.
package exchange
