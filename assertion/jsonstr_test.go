package assertion

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
)

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `q"uote`, `back\slash`, "nl\ncr\rtab\t", "\x00\x01\x1f\x7f",
		"<script>&</script>", "ünïcödé 😀", "\u2028\u2029", "a\xffb", "\xc3", "trailing\\",
	} {
		got := appendJSONString(nil, s)
		if !json.Valid(got) {
			t.Errorf("appendJSONString(%q) = %s, not valid JSON", s, got)
			continue
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, want)
		}
	}
	if got := string(appendJSONString(nil, "\u2028")); got != `"\u2028"` {
		t.Errorf("U+2028 encoded as %s", got)
	}
}

func TestAppendUUID(t *testing.T) {
	t.Parallel()
	for range 100 {
		id := uuid.New()
		if got := string(appendUUID(nil, id)); got != id.String() {
			t.Fatalf("appendUUID = %q, want %q", got, id.String())
		}
	}
}

func TestTextProblem(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"s6BhdRkqt3": true, "a b": true, "ü": true, "": false, " a": false, "a ": false,
		"a\n": false, "a\x00b": false, "\u00a0a": false, "a\u2028b": true, "a\u2028": false, "a\x85b": false,
		"a\u0085b": false, "\xff": false,
	} {
		if got := textProblem(s) == ""; got != ok {
			t.Errorf("textProblem(%q) ok = %v, want %v", s, got, ok)
		}
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	s := shorten(strings.Repeat("é", 100))
	if !utf8.ValidString(s) || len(s) > 64+len("…") {
		t.Errorf("shorten = %q", s)
	}
}
