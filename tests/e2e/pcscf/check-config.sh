#!/bin/sh
# check-config.sh: Kamailio's own syntax and module check of pcscf.cfg (binds nothing).
set -u
command -v kamailio >/dev/null || { echo "kamailio is not installed (Debian kamailio, kamailio-ims-modules)" >&2; exit 1; }
dir=$(mktemp -d)
kamailio -c -f "$(dirname "$0")/pcscf.cfg" -Y "$dir" >"$dir/log" 2>&1
rc=$?
[ "$rc" = 0 ] || cat "$dir/log" >&2
rm -rf "$dir"
exit "$rc"
