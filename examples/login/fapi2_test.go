package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHeadlessFAPI2 runs the FAPI 2.0 login against the embedded provider
// (PAR required, DPoP nonces required) and checks the printed steps, and
// that no token, code or assertion is printed.
func TestHeadlessFAPI2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-fapi2"}, &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"FAPI 2.0:  tokens bound to DPoP key jkt ",
		"2. pushed the authorization request (PAR, RFC 9126)",
		"request_uri urn:ietf:params:oauth:request_uri:…\n",
		"with only client_id and request_uri\n",
		"3. callback: state and iss (RFC 9207) checked",
		"token_type DPoP, bound to jkt ",
		"5. UserInfo answered",
		"  sub             248289761001\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// JWTs start with eyJ; nothing of the kind may be printed.
	if strings.Contains(out+stderr.String(), "eyJ") {
		t.Errorf("output holds a JWT:\n%s\n%s", out, stderr.String())
	}
}

func TestFAPI2FlagConflicts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-fapi2", "-legacy-aud"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-legacy-aud") {
		t.Errorf("-fapi2 -legacy-aud: error = %v", err)
	}
}
