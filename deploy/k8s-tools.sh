#!/usr/bin/env bash
# kustomize (the Go module sigs.k8s.io/kustomize/kustomize/v5, pinned), built once into a cache folder
# for the tests that render the Kubernetes manifests (tests/deploy/test_manifests.py). Prints the
# binary's path (export it as KUSTOMIZE). Building takes about two minutes the first time.
set -euo pipefail
version=v5.8.1  # pinned; builds with the Go these machines have (1.26), no toolchain download
bin=${CHARTERWATCH_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/charterwatch/bin}
exe="$bin/kustomize-$version"
if [ ! -x "$exe" ]; then
  mkdir -p "$bin"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN="$work" timeout 900 \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
  mv "$work/kustomize" "$exe"
fi
echo "$exe"
