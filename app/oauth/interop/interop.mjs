// Runs keyward's OAuth 2.0 authorization code flow with oauth4webapi, an
// independent client library, and prints what it got as JSON. Driven by
// TestOAuthInteropOauth4webapi (handlers/oauth_interop_test.go), which
// passes on stdin:
//   {issuer, clientId, clientSecret, redirectUri, scope, userJwt}
// The consent step is the consent page's API call, made with the user's
// Connect context JWT (userJwt), as the page inside Jira would.
import * as oauth from 'oauth4webapi'

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (c) => { data += c })
  process.stdin.on('end', () => resolve(data))
  process.stdin.on('error', reject)
}))

// The test server speaks plain http on loopback.
const insecure = { [oauth.allowInsecureRequests]: true }
const issuer = new URL(input.issuer)

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
const client = { client_id: input.clientId }
const clientAuth = oauth.ClientSecretBasic(input.clientSecret)

const verifier = oauth.generateRandomCodeVerifier()
const challenge = await oauth.calculatePKCECodeChallenge(verifier)
const state = oauth.generateRandomState()

const authURL = new URL(as.authorization_endpoint)
authURL.search = new URLSearchParams({
  client_id: input.clientId, response_type: 'code', redirect_uri: input.redirectUri, scope: input.scope,
  state, code_challenge: challenge, code_challenge_method: 'S256',
}).toString()

// The browser is sent to the consent page inside Jira.
const authResp = await fetch(authURL, { redirect: 'manual' })
if (authResp.status !== 302) throw new Error(`authorize: status ${authResp.status}: ${await authResp.text()}`)
const consentPage = new URL(authResp.headers.get('location'))
const requestId = consentPage.searchParams.get('ac.request')

// The consent page approves through keyward's API as the Jira user.
const api = (path, init = {}) => fetch(new URL(path, issuer), {
  ...init, headers: { Authorization: `JWT ${input.userJwt}`, 'Content-Type': 'application/json', ...(init.headers || {}) },
})
const shown = await (await api(`/api/me/v1/oauth/requests/${encodeURIComponent(requestId)}`)).json()
const decision = await api(`/api/me/v1/oauth/requests/${encodeURIComponent(requestId)}/decision`, { method: 'POST', body: JSON.stringify({ approve: true }) })
if (decision.status !== 200) throw new Error(`decision: status ${decision.status}: ${await decision.text()}`)
const { redirectTo } = await decision.json()

// The app's callback: oauth4webapi checks state and iss (RFC 9207).
const params = oauth.validateAuthResponse(as, client, new URL(redirectTo), state)
const tokens = await oauth.processAuthorizationCodeResponse(as, client,
  await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, input.redirectUri, verifier, insecure))

const refreshed = await oauth.processRefreshTokenResponse(as, client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure))

const introspection = await oauth.processIntrospectionResponse(as, client,
  await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure))

// Reusing the rotated refresh token must fail with invalid_grant.
let reuseError = ''
try {
  await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure))
} catch (err) {
  reuseError = (err && err.error) || String(err)
}

await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token, insecure))
const afterRevoke = await oauth.processIntrospectionResponse(as, client,
  await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure))

process.stdout.write(JSON.stringify({
  consentClient: shown.client && shown.client.name,
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  tokenType: tokens.token_type,
  expiresIn: tokens.expires_in,
  scope: tokens.scope,
  refreshedAccessToken: refreshed.access_token,
  refreshedRefreshToken: refreshed.refresh_token,
  introspection,
  reuseError,
  activeAfterRevoke: afterRevoke.active,
}))
