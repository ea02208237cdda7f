#!/usr/bin/env bash
# card-demo.sh BUILD_DIR: the card half of the main job, run inside pcsc-sandbox.sh.
# Inserts the bundled virtual card, shows what imsaka-card reads from it, and runs one
# AKA exchange as a network would: a stale challenge, the card's AUTS, resynchronisation,
# and a fresh challenge whose RES matches what the network expects.
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
profile=$root/tools/vicc/profiles/default.ini
card="$build/tools/card/imsaka-card"
av="$build/tools/vicc/imsaka-av"

"$build/tools/vicc/imsaka-vicc" --profile "$profile" >/dev/null &
vicc=$!
trap 'kill $vicc 2>/dev/null; wait $vicc 2>/dev/null' EXIT
for _ in $(seq 50); do
  "$card" info >/dev/null 2>&1 && break
  sleep 0.1
done

field() { awk -v key="$1" '$1 == key { print $2 }'; }

echo "== imsaka-card readers"
"$card" readers
echo
echo "== imsaka-card info"
"$card" info
echo
echo "== AKA: the network sends a challenge with a stale SQN (0)"
vector=$("$av" --profile "$profile" --sqn 000000000000)
rand=$(field RAND <<<"$vector"); autn=$(field AUTN <<<"$vector")
echo "RAND $rand"
echo "AUTN $autn"
status=0
answer=$("$card" auth "$rand" "$autn") || status=$?
echo "$answer"
[ $status -eq 3 ] || { echo "expected a sync failure (exit 3), got $status" >&2; exit 1; }
auts=$(awk -F': ' '$1 == "auts" { print $2 }' <<<"$answer")
sqn_ms=$("$av" --profile "$profile" --rand "$rand" --auts "$auts" | field SQN_MS)
echo "network: AUTS decodes to SQN_MS $sqn_ms with a valid MAC-S; resynchronising"
next=$(printf '%012x' $(( 0x$sqn_ms + 32 )))
echo
echo "== AKA: a fresh challenge with SQN $next"
vector=$("$av" --profile "$profile" --sqn "$next")
rand=$(field RAND <<<"$vector"); autn=$(field AUTN <<<"$vector"); xres=$(field XRES <<<"$vector")
echo "RAND $rand"
echo "AUTN $autn"
answer=$("$card" auth "$rand" "$autn")
echo "$answer"
res=$(awk -F': ' '$1 == "res" { print $2 }' <<<"$answer")
if [ "$res" = "$xres" ]; then
  echo "network: RES matches XRES: the card and the network agree"
else
  echo "network: RES $res does not match XRES $xres" >&2
  exit 1
fi
