package jwks

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

func TestSet(t *testing.T) {
	t.Parallel()
	a, b := testKey(t, testkeys.RSA2048A), testKey(t, testkeys.Ed25519A)
	s := NewSet(a, nil, b, a)
	if got := s.KeyIDs(); !slices.Equal(got, []string{a.KeyID(), b.KeyID()}) {
		t.Errorf("KeyIDs() = %q, want a, b (nil skipped, duplicate once)", got)
	}
	if len(s.KeyIDs()) != 2 || s.PublicSet() != s {
		t.Errorf("len(KeyIDs()) = %d, PublicSet() identity %v", len(s.KeyIDs()), s.PublicSet() == s)
	}
	want := `{"keys":[` + string(a.PublicJWKJSON()) + `,` + string(b.PublicJWKJSON()) + `]}`
	if string(s.JSON()) != want {
		t.Errorf("JSON() = %s, want %s", s.JSON(), want)
	}
	j := s.JSON()
	j[0] = 'X'
	if s.JSON()[0] != '{' {
		t.Errorf("JSON() returns the set's own buffer")
	}
	if m, err := json.Marshal(s); err != nil || !bytes.Equal(m, s.JSON()) {
		t.Errorf("json.Marshal(set) = %s, %v", m, err)
	}
	// ETag: equal sets, equal tags; another order or another key, another tag.
	if NewSet(a, b).entityTag() != s.entityTag() || NewSet(b, a).entityTag() == s.entityTag() || NewSet(a).entityTag() == s.entityTag() {
		t.Errorf("ETag() does not follow the bytes")
	}
	if z := (&Set{}); string(z.JSON()) != `{"keys":[]}` || z.entityTag() != NewSet().entityTag() {
		t.Errorf("the zero Set does not behave as the empty set")
	}
	var empty *Set
	if string(empty.JSON()) != `{"keys":[]}` || len(empty.KeyIDs()) != 0 || empty.entityTag() != NewSet().entityTag() {
		t.Errorf("a nil *Set does not behave as the empty set")
	}
}
