#!/usr/bin/env bash
# Image benchmark: builds the real Dockerfile with buildah on this machine and
# measures what a user and a developer of the action wait for.
#
#   cold build     fresh storage, no layer cache, empty Go build cache; the
#                  modules come from the module proxy (a GitHub runner building
#                  `image: Dockerfile` starts like this on every job)
#   rebuild        after a one-line change to main.go (in a copy of the tree),
#                  with the module layer and the build cache mount warm; and
#                  again with the build cache mount empty (a builder without
#                  cache mounts, such as a CI runner that keeps no cache)
#   image size     uncompressed content, and compressed as a registry stores it
#   binary size    the stripped static binary
#   registration   start-to-exit of the built binary registering a credential
#                  set against the local emulator (update of an existing set),
#                  median of RUNS runs with hyperfine
#
# Usage: bash bench/image/run.sh > bench/image/RESULTS.md   (progress on stderr)
# Environment: RUNS (default 30), BUILDER_IMAGE (default: a stand-in made
# from this machine's Go toolchain, .ci/standin-builder.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="/usr/local/go/bin:$PATH"
# shellcheck source=.ci/lib.sh
source .ci/lib.sh
ensure_packages buildah:buildah hyperfine:hyperfine jq:jq

RUNS=${RUNS:-30}
IMAGE=localhost/soracom-credentials-action:bench
TARGET_IMAGE_MB=12
TARGET_REBUILD_S=20

