package provider

import "testing"

// FuzzLogoutClaims: the logout token claim reader and the events check
// never panic on verified-but-hostile payloads.
func FuzzLogoutClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"i","aud":"c","iat":1,"jti":"j","sub":"s","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`,
		`{"events":{"http://schemas.openid.net/event/backchannel-logout":{},"http://schemas.openid.net/event/backchannel-logout":{}}}`,
		`{"events":[]}`, `{"events":"x"}`, `{"nonce":null}`, `{"aud":[1]}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c logoutClaims
		if decodeLogoutClaims(b, &c) == nil && c.events != nil {
			_ = checkLogoutEvent(c.events)
		}
	})
}
