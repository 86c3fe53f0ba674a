package jwks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/httpread"
)

// remoteMaxRedirects bounds the redirects the default client follows, each
// to the origin of the original request.
const remoteMaxRedirects = 3

func (r *Remote) fetch(ctx context.Context, noCache bool) (*remoteSet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch %s: %v: %w", r.url, err, ErrFetch)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, ctxErr)
		}
		return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: fetch %s: status %d: %w", r.url, resp.StatusCode, ErrFetch)
	}
	body, err := httpread.All(resp.Body, r.maxBody)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return nil, fmt.Errorf("jwks: fetch %s: body exceeds %d bytes: %w: %w", r.url, r.maxBody, ErrFetch, httpread.ErrTooLarge)
		}
		return nil, fmt.Errorf("jwks: fetch %s: reading body: %w: %w", r.url, ErrFetch, err)
	}
	keys, skipped, err := parseRemoteSet(body, r.maxKeys)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, err)
	}
	for _, s := range skipped {
		r.log.Info("jwks: key skipped", slog.String("jwks_url", r.url), slog.String("kid", s.kid), slog.String("reason", s.reason))
	}
	now := r.now()
	ttl := r.refreshAfter
	if ma, ok := cacheMaxAge(resp.Header); ok {
		ttl = ma
	}
	ttl = min(max(ttl, r.minInterval), r.maxAge)
	set := &remoteSet{all: keys, byKID: make(map[string][]PublicKey, len(keys)), fetched: now, freshUntil: now.Add(ttl)}
	for _, k := range keys {
		if k.KeyID != "" {
			set.byKID[k.KeyID] = append(set.byKID[k.KeyID], k)
		}
	}
	return set, nil
}

// maxAge reads the max-age directive of Cache-Control. no-cache and
// no-store read as zero (the floor, MinInterval, then applies).
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	var out time.Duration
	found := false
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				if n > int64(maxRemoteAge/time.Second) {
					n = int64(maxRemoteAge / time.Second)
				}
				out, found = time.Duration(n)*time.Second, true
			}
		}
	}
	return out, found
}
