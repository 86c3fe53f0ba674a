package jwks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// Set is an immutable public JWK Set (RFC 7517 §5): the public halves of
// signing keys, ready to publish. Its JSON is computed once, so every
// requester gets identical bytes. Members are kty, kid, use ("sig"), alg and
// the public members only — never d, p, q, dp, dq, qi, oth or k.
type Set struct {
	keys []*Key
	json []byte
	etag string
}

// emptySet is what a nil *Set publishes. It is never modified.
var emptySet = NewSet()

// SetSource yields the public set to publish now. *[Set] (itself) and
// *[Ring] (its current snapshot) implement it.
type SetSource interface {
	PublicSet() *Set
}

var _ SetSource = (*Set)(nil)

// NewSet returns the public set of keys, in the order given. Keys sharing a
// key ID are published once (the first wins); nil keys are skipped. A nil
// *Set and the zero Set behave as the empty set {"keys":[]}.
func NewSet(keys ...*Key) *Set {
	s := &Set{}
	seen := map[string]bool{}
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for _, k := range keys {
		if k == nil || seen[k.kid] {
			continue
		}
		seen[k.kid] = true
		if len(s.keys) > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k.jwk)
		s.keys = append(s.keys, k)
	}
	buf.WriteString("]}")
	s.json = buf.Bytes()
	sum := sha256.Sum256(s.json)
	s.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	return s
}

// PublicSet returns s itself, so that a fixed Set serves as a [SetSource].
func (s *Set) PublicSet() *Set { return s }

// JSON returns the set as {"keys":[…]} JSON. The slice is a copy.
func (s *Set) JSON() []byte { return append([]byte(nil), s.orEmpty().json...) }

func (s *Set) orEmpty() *Set {
	if s == nil || s.json == nil {
		return emptySet
	}
	return s
}

// MarshalJSON returns the same bytes as [Set.JSON].
func (s *Set) MarshalJSON() ([]byte, error) { return s.JSON(), nil }

// entityTag returns a strong entity tag (RFC 9110 §8.8.3) of the set's JSON,
// quoted: the same bytes always give the same tag, on every replica.
func (s *Set) entityTag() string { return s.orEmpty().etag }

// KeyIDs returns the key IDs in the set, in order.
func (s *Set) KeyIDs() []string {
	s = s.orEmpty()
	out := make([]string, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.kid
	}
	return out
}
