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
//       "loopbackJWKSOrigins": ["http://127.0.0.1:PORT"], // jwks_uri origins allowed past the SSRF guard
//       "clients": [{ client metadata: client_id, redirect_uris, jwks | jwks_uri, ... }]
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
//
// Audience modes:
//   lenient  oidc-provider's default: aud may be the issuer, the token endpoint
//            URL or the endpoint URL, as a string or inside an array.
//   strict   RFC 10070 / FAPI 2.0: aud must be the issuer identifier as a
//            single string, and the header typ must be
//            client-authentication+jwt.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const STRICT_TYP = 'client-authentication+jwt';

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

// loopbackFetch lets the provider fetch jwks_uri documents from the loopback
// origins the test named, and nothing else past the SSRF guard: for those
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

async function startProvider(pc) {
  const events = [];
  let provider;
  const server = createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end();
      return;
    }
    handle(provider, events, req, res).catch((err) => {
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

  provider = new Provider(issuer, {
    clients: (pc.clients ?? []).map(clientMetadata),
    jwks: signingJWKS(),
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
    fetch: loopbackFetch(pc.loopbackJWKSOrigins),
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
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
  provider.on('server_error', (_ctx, err) => {
    events.push({ event: 'server_error', error: 'server_error', detail: String(err?.message ?? err) });
    process.stderr.write(`server.mjs: ${pc.name}: server_error: ${err?.stack ?? err}\n`);
  });
  provider.callbackHandler = provider.callback();
  return { name: pc.name, issuer, server };
}

async function handle(provider, events, req, res) {
  const url = new URL(req.url, provider.issuer);
  if (req.method === 'GET' && url.pathname === '/__interop/events') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(events));
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
