package providertest

import (
	"context"
	"net/http"
)

// writeUserInfo writes a successful userinfo response (OIDC Core §5.3.2)
// for the access token tok: JSON, or a signed JWT when the token's client
// registered UserInfoSigned. claims holds sub and the user's claims; the
// UserInfoOtherSubject misbehavior applies here.
func (s *Server) writeUserInfo(ctx context.Context, w http.ResponseWriter, tok string, claims map[string]any) {
	s.mu.Lock()
	var clientID string
	if t := s.tokens[tok]; t != nil {
		clientID = t.clientID
	}
	cs := s.clients[clientID]
	signed := cs != nil && cs.UserInfoSigned
	other := s.on(UserInfoOtherSubject)
	s.mu.Unlock()
	if other {
		claims["sub"] = otherSubject(claims["sub"])
	}
	w.Header().Set("Cache-Control", "no-store")
	if !signed {
		s.writeJSON(w, claims, "application/json", false)
		return
	}
	claims["iss"] = s.issuer
	claims["aud"] = clientID
	jwt, err := s.jwtToken(ctx, "JWT", claims)
	if err != nil { // the embedded test keys sign; nothing to record
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Write([]byte(jwt))
}

// otherSubject returns a subject identifier that differs from sub.
func otherSubject(sub any) string {
	s, _ := sub.(string)
	return "other-than-" + s
}
