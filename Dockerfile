# The action's image: a static Go binary on an empty base.
#
# Every image is named in full (registry, repository, tag and digest), so Docker,
# buildah and podman all build this file with no registries configuration: a short
# name such as "golang" resolves only where a registries alias or search list says
# where to look. The final stage is scratch, which has nothing to pull or drift.
#
# The builder is a build argument, BUILDER_IMAGE, so CI can build this exact file with
# a stand-in made from its own Go toolchain on a machine that reaches no registry (see
# .ci/standin-builder.sh). Its default is the pinned image itself, not the name of a
# stage: buildah and podman do not resolve a stage name that comes out of an ARG, and
# would look it up as an image. Dependabot does not read ARG defaults, so this pin is
# updated by hand (the image's tag and its digest together).
ARG BUILDER_IMAGE=docker.io/library/golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d

# The builder runs on the build machine's platform and cross-compiles for the target
# one, so a multi-platform release needs no emulation.
FROM --platform=$BUILDPLATFORM ${BUILDER_IMAGE} AS build
WORKDIR /src

# Every RUN is in exec form: the build needs the Go toolchain and nothing
# else, not even a shell.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Modules first, in their own layer: it is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]

COPY . .
ARG TARGETOS
ARG TARGETARCH
ENV GOOS=${TARGETOS} GOARCH=${TARGETARCH}
# The cache mount only speeds up local rebuilds; the image never contains it.
# noemulator leaves out the local runner's --emulator (the in-repo SORACOM emulator
# and AWS fakes, about 3 MB): on GitHub the action talks to the real services.
RUN --mount=type=cache,target=/root/.cache/go-build \
    ["go", "build", "-trimpath", "-tags=noemulator", "-ldflags=-s -w", "-o", "/out/soracom-credentials-action", "."]

FROM scratch
LABEL org.opencontainers.image.title="soracom-credentials-action" \
      org.opencontainers.image.description="GitHub Action that creates or updates SORACOM credential sets and rotates the AWS access key behind them" \
      org.opencontainers.image.source="https://github.com/soracom-credentials-action/soracom-credentials-action" \
      org.opencontainers.image.licenses="MIT"
# The only files: the CA bundle (for the SORACOM API's TLS) and the binary.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/soracom-credentials-action /soracom-credentials-action
# No USER line on purpose: GitHub runs container actions with the workspace and
# /github/file_commands owned by the runner's root, and a non-root user gets
# "Permission denied" writing GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
ENTRYPOINT ["/soracom-credentials-action"]
