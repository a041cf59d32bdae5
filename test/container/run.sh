#!/usr/bin/env bash
# Container test: builds the image from the real Dockerfile with buildah and
# runs it the way GitHub's runner runs a Docker container action, against the
# SORACOM emulator on loopback.
#
# What the runner does, and this test repeats (see the runner's
# ContainerActionHandler): every input declared in action.yml arrives as
# INPUT_<NAME> (upper-cased, hyphens kept), with the action.yml default when
# the workflow set none; the working directory is /github/workspace; the file
# commands live under /github/file_commands; GITHUB_ACTIONS=true and CI=true.
# `buildah run --isolation chroot` shares the host's network, so the
# emulator's 127.0.0.1 address is reachable from inside the container.
#
# Scenarios: create, update (same id again), a wrong AuthKey (exit 1), an
# invalid input (exit 1), and the `docker run` example of docs/run-anywhere.md. Each asserts the exit code and outputs, and that no
# secret appears anywhere but in an ::add-mask:: line. The image itself must
# hold only the binary and the CA bundle (no shell), the binary must be
# static, and the ENTRYPOINT absolute with no USER.
#
# Environment: BUILDER_IMAGE overrides the stand-in builder (for a machine
# that can pull the real one); KEEP_TMP=1 keeps the work directory.

# The jq and awk programs below are in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="/usr/local/go/bin:$PATH"
# shellcheck source=.ci/lib.sh
source .ci/lib.sh

IMAGE=localhost/soracom-credentials-action:container-test
AUTH_KEY_ID=keyId-containertest
# Random secrets, so a match in the output can only come from this run.
AUTH_KEY="secret-ct-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
WRONG_AUTH_KEY="secret-wrong-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
AWS_SECRET_1="ctSecret1$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
AWS_SECRET_2="ctSecret2$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
AWS_KEY_1=AKIAIOSFODNN7CTEST01
AWS_KEY_2=AKIAIOSFODNN7CTEST02
CRED_ID="container-test-$$"

work=$(mktemp -d)
failures=0
emulator_pid=

