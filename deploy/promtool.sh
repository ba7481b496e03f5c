#!/usr/bin/env bash
# Prometheus's own promtool (Go module github.com/prometheus/prometheus, pinned), built once into a
# cache folder for the test that checks the alert rules, their unit tests and prometheus.yml
# (tests/deploy/test_alert_rules.py). Prints the binary's path (export it as PROMTOOL).
set -euo pipefail
version=v0.316.0
dir=${PROMTOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/charterwatch/bin}
bin="$dir/promtool-$version-nosd"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "deploy/promtool.sh: no Go toolchain to build promtool" >&2; exit 1; }
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # remove_all_sd leaves out the cloud service discoveries (AWS, Azure, GCE, ...), which our configs do not use
  # (static targets; Kubernetes discovery stays, promtool imports it itself): measured on this 2-core machine,
  # 5.2 CPU-minutes and 7 min instead of about 10 CPU-minutes. Go's module and build caches keep what a build
  # cut short had done.
  if ! GOBIN="$tmp" timeout 3600 go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$version" >&2; then
    echo "deploy/promtool.sh: building promtool $version failed" >&2
    exit 1
  fi
  mv "$tmp/promtool" "$bin"
fi
echo "$bin"
