package jwks

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultMaxAge is the Cache-Control max-age a [Handler] sends when
// HandlerConfig.MaxAge is zero.
const defaultMaxAge = 5 * time.Minute

// contentType is the media type of a JWK Set (RFC 7517 §8.5.1).
const contentType = "application/jwk-set+json"

// HandlerConfig configures a [Handler]. The zero value is valid.
type HandlerConfig struct {
	// MaxAge is the Cache-Control max-age sent with the set, in whole
	// seconds (rounded down). Zero means five minutes; a
	// negative value sends max-age=0, so caches revalidate every time (cheap:
	// the ETag answers with 304). Keep it well below the [Ring]'s Lead.
	MaxAge time.Duration
}

// Handler serves a public JWK Set over HTTP, typically at
// /.well-known/jwks.json. On every request it asks its [SetSource] for the
// current set, so a [Ring]'s rotations show without a restart; every
// requester at the same moment gets identical bytes.
//
// It answers GET and HEAD with 200 and the set ({"keys":[…]}, public members
// only), Content-Type application/jwk-set+json, Cache-Control "public,
// max-age=N" and a strong ETag; 304 Not Modified when If-None-Match matches
// (RFC 9110 §13.1.2); and 405 with an Allow header to every other method.
//
// A Handler is safe for concurrent use. The zero Handler is not usable:
// create one with [NewHandler].
type Handler struct {
	src          SetSource
	cacheControl string
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a handler that serves src's public set: a fixed [*Set]
// or a [*Ring]. A nil src is served as the empty set {"keys":[]}.
func NewHandler(src SetSource, cfg HandlerConfig) *Handler {
	age := cfg.MaxAge
	switch {
	case age == 0:
		age = defaultMaxAge
	case age < 0:
		age = 0
	}
	return &Handler{
		src:          src,
		cacheControl: "public, max-age=" + strconv.FormatInt(int64(age/time.Second), 10),
	}
}

// ServeHTTP serves the set. It does no I/O besides writing the response.
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	hdr := w.Header()
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	var set *Set
	if h.src != nil {
		set = h.src.PublicSet()
	}
	set = set.orEmpty()
	hdr.Set("Cache-Control", h.cacheControl)
	hdr.Set("ETag", set.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if inms := req.Header.Values("If-None-Match"); len(inms) > 0 && etagMatch(inms, set.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(set.json)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(set.json) // a write error means the client went away
}

// etagMatch reports whether any If-None-Match field value matches etag
// (a quoted strong tag) under the weak comparison RFC 9110 §13.1.2 requires:
// W/"x" matches "x", and "*" matches any current representation. A
// malformed list stops matching at the first malformed member.
func etagMatch(values []string, etag string) bool {
	opaque := etag // includes the quotes
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			if v[0] == '*' {
				return true
			}
			v = strings.TrimPrefix(v, "W/")
			if len(v) < 2 || v[0] != '"' {
				break // malformed: ignore the rest of this field value
			}
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				break
			}
			if v[:end+2] == opaque {
				return true
			}
			v = v[end+2:]
		}
	}
	return false
}
