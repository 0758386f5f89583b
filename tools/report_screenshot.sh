#!/usr/bin/env bash
# A screenshot of a study report (or any local HTML page) with headless Chromium, offline:
# no network, a throw-away profile, scrollbars hidden.
#
#   tools/report_screenshot.sh REPORT.html OUT.png [WIDTH HEIGHT]     (default 1280 1600)
#
# Environment: CHROMIUM (the browser binary; default: chromium on PATH),
#              SCREENSHOT_TIMEOUT (seconds, default 60).
# Exit status: 0 written, 1 the browser wrote nothing, 2 bad arguments, 3 no browser found.
set -euo pipefail

usage() { echo "usage: $0 REPORT.html OUT.png [WIDTH HEIGHT]" >&2; }

if [[ $# -ne 2 && $# -ne 4 ]]; then
    usage
    exit 2
fi
report=$1
out=$2
width=${3:-1280}
height=${4:-1600}
if [[ ! -f $report ]]; then
    echo "report_screenshot: '$report' is not a file" >&2
    exit 2
fi
if ! [[ $width =~ ^[0-9]+$ && $height =~ ^[0-9]+$ ]] || ((width < 100 || width > 10000 || height < 100 || height > 30000)); then
    echo "report_screenshot: size ${width}x${height} is outside 100..10000 x 100..30000" >&2
    exit 2
fi
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z $browser ]]; then
    echo "report_screenshot: chromium not found (Debian: apt-get install chromium, or set CHROMIUM)" >&2
    exit 3
fi

report_abs=$(realpath "$report")
out_abs=$(realpath -m "$out")
mkdir -p "$(dirname "$out_abs")"
# file:// URL: percent-encode the characters that would end or alter the path.
url_path=${report_abs//%/%25}
url_path=${url_path// /%20}
url_path=${url_path//#/%23}
url_path=${url_path//\?/%3F}

profile=$(mktemp -d "${TMPDIR:-/tmp}/report-screenshot.XXXXXX")
trap 'rm -rf "$profile"' EXIT
rm -f "$out_abs"
status=0
HOME=$profile timeout "${SCREENSHOT_TIMEOUT:-60}" "$browser" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --no-first-run --user-data-dir="$profile/data" --window-size="$width,$height" --screenshot="$out_abs" \
    "file://$url_path" >"$profile/log" 2>&1 || status=$?
if [[ ! -s $out_abs ]]; then
    echo "report_screenshot: $browser wrote no screenshot (exit $status); the end of its log:" >&2
    tail -n 20 "$profile/log" >&2
    exit 1
fi
echo "$out_abs"
