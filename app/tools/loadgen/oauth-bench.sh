#!/usr/bin/env bash
# Measures POST /v1/verify with an OAuth access token against PostgreSQL:
# builds keyward and loadgen, starts keyward in dev mode on a fresh
# database, gets an access token through the real authorization code flow
# (register an app as the dev admin, authorize, approve as the dev user,
# exchange the code), then runs loadgen three times with the access log off
# and three times with it on. Run from the repository root:
#
#	bash app/tools/loadgen/oauth-bench.sh
#
# Needs curl, jq, openssl and psql; PostgreSQL at 127.0.0.1:5432 (trust).
set -euo pipefail

PORT=${PORT:-18090}
DB=${DB:-keyward_bench_oauth}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT

go build -o "$BIN/keyward" ./app
go build -o "$BIN/loadgen" ./app/tools/loadgen
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export KEYWARD_DATABASE_URL="$PG/$DB?sslmode=disable"
export KEYWARD_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
export KEYWARD_VERIFY_TOKENS=bench-resource-server-token
export KEYWARD_ADDR=127.0.0.1:$PORT KEYWARD_DEV=1 KEYWARD_SCHEDULER=off
"$BIN/keyward" migrate >/dev/null
KEYWARD=http://127.0.0.1:$PORT

PID=
start() {
	KEYWARD_ACCESS_LOG=$1 "$BIN/keyward" >"$BIN/keyward-$1.log" 2>&1 &
	PID=$!
	until curl -sf "$KEYWARD/readyz" >/dev/null; do sleep 0.5; done
}
stop() { kill "$PID"; wait "$PID" || true; }

start off
JWT=$(curl -s "$KEYWARD/dev/token?as=user" | jq -r .token)
ADMIN_JWT=$(curl -s "$KEYWARD/dev/token?as=admin" | jq -r .token)
REG=$(curl -s -X POST "$KEYWARD/api/admin/v1/oauth/clients" -H "Authorization: JWT $ADMIN_JWT" -H 'Content-Type: application/json' \
	-d '{"name":"Bench sync","redirectUris":["https://app.example.com/callback"],"allowedScopes":["worklogs:manage"]}')
CLIENT_ID=$(jq -r .client.id <<<"$REG")
CLIENT_SECRET=$(jq -r .clientSecret <<<"$REG")
VERIFIER=$(openssl rand -base64 48 | tr -d '=+/\n' | cut -c1-64)
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
LOC=$(curl -s -o /dev/null -w '%{redirect_url}' "$KEYWARD/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=worklogs%3Aview&state=s1&code_challenge=$CHALLENGE&code_challenge_method=S256")
REQ=${LOC##*request=}
BACK=$(curl -s -X POST "$KEYWARD/api/me/v1/oauth/requests/$REQ/decision" -H "Authorization: JWT $JWT" -H 'Content-Type: application/json' -d '{"approve":true}' | jq -r .redirectTo)
CODE=$(sed -E 's/.*[?&]code=([^&]+).*/\1/' <<<"$BACK")
TOK=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=authorization_code -d code="$CODE" \
	-d redirect_uri=https://app.example.com/callback -d code_verifier="$VERIFIER" "$KEYWARD/oauth/token")
ACCESS=$(jq -r .access_token <<<"$TOK")
[[ $ACCESS == kwa_* ]] || { echo "no access token: $TOK" >&2; exit 1; }

for mode in off on; do
	if [ "$mode" = on ]; then stop; start on; fi
	for i in 1 2 3; do
		echo "== access log $mode, run $i (load $(cut -d' ' -f1 /proc/loadavg))"
		"$BIN/loadgen" -base "$KEYWARD" -token bench-resource-server-token -secret "$ACCESS" -c 64 -d 10s -warmup 2s 2>&1 | tail -3
	done
done
stop
echo "== access log writer at shutdown:"
grep -h 'access log' "$BIN/keyward-on.log" | tail -2
psql "$PG/postgres" -qc "DROP DATABASE $DB"
