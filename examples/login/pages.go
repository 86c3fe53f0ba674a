package main

import (
	"html/template"
	"net/http"
)

// page is the data every page template receives. html/template escapes every
// value, including claims the provider chose.
type page struct {
	Title   string
	Notice  string
	Error   string
	Hint    string
	User    *user
	Issuer  string
	JWKSURL string
}

var pages = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · pkjwt login example</title>
<style>
 body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
 main{max-width:44rem;margin:3rem auto;padding:2rem 2.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
 h1{font-size:1.5rem;margin:0 0 1rem}
 p.muted{color:#5b6475;font-size:.9rem}
 button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:8px;background:#2957d8;color:#fff;cursor:pointer}
 button.secondary{background:#e4e7ee;color:#1d2330}
 table{border-collapse:collapse;width:100%;margin:1rem 0 1.5rem;font-size:.9rem}
 th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e4e7ee;vertical-align:top}
 th{width:9rem;color:#5b6475;font-weight:600}
 td{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
 .notice{background:#e8f3ec;color:#1e5b33;padding:.6rem .9rem;border-radius:8px}
 .error{background:#fbeaea;color:#8a1c1c;padding:.6rem .9rem;border-radius:8px}
 code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
</style>
</head>
<body>
<main>
{{if .Error}}
 <h1>Login failed</h1>
 <p class="error" id="error">{{.Error}}</p>
 {{if .Hint}}<p>{{.Hint}}</p>{{end}}
 <p><a href="/">Back to the start page</a></p>
{{else if .User}}
 <h1>Signed in as <span id="name">{{or .User.Name .User.Subject}}</span></h1>
 <p class="muted">Subject <span id="subject">{{.User.Subject}}</span>. These claims come from an ID token whose signature, issuer, audience, expiry and nonce were verified.</p>
 <table id="claims">
 {{range .User.Claims}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
 {{end}}
 </table>
 {{if .User.UserInfo}}<p class="muted">The provider's UserInfo endpoint says (its sub was checked against the ID token's):</p>
 <table id="userinfo">
 {{range .User.UserInfo}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
 {{end}}
 </table>{{end}}
 <form method="post" action="/logout"><button id="logout" class="secondary" type="submit">Log out</button></form>
{{else}}
 <h1>pkjwt login example</h1>
 {{if .Notice}}<p class="notice" id="notice">{{.Notice}}</p>{{end}}
 <p>This app signs you in with OpenID Connect. It authenticates itself to the provider with a private key
 (<code>private_key_jwt</code>), not a shared secret.</p>
 <form method="post" action="/login"><button id="login" type="submit">Log in</button></form>
 <p class="muted">Provider: <code>{{.Issuer}}</code><br>This app's public keys: <a href="{{.JWKSURL}}"><code>{{.JWKSURL}}</code></a></p>
{{end}}
</main>
</body>
</html>
`))

// render writes the page with the given status code.
func render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pages.Execute(w, p)
}