work=$(mktemp -d)
emulator_pid=
cleanup() {
  if [[ -n $emulator_pid ]]; then kill "$emulator_pid" 2>/dev/null || true; fi
  buildah "${storage[@]}" rm -a >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

# A storage root and build-cache directory of its own, so nothing cached by
# earlier builds on this machine makes the cold build warm.
driver=$(buildah_driver)
storage=(--storage-driver "$driver" --root "$work/storage" --runroot "$work/run")
export TMPDIR="$work/tmp" # where buildah keeps RUN --mount=type=cache
mkdir -p "$TMPDIR"

# A copy of the tree, so the one-line change never touches the real one.
mkdir "$work/src"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src"

log "stand-in builder (not timed)"
builder=${BUILDER_IMAGE:-$(.ci/standin-builder.sh "${storage[@]}")}

build() {
  local start end
  start=$(date +%s.%N)
  buildah "${storage[@]}" bud --isolation chroot --layers --quiet \
    --platform "linux/$(go env GOARCH)" --build-arg "BUILDER_IMAGE=$builder" \
    -f Dockerfile -t "$IMAGE" "$work/src" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

log "cold build"
cold=$(build)
log "rebuild, nothing changed"
cached=$(build)
log "rebuild after a one-line change to main.go"
echo "// bench: a one-line change" >>"$work/src/main.go"
rebuild=$(build)
log "rebuild after another one-line change, with an empty Go build cache"
echo "// bench: another one-line change" >>"$work/src/main.go"
export TMPDIR="$work/tmp2"
mkdir -p "$TMPDIR"
rebuild_nocache=$(build)

ctr=$(buildah "${storage[@]}" from --pull-never "$IMAGE")
mnt=$(buildah "${storage[@]}" mount "$ctr")
cp "$mnt/soracom-credentials-action" "$work/soracom-credentials-action"
image_bytes=$(du -sb "$mnt" | cut -f1)
buildah "${storage[@]}" umount "$ctr" >/dev/null
binary_bytes=$(stat -c %s "$work/soracom-credentials-action")
buildah "${storage[@]}" push --quiet --compression-format gzip "$IMAGE" "oci:$work/oci" >/dev/null
compressed_bytes=$(jq -r '.layers | map(.size) | add' \
  "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest | ltrimstr("sha256:")' "$work/oci/index.json")")

log "registration against the emulator, $RUNS runs"
(cd "$root" && go build -o "$work/soracom-emulator" ./cmd/soracom-emulator)
"$work/soracom-emulator" -addr 127.0.0.1:0 -auth-key-id keyId-bench -auth-key secret-bench \
  >"$work/emulator.out" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do
  [[ -s $work/emulator.out ]] && break
  sleep 0.1
done
endpoint=$(head -n1 "$work/emulator.out")
mkdir -p "$work/gh"
cat >"$work/register" <<SCRIPT
#!/bin/sh
exec env -i GITHUB_ACTIONS=true \
  GITHUB_OUTPUT=$work/gh/output GITHUB_STEP_SUMMARY=$work/gh/summary \
  INPUT_CREDENTIAL-ID=bench INPUT_CREDENTIAL-TYPE=aws-credentials \
  INPUT_SORACOM-AUTH-KEY-ID=keyId-bench INPUT_SORACOM-AUTH-KEY=secret-bench \
  INPUT_SORACOM-COVERAGE-TYPE=jp INPUT_SORACOM-ENDPOINT=$endpoint \
  INPUT_AWS-ACCESS-KEY-ID=AKIAIOSFODNN7EXAMPLE \
  INPUT_AWS-SECRET-ACCESS-KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY \
  INPUT_IF-EXISTS=update INPUT_DRY-RUN=false INPUT_VERIFY-AWS-KEY=false \
  $work/soracom-credentials-action >/dev/null
SCRIPT
chmod +x "$work/register"
"$work/register" # the set exists from here on: every timed run is an update
hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$work/hf.json" \
  "$work/register" >/dev/null 2>&1
median_ms=$(jq -r '.results[0].median * 1000 | . * 10 | round / 10' "$work/hf.json")
min_ms=$(jq -r '.results[0].min * 1000 | . * 10 | round / 10' "$work/hf.json")
max_ms=$(jq -r '.results[0].max * 1000 | . * 10 | round / 10' "$work/hf.json")

mb() { echo "scale=2; $1 / 1000000" | bc; }
sec() { printf '%.1f' "$1"; }
# verdict VALUE TARGET UNIT
verdict() {
  if (($(echo "$1 <= $2" | bc))); then echo "≤ $2 $3: met"; else echo "≤ $2 $3: MISSED"; fi
}

cat <<REPORT
# Image benchmark

Measured with \`RUNS=$RUNS bash bench/image/run.sh > bench/image/RESULTS.md\` (buildah $(buildah --version | awk '{print $3}'),
storage driver $driver, \`--isolation chroot\`, the builder a stand-in made from
this machine's Go toolchain, $(go env GOVERSION)).

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),
$(free -g | awk '/^Mem:/ {print $2}') GiB memory. Date: $(date -u +%Y-%m-%d).

| measure | result | target |
|---|---|---|
| final image, uncompressed | $(mb "$image_bytes") MB | $(verdict "$(mb "$image_bytes")" "$TARGET_IMAGE_MB" MB) |
| final image, compressed layers (pull size) | $(mb "$compressed_bytes") MB | |
| binary (static, stripped) | $(mb "$binary_bytes") MB | |
| cold build (no layer or build cache, modules from the proxy) | $(sec "$cold") s | |
| rebuild, nothing changed | $(sec "$cached") s | |
| rebuild after a one-line change to main.go | $(sec "$rebuild") s | $(verdict "$rebuild" "$TARGET_REBUILD_S" s) |
| the same, Go build cache mount empty (module layer still cached) | $(sec "$rebuild_nocache") s | |
| registration, start to exit of the binary (update of an existing set, local emulator, through a /bin/sh wrapper) | median $median_ms ms (min $min_ms, max $max_ms; $RUNS runs) | |

The image holds two files: the binary and the CA bundle. A GitHub runner
building \`image: Dockerfile\` pays the cold build on every job (plus pulling
the golang builder image); a release's \`image: docker://…@sha256:…\` pays only
the compressed pull.
REPORT
