#!/usr/bin/env bash
# Screenshot the HTML report in headless Chromium.
#   scripts/screenshot_report.sh [REPORT_HTML] [OUT_PNG]
# Defaults: data/reports/<latest run date>/report.html -> report.png next to it.
# Needs chromium (Debian: apt-get install -y chromium); the test suite never depends on it.
set -euo pipefail

report="${1:-$(ls -1d data/reports/*/report.html 2>/dev/null | sort | tail -n 1)}"
if [[ -z "${report}" || ! -f "${report}" ]]; then
    echo "no report found: run \`cmart report\` first or pass its path" >&2
    exit 2
fi
out="${2:-$(dirname "${report}")/report.png}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "${browser}" ]]; then
    echo "no Chromium found (tried chromium, chromium-browser, google-chrome)" >&2
    exit 3
fi
# virtual-time-budget lets plotly.js draw every chart before the shot is taken
"${browser}" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1280,3400 --virtual-time-budget=15000 \
    --screenshot="$(realpath -m "${out}")" "file://$(realpath "${report}")" >/dev/null 2>&1
test -s "${out}"
echo "${out}"
