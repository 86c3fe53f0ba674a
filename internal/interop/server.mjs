// server.mjs runs panva's oidc-provider on 127.0.0.1 for pkjwt's interop
// suite (go test ./internal/interop). It is test-only code: it approves every
// login as a fixed subject without a person, and it lets the provider fetch
// client JWK Sets from loopback addresses that the test names.
//
// Usage: node server.mjs CONFIG.json   (or the JSON in $PKJWT_INTEROP_CONFIG)
//
// CONFIG:
//   {
//     "subject": "interop-user",              // the account every login becomes
//     "providers": [{
//       "name": "strict",                     // key in the READY line
//       "audience": "strict" | "lenient",     // client assertion audience rule
//       "profile": "fapi2",                   // optional: the FAPI 2.0 instance (see below)
//       "loopbackJWKSOrigins": ["http://127.0.0.1:PORT"], // jwks_uri origins allowed past the SSRF guard
//       "loopbackBackchannelOrigins": ["http://127.0.0.1:PORT"], // backchannel_logout_uri origins, likewise
//       "clients": [{ client metadata: client_id, redirect_uris, jwks | jwks_uri,
//                     post_logout_redirect_uris, backchannel_logout_uri,
//                     userinfo_signed_response_alg, dpop_bound_access_tokens,
//                     grant_types, id_token_signed_response_alg, ... }]
//     }]
//   }
//
// Every provider listens on its own free port on 127.0.0.1. When all are
// listening, the script prints one line on stdout:
//   READY {"strict":"http://127.0.0.1:PORT", ...}
// It exits when its stdin closes (the Go test holds the other end), on
// SIGTERM and on SIGINT.
//
// Besides the provider's own routes each server has:
//   GET  /interaction/:uid          approves the pending prompt (login or consent)
//   GET  /__interop/events          JSON list of token endpoint refusals seen so far
//   GET  /__interop/log             JSON list of other provider events seen so far:
//                                   end_session.success, backchannel.success,
//                                   backchannel.error, and the errors of the
//                                   userinfo, introspection, revocation, PAR,
//                                   authorization and end_session endpoints
//                                   (never a token, code or assertion)
//
// The logout confirmation page (features.rpInitiatedLogout.logoutSource) is
// test-only too: one form, op.logoutForm, with its hidden xsrf input and a
// hidden logout=yes input, submitted by a script. A user agent without
// scripts (the Go tests) posts the form's hidden inputs to its action.
//
// Audience modes:
//   lenient  oidc-provider's default: aud may be the issuer, the token endpoint
//            URL or the endpoint URL, as a string or inside an array.
//   strict   RFC 10070 / FAPI 2.0: aud must be the issuer identifier as a
//            single string, and the header typ must be
//            client-authentication+jwt.
//
// Baseline instances (no "profile"): authorization code with PKCE S256,
// refresh tokens, client_credentials, introspection (any authenticated
// client), revocation, userinfo (JSON, or a signed JWT for a client
// registered with userinfo_signed_response_alg), RP-initiated logout,
// back-channel logout, and two extension grants, both after private_key_jwt
// client authentication like every token request:
//   urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1): assertion
//     signed with a key of the client's JWK Set; iss = client_id, sub = the
//     subject above, aud = the issuer (strict: the issuer as a single
//     string; lenient: the issuer or the token endpoint, as a string or in
//     an array), exp required, nbf honoured, jti required and single-use,
//     typ client-authentication+jwt refused (a client assertion is no grant).
//     Scope: only "openid" (the default). Issues an access token for sub.
//   urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693): a
//     subject_token of type urn:ietf:params:oauth:token-type:access_token
//     that this provider issued and that is still valid and not
//     sender-constrained; no actor_token, audience or resource;
//     requested_token_type, if given, access_token; scope a subset of the
//     subject token's. Issues a new access token for the subject token's
//     user to the calling client, with issued_token_type.
//
// The "fapi2" profile (audience must be "strict") is oidc-provider's FAPI 2.0
// Security Profile (features.fapi profile 2.0) plus what that profile leaves
// to the deployment: pushed authorization requests required for every
// client, DPoP with server nonces required (features.dPoP.requireNonce),
// PKCE S256, client assertion, ID token and userinfo algorithms PS256, ES256
// and EdDSA only (provider keys: RSA for PS256, P-256, Ed25519), clients
// registered with dpop_bound_access_tokens true unless they say otherwise,
// ID tokens signed with PS256 unless the client says otherwise. It keeps
// refresh tokens, client_credentials and userinfo; it has no extension
// grants, introspection or logout features. It runs on plain http like the
// others: oidc-provider 9.13.3's FAPI 2.0 profile checks no transport (no
// https issuer, no ctx.secure), so nothing had to be faked for it.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';
// jose is oidc-provider's own JOSE dependency (pinned by package-lock.json);
// the JWT bearer grant verifies its assertion with it.
import { decodeProtectedHeader, jwtVerify } from 'jose';

