// Package auth verifies the tokens Atlassian sends to keyward and signs the
// tokens keyward sends back.
//
// It covers three token kinds:
//
//   - Connect JWTs (HS256/384/512 with an installation's shared secret and a
//     query string hash), verified by ConnectVerifier;
//   - Connect signed-install tokens (RS256, key fetched by kid), verified by
//     InstallVerifier;
//   - Forge Invocation Tokens (RS256, keys from a JWKS), verified by
//     FITVerifier.
//
// SignOutgoing makes the HS256 tokens the app attaches to its own calls to
// Jira. The package is a plain library: it knows nothing about HTTP routers
// or storage, and every failure wraps one of the Err* sentinels so callers
// can map it with errors.Is.
package auth
