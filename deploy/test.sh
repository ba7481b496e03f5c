#!/usr/bin/env bash
# The test command (README: `make test`; CI: .ci/run calls it).
# Installs the Python dependencies, starts a real Kafka (KRaft, from Maven jars) and a real
# PostgreSQL (Debian packages) on private ports, runs pytest against them, and stops both.
# Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

python3 -m pip install -q --disable-pip-version-check -e ".[test,bench]" 2>&1 | grep -v "Running pip as the 'root' user" || true

# The audit's PDF report is typeset with a Korean font (WeasyPrint finds it through fontconfig); without
# one every Hangul syllable would be an empty box, and the PDF tests fail rather than skip.
# WeasyPrint lays text out with Pango; libharfbuzz-subset0 lets it embed only the glyphs used.
# The console's browser tests (tests/browser) drive Debian's chromium with Playwright: no browser is
# downloaded, and under CI=true a missing chromium fails them.
pdf_packages="fonts-nanum libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium"
missing=""
for p in $pdf_packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing) \
    >/dev/null || echo "deploy/test.sh: could not install$missing: the PDF or browser tests will fail" >&2
fi

# AsyncAPI's parser validates docs/asyncapi.json (tests/integration/test_asyncapi.py).
ASYNCAPI_TOOLS=$(deploy/asyncapi-tools.sh) || echo "deploy/test.sh: could not install @asyncapi/parser: the AsyncAPI test will fail" >&2
export ASYNCAPI_TOOLS

# promtool (built from the Go module once, then cached) checks the alert rules, their unit tests and
# prometheus.yml (tests/deploy/test_alert_rules.py).
PROMTOOL=$(deploy/promtool.sh) || echo "deploy/test.sh: could not build promtool: the alert rule tests will fail" >&2
export PROMTOOL

# The Kubernetes manifests are rendered by kustomize, built once from its Go module, and validated
# offline (tests/deploy/test_manifests.py); hadolint and kubernetes-validate come with the test extra.
KUSTOMIZE=$(deploy/k8s-tools.sh) || echo "deploy/test.sh: could not build kustomize: the manifest tests will fail" >&2
export KUSTOMIZE

work=$(mktemp -d -t charterwatch-test.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as the postgres user and must reach its data dir
export KAFKA_PORT=${TEST_KAFKA_PORT:-29092}
export KAFKA_DATA_DIR="$work/kafka"
export PG_PORT=${TEST_PG_PORT:-55433}
export PG_DATA_DIR="$work/pg"
export PG_DATABASE=charterwatch_test

cleanup() {
  deploy/kafka/kafka.sh stop || true
  deploy/postgres/postgres.sh stop || true
  rm -rf "$work"
}
trap cleanup EXIT

deploy/kafka/kafka.sh start
deploy/postgres/postgres.sh start
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT"
export CHARTERWATCH_TEST_POSTGRES_URL=$(deploy/postgres/postgres.sh url)

# The layers (pyproject.toml [tool.importlinter]): a broken import contract fails the run.
lint-imports

set +e
python3 -m pytest -ra --durations=30 "$@"  # the slowest tests, to keep the run short
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "deploy/test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
