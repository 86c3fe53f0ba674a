package jose

import "unsafe"

// unsafeBytes views s as bytes without copying. The result is only read
// (hashed or verified), never written or kept.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