const STRICT_TYP = 'client-authentication+jwt';

const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

// FAPI_ALGS are the signing algorithms of the fapi2 instance (FAPI 2.0
// Security Profile §5.4.1: PS256, ES256, EdDSA).
const FAPI_ALGS = ['PS256', 'ES256', 'EdDSA'];

// subject is the account every approved login becomes.
let subject = 'interop-user';

function readConfig() {
  if (process.argv[2]) {
    return JSON.parse(readFileSync(process.argv[2], 'utf8'));
  }
  if (process.env.PKJWT_INTEROP_CONFIG) {
    return JSON.parse(process.env.PKJWT_INTEROP_CONFIG);
  }
  throw new Error('server.mjs: no configuration (pass a file path or set PKJWT_INTEROP_CONFIG)');
}

// signingJWKS returns fresh provider signing keys (one RSA, one P-256) as a
// private JWK Set. They live only as long as the process.
function signingJWKS() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' },
      { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
    ],
  };
}

// fapiSigningJWKS returns fresh provider signing keys for the fapi2 instance:
// RSA for PS256, P-256 for ES256 and Ed25519 for EdDSA.
function fapiSigningJWKS() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: `ps-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'PS256' },
      { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
      { ...ed, kid: `ed-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'EdDSA' },
    ],
  };
}

// loopbackFetch lets the provider fetch jwks_uri documents from, and POST
// back-channel logout tokens to, the loopback origins the test named, and nothing else past the SSRF guard: for those
// origins it drops the guarded dispatcher oidc-provider installs; every other
// URL keeps it (and so stays refused when it resolves to a special-use
// address).
function loopbackFetch(origins) {
  const allowed = new Set(origins ?? []);
  return (url, options) => {
    const u = new URL(url);
    if (allowed.has(u.origin)) {
      // eslint-disable-next-line no-param-reassign
      delete options.dispatcher;
    }
    return globalThis.fetch(url, options);
  };
}

function clientMetadata(c) {
  return {
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    ...c,
  };
}

// fapiClientMetadata is clientMetadata for the fapi2 instance: access tokens
// DPoP-bound and ID tokens PS256 unless the client says otherwise.
function fapiClientMetadata(c) {
  return clientMetadata({
    dpop_bound_access_tokens: true,
    id_token_signed_response_alg: 'PS256',
    ...c,
  });
}

