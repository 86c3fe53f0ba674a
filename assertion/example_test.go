package assertion_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// exampleNow is the fixed clock of the examples: 2026-11-23T12:00:00Z.
func exampleNow() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

// show prints the decoded header and claims of a token this process just
// minted, with the random jti replaced. Never print a real token or trust
// decoded claims of a token you received without verifying it.
func show(token string) {
	parts := strings.Split(token, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatal(err)
	}
	if jti, ok := claims["jti"].(string); ok {
		if _, err := uuid.Parse(jti); err == nil {
			claims["jti"] = "random-uuid-v4"
		}
	}
	c, _ := json.Marshal(claims) // members sorted by name
	fmt.Printf("header: %s\nclaims: %s\n", header, c)
}

// A client assertion for private_key_jwt: aud is the issuer, typ is
// client-authentication+jwt (RFC 10070). Send it as client_assertion with
// client_assertion_type = assertion.ClientAssertionType; mint a new one for
// every token request.
func ExampleMinter_Assertion() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.P256A), jwks.KeyConfig{KeyID: "2026-11"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := assertion.NewMinter(key, assertion.Config{
		ClientID: "s6BhdRkqt3",
		Audience: "https://server.example.com", // the issuer, as discovery validated it
		Now:      exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := m.Assertion(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	show(a)
	// Output:
	// header: {"alg":"ES256","kid":"2026-11","typ":"client-authentication+jwt"}
	// claims: {"aud":"https://server.example.com","exp":1795435500,"iat":1795435200,"iss":"s6BhdRkqt3","jti":"random-uuid-v4","sub":"s6BhdRkqt3"}
}

// The legacy profile for servers that still want the token endpoint URL as
// aud, such as Microsoft Entra ID, which also wants the certificate's
// SHA-256 thumbprint in x5t#S256. Prefer the default profile wherever the
// server accepts it.
func ExampleMinter_Assertion_legacy() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048A), jwks.KeyConfig{KeyID: "entra-1"})
	if err != nil {
		log.Fatal(err)
	}
	cert := exampleCertificate(key) // normally x509.ParseCertificate of the uploaded certificate
	m, err := assertion.NewMinter(key, assertion.Config{
		ClientID:    "6731de76-14a6-49ae-97bc-6eba6914391e",
		Audience:    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
		Profile:     assertion.ProfileLegacy,
		Certificate: cert,
		Lifetime:    2 * time.Minute,
		Now:         exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := m.Assertion(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	show(a)
	// Output:
	// header: {"alg":"RS256","kid":"entra-1","typ":"JWT","x5t#S256":"z3Dx_dLACK3aRgb_R9RyDOZmzuEXnrcc1s8rHCMDyAs"}
	// claims: {"aud":"https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token","exp":1795435320,"iat":1795435200,"iss":"6731de76-14a6-49ae-97bc-6eba6914391e","jti":"random-uuid-v4","sub":"6731de76-14a6-49ae-97bc-6eba6914391e"}
}

// exampleCertificate makes a deterministic self-signed certificate for the
// example key (RSA PKCS #1 v1.5 signatures are deterministic).
func exampleCertificate(key *jwks.Key) *x509.Certificate {
	signer := testkeys.Signer(testkeys.RSA2048A)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2026),
		Subject:      pkix.Name{CommonName: "pkjwt example"},
		NotBefore:    exampleNow(),
		NotAfter:     exampleNow().AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), signer)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return cert
}

// A Crossmint-style user token: iss is the project, sub the user, aud
// "crossmint.com", valid for 10 minutes, RS256. The partner fetches the
// public key from your /.well-known/jwks.json (see jwks.Set).
func ExampleTokenMinter_Mint() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048A), jwks.KeyConfig{KeyID: "crossmint-1"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
		Issuer:   "proj_7f2c1d",
		Audience: []string{"crossmint.com"},
		Lifetime: 10 * time.Minute,
		Now:      exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := m.Mint(context.Background(), map[string]any{"email": "ada@example.com"}, assertion.WithSubject("user-42"))
	if err != nil {
		log.Fatal(err)
	}
	show(tok)
	// Output:
	// header: {"alg":"RS256","kid":"crossmint-1","typ":"JWT"}
	// claims: {"aud":"crossmint.com","email":"ada@example.com","exp":1795435800,"iat":1795435200,"iss":"proj_7f2c1d","jti":"random-uuid-v4","sub":"user-42"}
}

// A Stytch-style trusted auth token: the user's email and role assignments
// as custom claims, the caller's own token ID as jti, 5 minutes.
func ExampleTokenMinter_Mint_stytch() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048B), jwks.KeyConfig{KeyID: "stytch-1"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
		Issuer:   "https://auth.example.com",
		Audience: []string{"project-live-c0ffee"},
		Now:      exampleNow, // Lifetime zero: 5 minutes
	})
	if err != nil {
		log.Fatal(err)
	}
	claims := struct {
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	}{"ada@example.com", []string{"billing-admin", "viewer"}}
	tok, err := m.Mint(context.Background(), claims, assertion.WithJTI("tat_8d1e5b"))
	if err != nil {
		log.Fatal(err)
	}
	show(tok)
	// Output:
	// header: {"alg":"RS256","kid":"stytch-1","typ":"JWT"}
	// claims: {"aud":"project-live-c0ffee","email":"ada@example.com","exp":1795435500,"iat":1795435200,"iss":"https://auth.example.com","jti":"tat_8d1e5b","roles":["billing-admin","viewer"]}
}

// A SuperTokens-style service token: one microservice calls another with a
// marker claim the callee demands, short-lived, audience per call.
func ExampleTokenMinter_Mint_superTokens() {
	key, err := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048C), jwks.KeyConfig{KeyID: "billing-1"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
		Issuer: "https://billing.internal.example",
		Now:    exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := m.Mint(context.Background(), map[string]string{"source": "microservice"},
		assertion.WithAudience("https://orders.internal.example"),
		assertion.WithLifetime(30*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	show(tok)
	// Output:
	// header: {"alg":"RS256","kid":"billing-1","typ":"JWT"}
	// claims: {"aud":"https://orders.internal.example","exp":1795435230,"iat":1795435200,"iss":"https://billing.internal.example","jti":"random-uuid-v4","source":"microservice"}
}

// An assertion another system mints and keeps fresh in a file, such as a
// Kubernetes projected service-account token: read again at every use.
func ExampleFromFile() {
	src := assertion.FromFile("/var/run/secrets/tokens/client-assertion")
	_, err := src.Assertion(context.Background())
	fmt.Println(err != nil) // no such file here
	// Output:
	// true
}
