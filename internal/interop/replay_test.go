package interop_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
)

// TestInteropReplayRefused sends one assertion twice, by hand: the provider
// accepts it once and refuses the second use as a replay. That shows the
// provider checks jti, so that the suite-wide check after the run (no
// refusal at all, replays included, for any client the library drives)
// means something. The library, asked next for the same client, mints a new
// assertion and is accepted.
func TestInteropReplayRefused(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	key, err := staticKey(clientReplay)
	if err != nil {
		t.Fatal(err)
	}
	r := newRP(t, lenientOP, clientReplay, key, assertion.ProfileRFC10070)
	mark := e.refusalMark(t, lenientOP, clientReplay)
	auth, err := r.clientAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if _, err := r.postToken(t.Context(), form, auth); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err = r.postToken(t.Context(), form, auth)
	var te *tokenError
	if !errors.As(err, &te) || te.Status != 401 || te.Code != "invalid_client" {
		t.Fatalf("second use: error = %v, want 401 invalid_client", err)
	}
	refs := e.refusalsSince(t, lenientOP, clientReplay, mark)
	if len(refs) != 1 || refs[0].Detail != replayDetail {
		t.Errorf("provider refusals for %s = %+v, want one with detail %q", clientReplay, refs, replayDetail)
	}

	c := newClient(t, lenientOP, clientReplay, key, assertion.ProfileRFC10070)
	for i := range 3 {
		if _, err := c.ClientCredentials(t.Context()); err != nil {
			t.Fatalf("exchange ClientCredentials #%d after the replay: %v", i+1, err)
		}
	}
}
