package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// signJWT signs header and claims with key as a compact JWS, whatever they
// hold: the probes below need assertions the library refuses to make. An
// "alg" of "none" yields an unsigned JWT.
func signJWT(ctx context.Context, key *jwks.Key, header, claims map[string]any) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	in := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	if header["alg"] == "none" {
		return in + ".", nil
	}
	sig, err := key.Sign(ctx, []byte(in))
	if err != nil {
		return "", err
	}
	return in + "." + enc.EncodeToString(sig), nil
}

// outcome of one probe at one provider: "ok" or the error code.
type outcome string

const accepted outcome = "ok"

// probe describes one hand-made client assertion and what each provider
// answers. The comments on the cases say where providertest differs.
type probe struct {
	name   string
	client string // default clientProbe
	// wrongKey signs with a key not registered for the client, under the
	// registered key's kid.
	wrongKey bool
	edit     func(md *metadata, h, c map[string]any, form url.Values)
	lenient  outcome
	strict   outcome
}

// The error codes the probes expect.
const invalidClient, invalidRequest outcome = "invalid_client", "invalid_request"

// assertionProbes returns the probes of TestInteropAssertionRules.
func assertionProbes() []probe {
	now := func() int64 { return time.Now().Unix() }
	return []probe{
		{name: "baseline RFC 10070", lenient: accepted, strict: accepted},
		{name: "aud array of the issuer", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["aud"] = []string{md.Issuer} },
			lenient: accepted, strict: invalidClient},
		{name: "aud array issuer and another", edit: func(md *metadata, h, c map[string]any, _ url.Values) {
			c["aud"] = []string{"https://attacker.example", md.Issuer}
		}, lenient: accepted, strict: invalidClient},
		{name: "aud token endpoint", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["aud"] = md.TokenEndpoint },
			lenient: accepted, strict: invalidClient},
		{name: "aud issuer with trailing slash", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["aud"] = md.Issuer + "/" },
			lenient: invalidClient, strict: invalidClient},
		{name: "aud another server", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["aud"] = "https://attacker.example" },
			lenient: invalidClient, strict: invalidClient},
		{name: "no typ", edit: func(md *metadata, h, c map[string]any, _ url.Values) { delete(h, "typ") },
			lenient: accepted, strict: invalidClient},
		{name: "typ JWT", edit: func(md *metadata, h, c map[string]any, _ url.Values) { h["typ"] = "JWT" },
			lenient: accepted, strict: invalidClient},
		{name: "typ at+jwt", edit: func(md *metadata, h, c map[string]any, _ url.Values) { h["typ"] = "at+jwt" },
			lenient: accepted, strict: invalidClient},
		{name: "no iat", edit: func(md *metadata, h, c map[string]any, _ url.Values) { delete(c, "iat") },
			lenient: accepted, strict: accepted},
		{name: "iat an hour ahead", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["iat"] = now() + 3600 },
			lenient: accepted, strict: accepted},
		{name: "lifetime a day", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["exp"] = now() + 86400 },
			lenient: accepted, strict: accepted},
		{name: "expired 5s ago", edit: func(md *metadata, h, c map[string]any, _ url.Values) {
			c["iat"], c["exp"] = now()-65, now()-5
		}, lenient: accepted, strict: accepted},
		{name: "expired 60s ago", edit: func(md *metadata, h, c map[string]any, _ url.Values) {
			c["iat"], c["exp"] = now()-120, now()-60
		}, lenient: invalidClient, strict: invalidClient},
		{name: "nbf 60s ahead", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["nbf"] = now() + 60 },
			lenient: invalidClient, strict: invalidClient},
		{name: "no exp", edit: func(md *metadata, h, c map[string]any, _ url.Values) { delete(c, "exp") },
			lenient: invalidClient, strict: invalidClient},
		{name: "no jti", edit: func(md *metadata, h, c map[string]any, _ url.Values) { delete(c, "jti") },
			lenient: invalidClient, strict: invalidClient},
		{name: "iss another client", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["iss"] = clientProbeES384 },
			lenient: invalidClient, strict: invalidClient},
		{name: "sub another client", edit: func(md *metadata, h, c map[string]any, _ url.Values) { c["sub"] = clientProbeES384 },
			lenient: invalidClient, strict: invalidClient},
		{name: "client_id differs from sub", edit: func(md *metadata, h, c map[string]any, f url.Values) { f.Set("client_id", clientProbeES384) },
			lenient: invalidRequest, strict: invalidRequest},
		{name: "no kid", edit: func(md *metadata, h, c map[string]any, _ url.Values) { delete(h, "kid") },
			lenient: accepted, strict: accepted},
		{name: "unknown kid", edit: func(md *metadata, h, c map[string]any, _ url.Values) { h["kid"] = "unknown" },
			lenient: invalidClient, strict: invalidClient},
		{name: "alg none", edit: func(md *metadata, h, c map[string]any, _ url.Values) { h["alg"] = "none" },
			lenient: invalidClient, strict: invalidClient},
		{name: "signed by an unregistered key", wrongKey: true, lenient: invalidClient, strict: invalidClient},
		{name: "ES384 key", client: clientProbeES384, lenient: invalidClient, strict: invalidClient},
	}
}

