#!/usr/bin/env bash
# package-lintian.sh DIR: lintian on every package in DIR; fails on any error or warning and prints
# every tag it reports (warnings are listed, with why they stay, in packaging/README.md).
set -euo pipefail
dir=$1
command -v lintian >/dev/null || { echo "lintian is missing: run scripts/install-deps.sh" >&2; exit 1; }
compgen -G "$dir/*.deb" >/dev/null || { echo "no package in $dir" >&2; exit 1; }
status=0
report=$(lintian --fail-on error,warning --display-info "$dir"/*.deb 2>&1) || status=$?
echo "$report"
echo "lintian: $(grep -c '^E:' <<<"$report" || true) errors, $(grep -c '^W:' <<<"$report" || true) warnings, $(grep -c '^I:' <<<"$report" || true) notes"
exit "$status"
