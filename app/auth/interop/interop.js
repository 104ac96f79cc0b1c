#!/usr/bin/env node
// Cross-checks keyward's Go Connect JWT code against Atlassian's reference
// npm library atlassian-jwt. Driven by TestInteropAtlassianJWT in
// app/auth/interop_test.go; reads a JSON array on stdin, writes one on stdout.
//
//   node interop.js make    [{method, path, query, secret, iss, iat, exp}]
//                           -> [{token, qsh, canonical}]
//   node interop.js verify  [{token, method, path, query, secret}]
//                           -> [{ok, error, canonical, qsh, claim_qsh, iss}]
'use strict';

const jwt = require('atlassian-jwt');

function request(c) {
  const url = c.path + (c.query ? '?' + c.query : '');
  return jwt.fromMethodAndUrl(c.method, url);
}

function make(cases) {
  return cases.map((c) => {
    const req = request(c);
    const qsh = jwt.createQueryStringHash(req);
    const token = jwt.encodeSymmetric({ iss: c.iss, iat: c.iat, exp: c.exp, qsh }, c.secret);
    return { token, qsh, canonical: jwt.createCanonicalRequest(req) };
  });
}

function verify(cases) {
  return cases.map((c) => {
    const req = request(c);
    const out = { ok: false, canonical: jwt.createCanonicalRequest(req), qsh: jwt.createQueryStringHash(req) };
    try {
      const alg = jwt.getAlgorithm(c.token);
      const claims = jwt.decodeSymmetric(c.token, c.secret, alg);
      out.claim_qsh = claims.qsh;
      out.iss = claims.iss;
      if (claims.qsh !== out.qsh) {
        out.error = 'qsh mismatch';
      } else if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= claims.iat) {
        out.error = 'bad iat/exp';
      } else {
        out.ok = true;
      }
    } catch (e) {
      out.error = String(e && e.message ? e.message : e);
    }
    return out;
  });
}

function main() {
  const mode = process.argv[2];
  const modes = { make, verify };
  if (!modes[mode]) {
    process.stderr.write('usage: node interop.js make|verify < cases.json\n');
    process.exit(2);
  }
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { input += d; });
  process.stdin.on('end', () => {
    process.stdout.write(JSON.stringify(modes[mode](JSON.parse(input))) + '\n');
  });
}

main();
