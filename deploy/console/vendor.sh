#!/usr/bin/env bash
# Refresh the console's vendored front-end assets from the npm registry (versions pinned below).
# Run by a developer, not by CI: the files are committed, so a closed network needs no npm at all.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack -q krds-uiux@1.1.0 chart.js@4.6.1 axe-core@4.14.1 >/dev/null
for t in *.tgz; do mkdir -p "${t%.tgz}" && tar xzf "$t" -C "${t%.tgz}"; done
r=krds-uiux-1.1.0/package/resources
v="$root/services/console/static/vendor"
rm -rf "$v/krds" "$v/chartjs"
mkdir -p "$v/krds/css/token" "$v/krds/css/common" "$v/krds/css/component" "$v/krds/img/component" "$v/krds/fonts" \
  "$v/krds/js" "$v/chartjs"
cp "$r/css/token/krds_tokens.css" "$v/krds/css/token/"
cp "$r/css/common/common.css" "$v/krds/css/common/"
cp "$r/css/component/component.css" "$v/krds/css/component/"
cp -r "$r/img/component/icon" "$v/krds/img/component/"
cp "$r"/fonts/*.woff2 "$v/krds/fonts/"
cp "$r/js/component/ui-script.js" "$v/krds/js/"
cp krds-uiux-1.1.0/package/package.json "$v/krds/"
cp chart.js-4.6.1/package/dist/chart.umd.min.js "$v/chartjs/"
cp axe-core-4.14.1/package/axe.min.js "$root/tests/browser/axe.min.js"
echo "vendored into $v"
