// Package interop holds only tests: pkjwt against a real OpenID Provider,
// panva's oidc-provider (npm package oidc-provider, version 9), run with
// Node.js on 127.0.0.1.
//
// The suite installs the provider from its own lock file (package-lock.json)
// with npm ci when node_modules is missing, starts server.mjs from TestMain
// and stops it when the tests end. On a machine without Node.js and npm the
// tests skip and say how to enable them (apt-get install nodejs npm); with
// PKJWT_REQUIRE_INTEROP=1 in the environment, as in CI, they fail instead.
//
// server.mjs runs three provider instances: strict and lenient (client
// assertion audience rules; both with introspection, revocation, userinfo,
// RP-initiated and back-channel logout, and the JWT bearer and token
// exchange grants) and fapi2 (FAPI 2.0 Security Profile with PAR and DPoP
// nonces required). Its header comment documents each.
//
//	go test ./internal/interop/
package interop
