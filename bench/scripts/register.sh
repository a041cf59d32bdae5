#!/usr/bin/env bash
# Create or update a SORACOM aws-credentials set with curl and jq, the way people write
# it in a workflow's run: step today.
#
# The baseline of the benchmark in bench/cmd/bench, written as a user would write it:
# one curl per call, PUT then POST when the PUT is refused, no retries, no logout (the
# token expires by itself; few scripts revoke it).
#
# Environment: SORACOM_ENDPOINT (base URL without /v1), SORACOM_AUTH_KEY_ID,
# SORACOM_AUTH_KEY, CREDENTIAL_ID, AWS_KEY_ID, AWS_KEY_SECRET. A custom CA is given the
# standard way, CURL_CA_BUNDLE.
set -euo pipefail

api="${SORACOM_ENDPOINT%/}/v1"

auth=$(jq -n --arg id "$SORACOM_AUTH_KEY_ID" --arg key "$SORACOM_AUTH_KEY" \
  '{authKeyId: $id, authKey: $key}' |
  curl -sSf -X POST -H 'Content-Type: application/json' --data @- "$api/auth")
api_key=$(jq -r .apiKey <<<"$auth")
token=$(jq -r .token <<<"$auth")

body=$(jq -n --arg id "$AWS_KEY_ID" --arg secret "$AWS_KEY_SECRET" \
  '{type: "aws-credentials", description: "", credentials: {accessKeyId: $id, secretAccessKey: $secret}}')

write() {
  curl -sS -o /dev/null -w '%{http_code}' -X "$1" \
    -H 'Content-Type: application/json' \
    -H "X-Soracom-API-Key: $api_key" -H "X-Soracom-Token: $token" \
    --data @- "$api/credentials/$CREDENTIAL_ID" <<<"$body"
}

status=$(write PUT)
if [[ $status == 4* ]]; then
  # The set does not exist yet: create it.
  status=$(write POST)
fi
if [[ $status != 2* ]]; then
  echo "SORACOM answered $status" >&2
  exit 1
fi
echo "stored credential set $CREDENTIAL_ID"
