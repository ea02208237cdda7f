#!/usr/bin/env bash
# check-unit.sh UNIT ACTIVATION SYSUSERS MAX_EXPOSURE
# Fails unless systemd-analyze verify accepts UNIT without a single message, its offline
# security exposure is at most MAX_EXPOSURE (tenths: 15 = 1.5), the D-Bus activation file
# starts that unit for the name the unit owns, and the sysusers entry creates user imsaka.
set -euo pipefail
unit=$1 activation=$2 sysusers=$3 max_exposure=$4

for tool in systemd-analyze systemd-sysusers; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed" >&2; exit 1; }
done

messages=$(systemd-analyze verify "$unit" 2>&1) || { echo "FAIL: verify: $messages" >&2; exit 1; }
if [[ -n $messages ]]; then
  echo "FAIL: systemd-analyze verify printed:" >&2
  echo "$messages" >&2
  exit 1
fi

report=$(systemd-analyze security --offline=true --threshold="$max_exposure" "$unit" 2>&1) || {
  echo "$report" | grep -E '✗|Overall' >&2
  echo "FAIL: exposure above $max_exposure/10" >&2
  exit 1
}
echo "$report" | grep 'Overall exposure'

bus_name=$(sed -n 's/^BusName=//p' "$unit")
[[ $bus_name == org.imsaka ]] || { echo "FAIL: unit BusName is '$bus_name'" >&2; exit 1; }
grep -qx 'Name=org.imsaka' "$activation" || { echo "FAIL: activation Name" >&2; exit 1; }
grep -qx "SystemdService=$(basename "$unit")" "$activation" ||
  { echo "FAIL: activation file does not start $(basename "$unit")" >&2; exit 1; }
grep -qx "User=$(sed -n 's/^User=//p' "$unit")" "$activation" ||
  { echo "FAIL: activation User differs from the unit's" >&2; exit 1; }

# sysusers in a scratch root: the user and its group must be created.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc"
systemd-sysusers --root="$root" - <"$sysusers" >/dev/null
grep -q '^imsaka:' "$root/etc/passwd" || { echo "FAIL: no user imsaka" >&2; exit 1; }
grep -q '^imsaka:' "$root/etc/group" || { echo "FAIL: no group imsaka" >&2; exit 1; }
echo "unit, activation file and sysusers entry pass"