// runProbe signs p's assertion for r's provider and POSTs it with a
// client_credentials request. other is a key not registered for any probe
// client. It returns "ok" or the error code.
func runProbe(t *testing.T, r *rp, p probe, other *jwks.Key) outcome {
	t.Helper()
	now := time.Now().Unix()
	client := p.client
	if client == "" {
		client = clientProbe
	}
	k, err := staticKey(client)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]any{"alg": string(k.Algorithm()), "kid": k.KeyID(), "typ": "client-authentication+jwt"}
	if p.wrongKey {
		k = other
	}
	c := map[string]any{"iss": client, "sub": client, "aud": r.md.Issuer, "iat": now, "exp": now + 60, "jti": rand.Text()}
	form := url.Values{"grant_type": {"client_credentials"}}
	if p.edit != nil {
		p.edit(r.md, h, c, form)
	}
	a, err := signJWT(t.Context(), k, h, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.postToken(t.Context(), form, url.Values{
		"client_assertion_type": {assertion.ClientAssertionType},
		"client_assertion":      {a},
	})
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return outcome(te.Code)
	case err != nil:
		t.Fatalf("%s: %v", p.name, err)
	}
	return accepted
}

// TestInteropAssertionRules pins down which client assertions oidc-provider
// accepts and refuses, in both audience modes, with assertions made by hand.
// It documents the real provider's rules (and catches a change in them when
// the lock file moves); the note of issue 8 compares them with providertest.
func TestInteropAssertionRules(t *testing.T) {
	needInterop(t)
	t.Parallel()
	other, err := loadKey(testkeys.P256B, jwks.ES256) // not registered for the probe client
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{lenientOP, strictOP} {
		key, err := staticKey(clientProbe)
		if err != nil {
			t.Fatal(err)
		}
		r := newRP(t, op, clientProbe, key, assertion.ProfileRFC10070)
		marks := map[string]int{}
		for _, client := range []string{clientProbe, clientProbeES384} {
			marks[client] = env.refusalMark(t, op, client)
		}
		for _, p := range assertionProbes() {
			want := p.lenient
			if op == strictOP {
				want = p.strict
			}
			if got := runProbe(t, r, p, other); got != want {
				t.Errorf("%s at %s: got %s, want %s", p.name, op, got, want)
			}
		}
		// The provider's reasons, for the record (go test -v).
		for _, client := range []string{clientProbe, clientProbeES384} {
			for _, ref := range env.refusalsSince(t, op, client, marks[client]) {
				t.Logf("%s refused %s: %s (%s): %s", op, client, ref.Error, ref.Description, ref.Detail)
			}
		}
	}
}