containers=()
cleanup() {
  if [[ -n $emulator_pid ]]; then kill "$emulator_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do bah rm "$c" >/dev/null 2>&1 || true; done
  if [[ ${KEEP_TMP:-} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

pass() { printf '  ok   %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*"; failures=$((failures + 1)); }
# No `grep -q` at the end of a pipe in these helpers: it stops reading at the
# first match, the writer then dies of SIGPIPE, and pipefail turns the match
# into a failure.
no_interpreter() { ! readelf -lW "$1" | grep INTERP >/dev/null; }
# unmasked SECRET FILE... succeeds if a line other than ::add-mask::SECRET
# contains SECRET.
unmasked() {
  local secret=$1
  shift
  grep -hF -- "$secret" "$@" | grep -vxF -- "::add-mask::$secret" >/dev/null
}
masked_everywhere() { ! unmasked "$@"; }
absent() { ! grep -qF -- "$@"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

ensure_packages buildah:buildah readelf:binutils file:file jq:jq yq:yq
driver=$(buildah_driver)
bah() { buildah --storage-driver "$driver" "$@"; }
echo "buildah $(buildah --version | awk '{print $3}'), storage driver $driver"

# --- build ------------------------------------------------------------------
builder=${BUILDER_IMAGE:-$(.ci/standin-builder.sh --storage-driver "$driver")}
echo "building $IMAGE with BUILDER_IMAGE=$builder"
start=$SECONDS
if ! bah bud --isolation chroot --layers --quiet \
  --platform "linux/$(go env GOARCH)" \
  --build-arg "BUILDER_IMAGE=$builder" \
  -f Dockerfile -t "$IMAGE" . >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: the image did not build"
  exit 1
fi
echo "built in $((SECONDS - start))s"

# --- the image --------------------------------------------------------------
echo "image:"
bah inspect --type image "$IMAGE" >"$work/image.json"
entrypoint=$(jq -c '.OCIv1.config.Entrypoint' "$work/image.json")
mapfile -t entrypoint_argv < <(jq -r '.OCIv1.config.Entrypoint // [] | .[]' "$work/image.json")
check "ENTRYPOINT is the absolute exec form [\"/soracom-credentials-action\"] (got $entrypoint)" \
  test "$entrypoint" = '["/soracom-credentials-action"]'
user=$(jq -r '.OCIv1.config.User // ""' "$work/image.json")
check "no USER: runs as root, as the runner's file commands need (got '$user')" \
  test -z "$user"
for label in source description licenses title; do
  check "label org.opencontainers.image.$label" \
    jq -e --arg k "org.opencontainers.image.$label" '.OCIv1.config.Labels[$k] // "" | length > 0' "$work/image.json" >/dev/null
done

ctr=$(bah from --pull-never "$IMAGE")
containers+=("$ctr")
mnt=$(bah mount "$ctr")
(cd "$mnt" && find . -type f -o -type l | sort) >"$work/files"
bin="$mnt/soracom-credentials-action"
check "the image holds only the binary and the CA bundle (got: $(tr '\n' ' ' <"$work/files"))" \
  diff -q <(printf '%s\n' ./etc/ssl/certs/ca-certificates.crt ./soracom-credentials-action) "$work/files"
check "no shell in the image (/bin/sh absent)" test ! -e "$mnt/bin/sh"
check "binary is statically linked ($(file -b "$bin" | cut -d, -f1-2))" \
  grep -q 'statically linked' <(file -b "$bin")
check "binary has no ELF interpreter (PT_INTERP)" \
  no_interpreter "$bin"
check "binary is stripped" grep -q ', stripped' <(file -b "$bin")
image_bytes=$(du -sb "$mnt" | cut -f1)
bah umount "$ctr" >/dev/null
bah rm "$ctr" >/dev/null
echo "  info image content $((image_bytes / 1024)) KiB"
if ((image_bytes > 12 * 1024 * 1024)); then
  fail "the image is over the 12 MB target (bench/image/RESULTS.md)"
else
  echo "  ok   the image is within the 12 MB target"
fi

# --- the emulator -------------------------------------------------------------
go build -o "$work/soracom-emulator" ./cmd/soracom-emulator
"$work/soracom-emulator" -addr 127.0.0.1:0 \
  -auth-key-id "$AUTH_KEY_ID" -auth-key "$AUTH_KEY" \
  >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
endpoint=
for _ in $(seq 100); do
  endpoint=$(head -n1 "$work/emulator.out" 2>/dev/null || true)
  [[ -n $endpoint ]] && break
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $endpoint ]]; then
  cat "$work/emulator.err"
  echo "FAIL: the emulator printed no base URL"
  exit 1
fi
echo "emulator at $endpoint"

# --- running the action like the runner -------------------------------------
# action.yml's inputs and their defaults: name<TAB>default per line.
yq -r '.inputs // {} | to_entries[] | "\(.key)\t\(.value.default // "" | tostring)"' \
  action.yml >"$work/inputs.tsv"

# run_action NAME INPUT=VALUE... runs the image once, in a fresh container
# with fresh file commands, and leaves rc, stdout, stderr, output and summary
# in $work/NAME/.
run_action() {
  local name=$1 dir="$work/$1" guid kv key value ctr rc=0
  shift
  guid=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$dir"/{file_commands,workspace,home,workflow,runner_temp}
  for f in set_output step_summary set_env save_state add_path; do
    : >"$dir/file_commands/${f}_$guid"
  done
  echo '{}' >"$dir/workflow/event.json"

  declare -A inputs=()
  while IFS=$'\t' read -r key value; do inputs[$key]=$value; done <"$work/inputs.tsv"
  for kv in "$@"; do inputs[${kv%%=*}]=${kv#*=}; done

  local env=(
    -e HOME=/github/home -e GITHUB_ACTIONS=true -e CI=true
    -e GITHUB_WORKSPACE=/github/workspace -e GITHUB_EVENT_PATH=/github/workflow/event.json
    -e RUNNER_TEMP=/github/runner_temp -e GITHUB_REPOSITORY=octo/container-test
    -e GITHUB_OUTPUT="/github/file_commands/set_output_$guid"
    -e GITHUB_STEP_SUMMARY="/github/file_commands/step_summary_$guid"
    -e GITHUB_ENV="/github/file_commands/set_env_$guid"
    -e GITHUB_STATE="/github/file_commands/save_state_$guid"
    -e GITHUB_PATH="/github/file_commands/add_path_$guid"
  )
  for key in "${!inputs[@]}"; do
    env+=(-e "INPUT_${key^^}=${inputs[$key]}")
  done

  ctr=$(bah from --pull-never "$IMAGE")
  containers+=("$ctr")
  # Like `docker run`, start the image's own ENTRYPOINT.
  bah run --isolation chroot --workingdir /github/workspace \
    -v "$dir/workspace:/github/workspace" -v "$dir/home:/github/home" \
    -v "$dir/workflow:/github/workflow" -v "$dir/runner_temp:/github/runner_temp" \
    -v "$dir/file_commands:/github/file_commands" \
    "${env[@]}" "$ctr" -- "${entrypoint_argv[@]}" \
    >"$dir/stdout" 2>"$dir/stderr" || rc=$?
  bah rm "$ctr" >/dev/null
  echo "$rc" >"$dir/rc"
  cp "$dir/file_commands/set_output_$guid" "$dir/output"
  cp "$dir/file_commands/step_summary_$guid" "$dir/summary"
}

# output NAME KEY prints one output from the GITHUB_OUTPUT file, which holds
# `key<<DELIMITER` / value lines / `DELIMITER` blocks (or `key=value` lines).
output() {
  awk -v want="$2" '
    state == 0 && index($0, "<<") > 0 {
      i = index($0, "<<"); key = substr($0, 1, i - 1); delim = substr($0, i + 2)
      state = 1; value = ""; n = 0; next
    }
    state == 0 && index($0, "=") > 0 {
      i = index($0, "="); if (substr($0, 1, i - 1) == want) print substr($0, i + 1); next
    }
    state == 1 && $0 == delim { if (key == want) print value; state = 0; next }
    state == 1 { value = (n++ ? value "\n" : "") $0 }
  ' "$work/$1/output"
}

# no_secret_leaks NAME SECRET... asserts each secret shows up only inside
# ::add-mask:: lines of stdout/stderr, before any other stdout line, and
# nowhere in the outputs or the summary.
no_secret_leaks() {
  local name=$1 dir="$work/$1" secret
  shift
  for secret in "$@"; do
    local label="${secret:0:12}…"
    check "$name: $label is masked (::add-mask::) before anything else is printed" \
      awk -v s="$secret" '
        $0 == "::add-mask::" s { found = 1; exit }
        index($0, "::add-mask::") != 1 { exit 1 }
        END { exit !found }' "$dir/stdout"
    check "$name: $label appears nowhere unmasked in stdout/stderr" \
      masked_everywhere "$secret" "$dir/stdout" "$dir/stderr"
    check "$name: $label is not in the outputs or the summary" \
      absent "$secret" "$dir/output" "$dir/summary"
  done
}

error_mentions() { grep -h '^::error' "$2/stdout" "$2/stderr" | grep -- "$1" >/dev/null; }
expect_rc() { check "$1: exit code $2 (got $(cat "$work/$1/rc"))" test "$(cat "$work/$1/rc")" = "$2"; }
expect_output() {
  local got
  got=$(output "$1" "$2")
  check "$1: output $2 = $3 (got '$got')" test "$got" = "$3"
}
show_on_failure() {
  local before=$1 name=$2
  if ((failures > before)); then
    echo "  --- $name stdout"; sed 's/^/  | /' "$work/$name/stdout"
    echo "  --- $name stderr"; sed 's/^/  | /' "$work/$name/stderr"
    echo "  --- $name output"; sed 's/^/  | /' "$work/$name/output"
  fi
}

# verify-aws-key=false: the key check calls AWS STS, and this test talks to
# loopback only.
common=(
  "credential-id=$CRED_ID"
  "soracom-auth-key-id=$AUTH_KEY_ID"
  "soracom-endpoint=$endpoint"
  "verify-aws-key=false"
)

echo "create:"
before=$failures
run_action create "${common[@]}" "soracom-auth-key=$AUTH_KEY" \
  "aws-access-key-id=$AWS_KEY_1" "aws-secret-access-key=$AWS_SECRET_1"
expect_rc create 0
expect_output create credential-id "$CRED_ID"
expect_output create operation created
expect_output create aws-access-key-id "$AWS_KEY_1"
check "create: operator-id is set" test -n "$(output create operator-id)"
check "create: results is a JSON array saying created for $CRED_ID" \
  jq -e --arg id "$CRED_ID" 'length == 1 and .[0].credentialId == $id and .[0].operation == "created"' \
  <<<"$(output create results)" >/dev/null
check "create: the summary names the set" grep -qF "$CRED_ID" "$work/create/summary"
no_secret_leaks create "$AUTH_KEY" "$AWS_SECRET_1"
show_on_failure "$before" create

echo "update (same id again):"
before=$failures
run_action update "${common[@]}" "soracom-auth-key=$AUTH_KEY" \
  "aws-access-key-id=$AWS_KEY_2" "aws-secret-access-key=$AWS_SECRET_2"
expect_rc update 0
expect_output update credential-id "$CRED_ID"
expect_output update operation updated
expect_output update aws-access-key-id "$AWS_KEY_2"
check "update: results says updated" \
  jq -e '.[0].operation == "updated"' <<<"$(output update results)" >/dev/null
no_secret_leaks update "$AUTH_KEY" "$AWS_SECRET_2"
show_on_failure "$before" update

echo "wrong AuthKey:"
before=$failures
run_action wrong-key "${common[@]}" "soracom-auth-key=$WRONG_AUTH_KEY" \
  "aws-access-key-id=$AWS_KEY_1" "aws-secret-access-key=$AWS_SECRET_1"
expect_rc wrong-key 1
check "wrong-key: exactly one ::error:: line" \
  test "$(cat "$work/wrong-key/stdout" "$work/wrong-key/stderr" | grep -c '^::error')" = 1
check "wrong-key: the error gives SORACOM's 401" \
  error_mentions 401 "$work/wrong-key"
check "wrong-key: the error says to check soracom-auth-key" \
  error_mentions soracom-auth-key "$work/wrong-key"
check "wrong-key: no operation output" test -z "$(output wrong-key operation)"
no_secret_leaks wrong-key "$WRONG_AUTH_KEY" "$AWS_SECRET_1"
show_on_failure "$before" wrong-key

echo "invalid input (if-exists=sometimes):"
before=$failures
run_action invalid "${common[@]}" "soracom-auth-key=$AUTH_KEY" \
  "aws-access-key-id=$AWS_KEY_1" "aws-secret-access-key=$AWS_SECRET_1" \
  "if-exists=sometimes"
expect_rc invalid 1
check "invalid: an ::error:: line names if-exists" \
  error_mentions if-exists "$work/invalid"
no_secret_leaks invalid "$AUTH_KEY" "$AWS_SECRET_1"
show_on_failure "$before" invalid

# --- the Docker example of docs/run-anywhere.md --------------------------------
# docs/run-anywhere.md shows `docker build` and `docker run --rm -e ...`. It
# runs here as written, through a docker shim: `build` is the image built above
# from the same Dockerfile, `run` starts it with buildah like run_action does.
# The shim adds two variables the example cannot know: the emulator's endpoint,
# and verify-aws-key=false (this test reaches no AWS).
readme_block() { # readme_block INFO prints the code block marked INFO in docs/run-anywhere.md
  awk -v info="$1" '
    $0 == "```" info { in_block = 1; next }
    in_block && $0 == "```" { exit }
    in_block { print }' docs/run-anywhere.md
}
docker() {
  local envs=(-e "SORACOM_ENDPOINT=$endpoint" -e "INPUT_VERIFY-AWS-KEY=false") image ctr rc=0
  case ${1:-} in
    build) return 0 ;;
    run) shift ;;
    *) echo "docker shim: cannot run 'docker $*'" >&2; return 2 ;;
  esac
  while (($#)); do
    case $1 in
      --rm) shift ;;
      -e | --env)
        # -e NAME=VALUE as it is; -e NAME takes the value from this environment.
        if [[ $2 == *=* ]]; then envs+=(-e "$2"); elif printenv "$2" >/dev/null; then envs+=(-e "$2=$(printenv "$2")"); fi
        shift 2 ;;
      -*) echo "docker shim: unsupported flag $1" >&2; return 2 ;;
      *) image=$1; shift; break ;;
    esac
  done
  [[ $image == soracom-credentials-action ]] || { echo "docker shim: the example runs image '$image', not the one it builds" >&2; return 2; }
  ctr=$(bah from --pull-never "$IMAGE")
  bah run --isolation chroot "${envs[@]}" "$ctr" -- "${entrypoint_argv[@]}" "$@" || rc=$?
  bah rm "$ctr" >/dev/null
  return "$rc"
}

