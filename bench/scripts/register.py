#!/usr/bin/env python3
"""Create or update a SORACOM aws-credentials set, the way people script it today.

This is the baseline of the benchmark in bench/cmd/bench, written as a user would write
it: requests' module functions (a new connection per call), PUT then POST when the PUT
is refused, no retries, no logout (the token expires by itself; few scripts revoke it).

Environment: SORACOM_ENDPOINT (base URL without /v1), SORACOM_AUTH_KEY_ID,
SORACOM_AUTH_KEY, CREDENTIAL_ID, AWS_KEY_ID, AWS_KEY_SECRET. A custom CA is given the
standard way, REQUESTS_CA_BUNDLE.
"""
import os
import sys

import requests

endpoint = os.environ["SORACOM_ENDPOINT"].rstrip("/") + "/v1"

auth = requests.post(
    endpoint + "/auth",
    json={
        "authKeyId": os.environ["SORACOM_AUTH_KEY_ID"],
        "authKey": os.environ["SORACOM_AUTH_KEY"],
    },
    timeout=30,
)
auth.raise_for_status()
headers = {
    "X-Soracom-API-Key": auth.json()["apiKey"],
    "X-Soracom-Token": auth.json()["token"],
}

url = endpoint + "/credentials/" + os.environ["CREDENTIAL_ID"]
body = {
    "type": "aws-credentials",
    "description": "",
    "credentials": {
        "accessKeyId": os.environ["AWS_KEY_ID"],
        "secretAccessKey": os.environ["AWS_KEY_SECRET"],
    },
}

res = requests.put(url, json=body, headers=headers, timeout=30)
if 400 <= res.status_code < 500:
    # The set does not exist yet: create it.
    res = requests.post(url, json=body, headers=headers, timeout=30)
if not res.ok:
    sys.exit(f"SORACOM answered {res.status_code}: {res.text}")
print("stored credential set", os.environ["CREDENTIAL_ID"])
