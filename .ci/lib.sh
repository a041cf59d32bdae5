# shellcheck shell=bash
# Helpers shared by .ci/run, test/container and bench/image. Source it.

# ensure_packages installs the Debian packages whose commands are missing.
# Arguments are command:package pairs, e.g. buildah:buildah readelf:binutils.
ensure_packages() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >&2
}

# buildah_driver prints the storage driver to use: overlay where this kernel
# and file system allow it (fast), vfs otherwise (slow, works everywhere).
buildah_driver() {
  local ctr
  if ctr=$(buildah --storage-driver overlay from scratch 2>/dev/null); then
    buildah --storage-driver overlay rm "$ctr" >/dev/null 2>&1 || true
    echo overlay
  else
    echo vfs
  fi
}
