package interop_test

import (
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
)

// noKeyDetail is oidc-provider's error_detail for an assertion whose kid is
// not in the client's (cached) JWK Set.
const noKeyDetail = "no applicable key found in the JSON Web Key Set"

// ccOnce fetches one client-credentials token with a fresh assertion signed
// by the key the ring yields now, and returns that key's ID.
func ccOnce(t *testing.T, c *exchange.Client, ring *jwks.Ring) (string, error) {
	t.Helper()
	k, err := ring.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ClientCredentials(t.Context())
	return k.KeyID(), err
}

// TestInteropRotation rotates the client's key through its jwks_uri the way
// jwks.Ring schedules it: the next key is published a Lead ahead of its
// activation, so the provider, which fetched the set once and caches it for
// at least a minute, already holds the new key when the first assertion
// signed with it arrives. No request fails.
func TestInteropRotation(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	c := e.rotating[clientRotation]
	rot, err := c.reset()
	if err != nil {
		t.Fatal(err)
	}
	next, err := loadKey(rotationKeys[1].key, rotationKeys[1].alg)
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, strictOP, clientRotation, rot.ring, assertion.ProfileRFC10070)

	// Publish the next key before the provider first fetches the set (on a
	// second run, -count=2, the provider still holds the first run's set,
	// which has both keys).
	before := c.fetches.Load()
	if err := rot.ring.Rotate(next); err != nil {
		t.Fatal(err)
	}
	kid1, err := ccOnce(t, cl, rot.ring)
	if err != nil {
		t.Fatalf("before rotation (kid %s): %v", kid1, err)
	}
	fetched := c.fetches.Load()
	if fetched-before > 1 {
		t.Fatalf("jwks_uri fetched %d times for the first request, want at most 1", fetched-before)
	}

	rot.clock.Advance(rotationLead)
	kid2, err := ccOnce(t, cl, rot.ring)
	if err != nil {
		t.Fatalf("after rotation (kid %s): %v", kid2, err)
	}
	if kid2 == kid1 || kid2 != next.KeyID() {
		t.Fatalf("signing kid after rotation = %s, want the new key %s", kid2, next.KeyID())
	}
	// The provider verified the new key from the set it fetched before the
	// rotation: the jwks_uri was not asked again.
	if got := c.fetches.Load(); got != fetched {
		t.Errorf("jwks_uri fetched %d more times after the rotation, want 0 (the new key comes from the cached set)", got-fetched)
	}
}

// TestInteropRotationUnpublishedKeyRefused is the control for
// TestInteropRotation: a key that starts signing at once, without being
// published ahead, is refused while the provider's cached set lacks it. This
// is why jwks.Ring publishes keys a Lead ahead.
func TestInteropRotationUnpublishedKeyRefused(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	c := e.rotating[clientRotationLate]
	rot, err := c.reset()
	if err != nil {
		t.Fatal(err)
	}
	next, err := loadKey(rotationKeys[1].key, rotationKeys[1].alg)
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, strictOP, clientRotationLate, rot.ring, assertion.ProfileRFC10070)
	mark := e.refusalMark(t, strictOP, clientRotationLate)

	if kid, err := ccOnce(t, cl, rot.ring); err != nil {
		t.Fatalf("first request (kid %s): %v", kid, err)
	}
	fetched := c.fetches.Load()
	// Active at once: published from Activate-Lead, which is already past.
	if err := rot.ring.Add(jwks.Entry{Key: next, Activate: rot.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	kid, err := ccOnce(t, cl, rot.ring)
	if kid != next.KeyID() {
		t.Fatalf("signing kid = %s, want the new key %s", kid, next.KeyID())
	}
	if !isInvalidClient(err) {
		t.Fatalf("assertion signed with an unpublished key: error = %v, want 401 invalid_client", err)
	}
	if got := c.fetches.Load(); got != fetched {
		t.Errorf("jwks_uri fetched %d more times for the unpublished key, want 0 (the provider refetches only after its cache expires)", got-fetched)
	}
	refs := e.refusalsSince(t, strictOP, clientRotationLate, mark)
	if len(refs) != 1 || refs[0].Error != "invalid_client" || refs[0].Detail != noKeyDetail {
		t.Errorf("provider refusals for %s = %+v, want one invalid_client with detail %q", clientRotationLate, refs, noKeyDetail)
	}
}

// TestInteropLoopbackJWKSURIGuarded checks oidc-provider's SSRF guard: a
// client whose jwks_uri is on loopback, and not among the origins server.mjs
// lets through, cannot authenticate, and its jwks_uri never receives a
// request. So the suite's exception for its own jwks_uri servers is needed,
// and narrow.
func TestInteropLoopbackJWKSURIGuarded(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	c := e.rotating[clientGuarded]
	rot, err := c.reset()
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, strictOP, clientGuarded, rot.ring, assertion.ProfileRFC10070)
	mark := e.refusalMark(t, strictOP, clientGuarded)
	if _, err := cl.ClientCredentials(t.Context()); !isInvalidClient(err) {
		t.Fatalf("ClientCredentials with a guarded loopback jwks_uri: error = %v, want 401 invalid_client", err)
	}
	if got := c.fetches.Load(); got != 0 {
		t.Errorf("guarded jwks_uri received %d requests, want 0", got)
	}
	refs := e.refusalsSince(t, strictOP, clientGuarded, mark)
	// oidc-provider reports the failed fetch as invalid_client_metadata.
	if len(refs) != 1 || refs[0].Error != "invalid_client" || refs[0].Detail != "invalid_client_metadata" {
		t.Errorf("provider refusals for %s = %+v, want one invalid_client with detail invalid_client_metadata", clientGuarded, refs)
	}
}
