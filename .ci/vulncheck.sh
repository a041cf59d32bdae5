#!/usr/bin/env bash
# Checks the module and the Go standard library it uses against the Go
# vulnerability database: `bash .ci/vulncheck.sh [govulncheck arguments]`.
# govulncheck is built at a pinned version from the module proxy, like the
# linters, and reports only vulnerabilities whose code the module can reach.
#
# Exit codes: 0 when it checked and found nothing; 1 when it found a
# vulnerability (its report is printed) or failed in any other way; 77 (SKIP in
# .ci/run) when the database (https://vuln.go.dev) cannot be reached from this
# machine: then nothing was checked, and it says so. The GitHub workflow runs
# the same check online, where it must pass.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Installed, not run with `go run`, which turns every failing exit code into 1:
# govulncheck's own codes tell a finding (3) from an error.
GOBIN=$tmp go install "$GOVULNCHECK"
log=$tmp/report
rc=0
"$tmp/govulncheck" "${@:-./...}" >"$log" 2>&1 || rc=$?
cat "$log"
case $rc in
  0) exit 0 ;;
  3)
    echo "govulncheck found vulnerabilities reachable from this module (above): update the module or Go" >&2
    exit 1
    ;;
esac
# govulncheck says "fetching vulnerabilities" when it cannot read the database.
if grep -q 'fetching vulnerabilities' "$log"; then
  echo "SKIP: the Go vulnerability database cannot be reached from this machine; govulncheck checked nothing" >&2
  exit 77
fi
echo "govulncheck failed (exit $rc)" >&2
exit 1
