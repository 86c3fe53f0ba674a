package provider

import (
	"testing"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// TestATHash checks at_hash against the example of OpenID Connect Core 1.0
// Appendix A.4.
func TestATHash(t *testing.T) {
	t.Parallel()
	rs256, _ := jose.Lookup("RS256")
	if !atHashMatches(rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", []byte("77QmUPtjPfzWtF2AnpK9RQ")) {
		t.Fatal("at_hash of the OIDC Core example does not match")
	}
	if atHashMatches(rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Z", []byte("77QmUPtjPfzWtF2AnpK9RQ")) {
		t.Fatal("at_hash matched another access token")
	}
	if atHashMatches(rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", []byte("77QmUPtjPfzWtF2AnpK9RQA")) {
		t.Fatal("at_hash matched with a trailing character")
	}
}