// logoutSource renders the RP-initiated logout confirmation without a
// person: oidc-provider's form (its action and hidden xsrf input) plus a
// hidden logout=yes input, so that submitting it ends the whole session,
// and a script that submits it. The Go tests post the hidden inputs.
async function logoutSource(ctx, form) {
  const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Logout Request</title></head>
<body>${confirmed}<script>document.forms['op.logoutForm'].submit();</script></body></html>`;
}

// postLogoutSuccessSource is the page shown after a logout without a
// post_logout_redirect_uri.
async function postLogoutSuccessSource(ctx) {
  ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head><body>signed out</body></html>';
}

// JWT_BEARER_ALGS are the algorithms a JWT bearer grant assertion may use.
const JWT_BEARER_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

// refuseDPoP keeps the extension grants honest: they issue bearer tokens
// only, so a DPoP proof or a client registered for DPoP-bound tokens is
// refused instead of silently getting a bearer token.
function refuseDPoP(ctx) {
  if (ctx.get('DPoP') || ctx.oidc.client.dpopBoundAccessTokens) {
    throw new errors.InvalidRequest('DPoP is not supported for this grant type');
  }
}

// saveGrant stores a grant of the OIDC scope to clientId for accountId, so
// that userinfo and introspection accept the access tokens issued on it.
async function saveGrant(provider, accountId, clientId, scope) {
  const grant = new provider.Grant({ accountId, clientId });
  if (scope) {
    grant.addOIDCScope(scope);
  }
  return grant.save();
}

// issueAccessToken saves a bearer access token and writes the token
// response; extra members (issued_token_type) are added to it.
async function issueAccessToken(ctx, provider, {
  accountId, scope, gty, extra,
}) {
  const { client } = ctx.oidc;
  const grantId = await saveGrant(provider, accountId, client.clientId, scope);
  const at = new provider.AccessToken({
    accountId, client, grantId, gty, scope,
  });
  ctx.oidc.entity('AccessToken', at);
  const value = await at.save();
  ctx.body = {
    access_token: value,
    ...extra,
    token_type: at.tokenType,
    expires_in: at.expiration,
    scope: at.scope || undefined,
  };
}

// jwtBearerGrant handles urn:ietf:params:oauth:grant-type:jwt-bearer
// (RFC 7523 §2.1, §3): see the header comment for the rules.
function jwtBearerGrant(provider, strict) {
  return async function jwtBearerHandler(ctx) {
    const { client, params } = ctx.oidc;
    refuseDPoP(ctx);
    const { assertion } = params;
    if (typeof assertion !== 'string' || assertion === '') {
      throw new errors.InvalidRequest("missing required parameter 'assertion'");
    }
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw new errors.InvalidGrant('assertion is not a compact JWS');
    }
    if (typeof header.typ === 'string' && header.typ.toLowerCase() === STRICT_TYP) {
      throw new errors.InvalidGrant('a client assertion is not an authorization grant');
    }
    if (!JWT_BEARER_ALGS.includes(header.alg)) {
      throw new errors.InvalidGrant('assertion alg not allowed');
    }
    const keystore = client.asymmetricKeyStore;
    if (!keystore.fresh()) {
      await keystore.refresh();
    }
    const keys = keystore.selectForVerify({ alg: header.alg, kid: header.kid });
    let payload;
    for (const key of keys) {
      try {
        // eslint-disable-next-line no-await-in-loop
        ({ payload } = await jwtVerify(assertion, keystore.getKeyObject(key, true), {
          algorithms: [header.alg],
          issuer: client.clientId,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
          clockTolerance: 5,
        }));
        break;
      } catch (err) {
        if (err?.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
          throw new errors.InvalidGrant(`assertion refused: ${err?.code ?? 'invalid'}`);
        }
      }
    }
    if (!payload) {
      throw new errors.InvalidGrant('assertion signature not verified with any key of the client');
    }
    const audOK = strict
      ? typeof payload.aud === 'string' && payload.aud === ctx.oidc.issuer
      : [payload.aud].flat().some((a) => a === ctx.oidc.issuer || a === ctx.oidc.urlFor('token'));
    if (!audOK) {
      throw new errors.InvalidGrant(strict
        ? 'assertion audience (aud) must be the issuer identifier as a single string'
        : 'assertion audience (aud) must include the issuer identifier or the token endpoint');
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') {
      throw new errors.InvalidGrant('assertion jti must be a non-empty string');
    }
    if (payload.sub !== subject) {
      throw new errors.InvalidGrant('assertion subject (sub) is not a known user');
    }
    const unique = await provider.ReplayDetection.unique(`jwt-bearer:${payload.iss}`, payload.jti, payload.exp + 5);
    if (!unique) {
      throw new errors.InvalidGrant('assertion has already been used');
    }
    const scope = params.scope ?? 'openid';
    if (scope.split(' ').some((s) => s !== 'openid')) {
      throw new errors.InvalidScope('only the openid scope may be requested with this grant type');
    }
    await issueAccessToken(ctx, provider, { accountId: payload.sub, scope, gty: 'jwt_bearer' });
  };
}

// tokenExchangeGrant handles urn:ietf:params:oauth:grant-type:token-exchange
// (RFC 8693 §2): see the header comment for the rules.
function tokenExchangeGrant(provider) {
  return async function tokenExchangeHandler(ctx) {
    const { params } = ctx.oidc;
    refuseDPoP(ctx);
    for (const name of ['subject_token', 'subject_token_type']) {
      if (typeof params[name] !== 'string' || params[name] === '') {
        throw new errors.InvalidRequest(`missing required parameter '${name}'`);
      }
    }
    if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
      throw new errors.InvalidRequest('actor_token is not supported');
    }
    if (params.audience !== undefined || params.resource !== undefined) {
      throw new errors.InvalidTarget('audience and resource are not supported');
    }
    if (params.subject_token_type !== TOKEN_TYPE_ACCESS_TOKEN) {
      throw new errors.InvalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:access_token');
    }
    if (params.requested_token_type !== undefined && params.requested_token_type !== TOKEN_TYPE_ACCESS_TOKEN) {
      throw new errors.InvalidRequest('requested_token_type must be urn:ietf:params:oauth:token-type:access_token');
    }
    const subjectToken = await provider.AccessToken.find(params.subject_token);
    if (!subjectToken || !subjectToken.accountId) {
      throw new errors.InvalidRequest('subject_token is not an active access token of this provider');
    }
    if (subjectToken.isSenderConstrained()) {
      throw new errors.InvalidRequest('subject_token is sender-constrained');
    }
    if (subjectToken.grantId) {
      const grant = await provider.Grant.find(subjectToken.grantId);
      if (!grant || grant.isExpired || grant.accountId !== subjectToken.accountId) {
        throw new errors.InvalidRequest('subject_token is not an active access token of this provider');
      }
    }
    const available = new Set((subjectToken.scope ?? '').split(' ').filter(Boolean));
    const requested = params.scope !== undefined ? params.scope.split(' ').filter(Boolean) : [...available];
    if (requested.some((s) => !available.has(s))) {
      throw new errors.InvalidScope('requested scope exceeds the subject_token scope');
    }
    await issueAccessToken(ctx, provider, {
      accountId: subjectToken.accountId,
      scope: requested.join(' '),
      gty: 'token_exchange',
      extra: { issued_token_type: TOKEN_TYPE_ACCESS_TOKEN },
    });
  };
}

async function startProvider(pc) {
  const events = [];
  const log = [];
  let provider;
  const server = createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end();
      return;
    }
    handle(provider, events, log, req, res).catch((err) => {
      process.stderr.write(`server.mjs: ${pc.name}: ${err?.stack ?? err}\n`);
      if (!res.headersSent) {
        res.statusCode = 500;
      }
      res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const strict = pc.audience === 'strict';
  if (!strict && pc.audience !== 'lenient') {
    throw new Error(`server.mjs: provider ${pc.name}: audience must be "strict" or "lenient", got ${JSON.stringify(pc.audience)}`);
  }
  const fapi2 = pc.profile === 'fapi2';
  if (!fapi2 && pc.profile !== undefined && pc.profile !== '') {
    throw new Error(`server.mjs: provider ${pc.name}: profile must be "fapi2" or absent, got ${JSON.stringify(pc.profile)}`);
  }
  if (fapi2 && !strict) {
    throw new Error(`server.mjs: provider ${pc.name}: profile fapi2 needs audience "strict"`);
  }

  const config = {
    clients: (pc.clients ?? []).map(fapi2 ? fapiClientMetadata : clientMetadata),
    jwks: fapi2 ? fapiSigningJWKS() : signingJWKS(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub }),
    }),
    claims: { openid: ['sub'] },
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // PKCE for every client, not only public ones; oidc-provider v9 knows
    // only S256.
    pkce: { required: () => true },
    // A refresh token for every client allowed the grant, without the
    // offline_access + prompt=consent dance.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    clientAuthMethods: ['private_key_jwt'],
    assertJwtClientAuthClaimsAndHeader: async (ctx, claims, header) => {
      if (!strict) {
        return;
      }
      if (typeof claims.aud !== 'string' || claims.aud !== ctx.oidc.issuer) {
        throw new errors.InvalidClientAuth('strict: audience (aud) must be the issuer identifier as a single string');
      }
      if (header.typ !== STRICT_TYP) {
        throw new errors.InvalidClientAuth(`strict: typ must be ${STRICT_TYP}`);
      }
    },
    fetch: loopbackFetch([...(pc.loopbackJWKSOrigins ?? []), ...(pc.loopbackBackchannelOrigins ?? [])]),
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };

  if (fapi2) {
    Object.assign(config.features, {
      fapi: { enabled: true, profile: '2.0' },
      // DPoP proofs must carry a server nonce: the first proof without one
      // is answered with use_dpop_nonce and a DPoP-Nonce header.
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      rpInitiatedLogout: { enabled: false },
    });
    // FAPI 2.0 §5.3.1.2: only the authorization code flow.
    config.responseTypes = ['code'];
    config.enabledJWA = {
      clientAuthSigningAlgValues: FAPI_ALGS,
      idTokenSigningAlgValues: FAPI_ALGS,
      userinfoSigningAlgValues: FAPI_ALGS,
      requestObjectSigningAlgValues: FAPI_ALGS,
      dPoPSigningAlgValues: FAPI_ALGS,
    };
    config.clientDefaults = {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: 'PS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
    };
  } else {
    Object.assign(config.features, {
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: the caller is a protected resource; here any
        // client that authenticated with private_key_jwt may introspect.
        allowedPolicy: async () => true,
      },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
    });
  }

  provider = new Provider(issuer, config);
  if (!fapi2) {
    provider.registerGrantType(GRANT_JWT_BEARER, jwtBearerGrant(provider, strict), ['assertion', 'scope']);
    provider.registerGrantType(
      GRANT_TOKEN_EXCHANGE,
      tokenExchangeGrant(provider),
      ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
    );
  }
  provider.on('grant.error', (ctx, err) => {
    events.push({
      event: 'grant.error',
      client_id: ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id ?? '',
      grant_type: ctx.oidc?.params?.grant_type ?? '',
      error: err?.error ?? String(err),
      description: err?.error_description ?? '',
      detail: err?.error_detail ?? '',
    });
  });
  for (const name of [
    'userinfo.error', 'introspection.error', 'revocation.error',
    'pushed_authorization_request.error', 'authorization.error', 'end_session.error',
  ]) {
    provider.on(name, (ctx, err) => {
      log.push({
        event: name,
        client_id: ctx?.oidc?.client?.clientId ?? '',
        error: err?.error ?? String(err),
        description: err?.error_description ?? '',
      });
    });
  }
  provider.on('end_session.success', (ctx) => {
    log.push({ event: 'end_session.success', client_id: ctx?.oidc?.client?.clientId ?? '' });
  });
  provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
    log.push({
      event: 'backchannel.success', client_id: client.clientId, sub: accountId, sid: sid ?? '',
    });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    log.push({
      event: 'backchannel.error', client_id: client.clientId, sub: accountId, sid: sid ?? '', error: String(err?.message ?? err),
    });
  });
  provider.on('server_error', (_ctx, err) => {
    events.push({ event: 'server_error', error: 'server_error', detail: String(err?.message ?? err) });
    process.stderr.write(`server.mjs: ${pc.name}: server_error: ${err?.stack ?? err}\n`);
  });
  provider.callbackHandler = provider.callback();
  return { name: pc.name, issuer, server };
}

async function handle(provider, events, log, req, res) {
  const url = new URL(req.url, provider.issuer);
  if (req.method === 'GET' && url.pathname === '/__interop/events') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(events));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/__interop/log') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(log));
    return;
  }
  if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
    await approve(provider, req, res);
    return;
  }
  provider.callbackHandler(req, res);
}

// approve finishes the pending prompt without a person: login as the
// configured subject, then consent to everything the client asked for.
async function approve(provider, req, res) {
  const {
    prompt: { name, details }, grantId, session, params,
  } = await provider.interactionDetails(req, res);
  switch (name) {
    case 'login':
      await provider.interactionFinished(req, res, {
        login: { accountId: subject },
      }, { mergeWithLastSubmission: false });
      return;
    case 'consent': {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (details.missingOIDCScope) {
        grant.addOIDCScope(details.missingOIDCScope.join(' '));
      }
      if (details.missingOIDCClaims) {
        grant.addOIDCClaims(details.missingOIDCClaims);
      }
      if (details.missingResourceScopes) {
        for (const [indicator, scope] of Object.entries(details.missingResourceScopes)) {
          grant.addResourceScope(indicator, scope.join(' '));
        }
      }
      await provider.interactionFinished(req, res, {
        consent: { grantId: await grant.save() },
      }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      res.statusCode = 501;
      res.end(`server.mjs: prompt ${name} not implemented`);
  }
}

async function main() {
  const config = readConfig();
  subject = config.subject || subject;
  const started = [];
  for (const pc of config.providers ?? []) {
    started.push(await startProvider(pc));
  }
  const stop = () => {
    for (const s of started) {
      s.server.close();
      s.server.closeAllConnections();
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const ready = Object.fromEntries(started.map((s) => [s.name, s.issuer]));
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
}

main().catch((err) => {
  process.stderr.write(`server.mjs: ${err?.stack ?? err}\n`);
  process.exit(1);
});
