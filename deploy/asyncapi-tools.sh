#!/usr/bin/env bash
# AsyncAPI's own parser (npm @asyncapi/parser, pinned), installed once into a cache folder for the test
# that validates docs/asyncapi.json. Prints the node_modules path (export it as ASYNCAPI_TOOLS).
set -euo pipefail
dir=${ASYNCAPI_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/charterwatch/asyncapi-tools}
# Behind a TLS-inspecting proxy the registry's chain ends in the machine's CA bundle: node reads only
# its own unless told (pip, curl and Maven already use the system bundle).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ ! -d "$dir/node_modules/@asyncapi/parser" ]; then
  mkdir -p "$dir"
  timeout 600 npm install --prefix "$dir" --no-audit --no-fund --silent @asyncapi/parser@3.6.3 >&2
fi
echo "$dir/node_modules"