echo "README docker example:"
before=$failures
readme_docker=$(readme_block "sh docker")
check "README has a docker run example" grep -q '^docker run --rm' <<<"$readme_docker"
mkdir -p "$work/readme-docker"
DOCKER_AWS_SECRET="ctSecret3$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
rc=0
(
  # shellcheck disable=SC2034 # the README's example reads these, through eval
  SORACOM_AUTH_KEY_ID=$AUTH_KEY_ID SORACOM_AUTH_KEY=$AUTH_KEY
  # shellcheck disable=SC2034

  NEW_AWS_ACCESS_KEY_ID=AKIAIOSFODNN7CTEST03 NEW_AWS_SECRET_ACCESS_KEY=$DOCKER_AWS_SECRET
  set -e
  eval "$readme_docker"
) >"$work/readme-docker/stdout" 2>"$work/readme-docker/stderr" || rc=$?
check "readme-docker: exit code 0 (got $rc)" test "$rc" = 0
check "readme-docker: the set funnel-aws was created" \
  grep -q 'funnel-aws.*created\|created.*funnel-aws' "$work/readme-docker/stdout"
for secret in "$AUTH_KEY" "$DOCKER_AWS_SECRET"; do
  check "readme-docker: ${secret:0:12}… is printed nowhere (no masks are printed outside GitHub)" \
    absent "$secret" "$work/readme-docker/stdout" "$work/readme-docker/stderr"
done
if ((failures > before)); then
  echo "  --- readme-docker stdout"; sed 's/^/  | /' "$work/readme-docker/stdout"
  echo "  --- readme-docker stderr"; sed 's/^/  | /' "$work/readme-docker/stderr"
fi

if ((failures > 0)); then
  echo "container test: $failures check(s) failed"
  exit 1
fi
echo "container test: all checks passed"
