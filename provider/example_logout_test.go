package provider_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/pkjwt/pkjwt/provider"
)

// ExampleIDTokenVerifier_VerifyLogoutToken verifies the logout token a
// provider POSTs to the client's back-channel logout URI; the same token
// again is a replay. (exchange's Client.BackchannelLogoutHandler serves
// that URI with this check.)
func ExampleIDTokenVerifier_VerifyLogoutToken() {
	op := startExampleIssuer()
	defer op.Close()
	p, err := provider.Discover(context.Background(), op.URL, provider.Config{Now: exampleNow})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "s6BhdRkqt3"})
	if err != nil {
		panic(err)
	}
	raw := op.sign("logout+jwt", map[string]any{
		"iss": op.URL, "aud": "s6BhdRkqt3", "iat": exampleNow().Unix(), "jti": "bWJq",
		"sid": "08a5019c-17e1-4977-8f42-65a12843ea02", "sub": "248289761001",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	t, err := v.VerifyLogoutToken(context.Background(), raw)
	if err != nil {
		panic(err)
	}
	fmt.Println("end the sessions of sid", t.SessionID)
	_, err = v.VerifyLogoutToken(context.Background(), raw)
	fmt.Println("again:", errors.Is(err, provider.ErrTokenReplayed))
	// Output:
	// end the sessions of sid 08a5019c-17e1-4977-8f42-65a12843ea02
	// again: true
}
