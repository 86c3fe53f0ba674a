package jwks

import (
	"bytes"
	"encoding/json"
)

// writeJSONString writes s as a JSON string with encoding/json's escaping.
func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}
