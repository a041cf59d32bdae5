#!/usr/bin/env bash
# Builds a stand-in for the Dockerfile's builder image from this machine's own
# Go toolchain, for machines that reach the Go module proxy but no container
# registry. Prints the image name to use as BUILDER_IMAGE.
#
# The image is rebuilt only when the toolchain changes, so repeated runs are
# cheap. Usage: .ci/standin-builder.sh [buildah global options...]
set -euo pipefail

goroot=$(go env GOROOT)
version=$(go env GOVERSION)
image="localhost/standin-golang:${version}"

if buildah "$@" inspect --type image "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

ctr=$(buildah "$@" from scratch)
trap 'buildah "$@" rm "$ctr" >/dev/null 2>&1 || true' EXIT

empty=$(mktemp -d)
buildah "$@" copy --quiet "$ctr" "$goroot" /usr/local/go
buildah "$@" copy --quiet "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
buildah "$@" copy --quiet --chmod 1777 "$ctr" "$empty" /tmp
buildah "$@" copy --quiet "$ctr" "$empty" /root
rmdir "$empty"

# The module proxy and checksum database this machine uses, so downloads in
# RUN steps go where the host's would.
buildah "$@" config \
  --env PATH=/usr/local/go/bin:/go/bin:/usr/local/bin:/usr/bin:/bin \
  --env HOME=/root \
  --env GOPATH=/go \
  --env GOMODCACHE=/go/pkg/mod \
  --env GOCACHE=/root/.cache/go-build \
  --env GOTOOLCHAIN=local \
  --env GOFLAGS=-buildvcs=false \
  --env "GOPROXY=$(go env GOPROXY)" \
  --env "GOSUMDB=$(go env GOSUMDB)" \
  --env "GONOSUMDB=$(go env GONOSUMDB)" \
  --env "GOPRIVATE=$(go env GOPRIVATE)" \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --workingdir / \
  "$ctr"
buildah "$@" commit --quiet --rm "$ctr" "$image" >/dev/null
trap - EXIT
echo "$image"
