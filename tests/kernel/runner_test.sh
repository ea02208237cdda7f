#!/usr/bin/env bash
# Checks uml-run.sh itself on the host: exit statuses come back from the guest, a list
# reports each command, and a command that leaves no result (the guest dies first) fails.
set -uo pipefail
runner=$(dirname "$0")/uml-run.sh
failures=0
expect() {
  local want=$1 pattern=$2; shift 2
  local output status
  output=$("$runner" "$@" 2>&1); status=$?
  if [ "$status" != "$want" ] || ! grep -q -- "$pattern" <<<"$output"; then
    echo "FAIL: uml-run.sh $* gave $status (want $want) and output:"; echo "$output"
    failures=$((failures + 1))
  else
    echo "ok: uml-run.sh $* -> $status"
  fi
}
list=$(mktemp /var/tmp/uml-runner-test.XXXXXX)
trap 'rm -f "$list"' EXIT
printf 'echo first\n# a comment\nexit 4\n' > "$list"

expect 0 "guest $(uname -m)" -- sh -c 'echo guest $(uname -m); test "$(uname -r)" != "'"$(uname -r)"'"'
expect 3 "" -- sh -c 'exit 3'
expect 0 "esp4" -- sh -c 'ip xfrm state add src 10.1.0.1 dst 10.1.0.2 proto esp spi 300 mode transport auth-trunc "hmac(md5)" 0x00112233445566778899aabbccddeeff 96 enc "cbc(aes)" 0x00112233445566778899aabbccddeeff && lsmod | grep -o esp4'
expect 1 "\[FAIL\] exit 4" --list "$list"
expect 1 "\[MISSING\]" -- sh -c 'poweroff -f'
expect 1 "does not exist" -- /nonexistent/program

# The host's /tmp is hidden inside, but for folders the caller keeps visible.
hidden=$(mktemp /tmp/uml-runner-hidden.XXXXXX)
kept=$(mktemp -d /tmp/uml-runner-kept.XXXXXX)
touch "$kept/file"
IMSAKA_UML_KEEP=$kept expect 0 "isolated" -- sh -c "test ! -e $hidden && test -e $kept/file && echo isolated"
rm -rf "$hidden" "$kept"

# A guest that outlives its time is killed with every process it has.
own=$(mktemp -d /var/tmp/uml-runner-timeout.XXXXXX)
IMSAKA_UML_WORKDIR=$own expect 1 "ran out of time" --timeout 5 -- sleep 600
if pgrep -f "uml_dir=$own" >/dev/null; then
  echo "FAIL: guest processes outlived the timeout"; pgrep -af "uml_dir=$own"
  kill -KILL $(pgrep -f "uml_dir=$own") 2>/dev/null
  failures=$((failures + 1))
fi
rmdir "$own"
[ "$failures" -eq 0 ]
