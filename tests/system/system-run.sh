#!/usr/bin/env bash
# system-run.sh [--mem SIZE] [--timeout SECONDS] JOB [FILE...]
#
# Boots user-mode Linux with systemd as PID 1 on a root file system of its own (the cached
# Debian image of guest-root.sh, through a copy-on-write file that is thrown away after the
# run: the image and the host's files are never written), and once the system is up runs the
# shell script JOB inside as root (imsaka-guest-job.service), then powers off. JOB runs in a
# work folder of the host mounted over hostfs, next to copies of the FILEs, with the
# caller's IMSAKA_* variables in ./environment. Its output, exit status and the boot's
# journal come back through that folder; no result (kernel crash, hang, failed boot) is a
# failure. The exit status is the job's.
#
# The work folder is under /var/tmp (IMSAKA_UML_WORKDIR to change it) and removed at the end;
# IMSAKA_SYSTEM_KEEP=1 keeps it (console.log, journal.txt) for a post-mortem.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mem=768M
timeout=600
while [ $# -gt 0 ]; do
  case "$1" in
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: system-run.sh [--mem SIZE] [--timeout S] JOB [FILE...]" >&2; exit 2; }
job=$1
shift

fail() { echo "system-run: $*" >&2; exit 1; }
kernel=${IMSAKA_UML_KERNEL:-/usr/bin/linux.uml}
[ -x "$kernel" ] || fail "$kernel is missing: install user-mode-linux (scripts/install-deps.sh)"
[ -f "$job" ] || fail "no job script $job"
image=$("$here/guest-root.sh") || fail "no guest root image (tests/system/guest-root.sh failed)"

work=$(mktemp -d "${IMSAKA_UML_WORKDIR:-/var/tmp}/imsaka-system.XXXXXX")
kernel_pid=
kill_guest() {
  kill -KILL -- "-$kernel_pid" 2>/dev/null || kill -KILL "$kernel_pid" 2>/dev/null
}
cleanup() {
  [ -n "$kernel_pid" ] && kill_guest
  if [ "${IMSAKA_SYSTEM_KEEP:-}" = 1 ]; then
    rm -f "$work/root.cow"
    echo "system-run: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$job" "$work/job"
for file in "$@"; do cp -a "$file" "$work/"; done
while IFS='=' read -r name _; do
  case "$name" in IMSAKA_*) printf 'export %s=%q\n' "$name" "${!name}" ;; esac
done < <(env) > "$work/environment"

start=$(date +%s%N)
# The kernel makes itself a session leader: its process group holds the whole guest.
"$kernel" mem="$mem" ubd0="$work/root.cow,$image" root=/dev/ubda rw uml_dir="$work" \
  con=null con0=fd:0,fd:1 imsaka.work="$work" systemd.unit=multi-user.target \
  systemd.show_status=0 loglevel=4 </dev/null >"$work/console.log" 2>&1 &
kernel_pid=$!
timed_out=
deadline=$((SECONDS + timeout))
while kill -0 "$kernel_pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    timed_out=1
    kill_guest
    break
  fi
  sleep 0.2
done
kernel_status=0
wait "$kernel_pid" || kernel_status=$?
kernel_pid=
elapsed_ms=$((($(date +%s%N) - start) / 1000000))

[ -f "$work/output" ] && cat "$work/output"
status=1
if [ -f "$work/result" ]; then
  status=$(cat "$work/result")
else
  [ -n "$timed_out" ] && echo "system-run: the guest ran out of time (${timeout}s) and was killed" >&2
  echo "system-run: no result from the guest (kernel exit status $kernel_status); console tail:" >&2
  tail -n 60 "$work/console.log" >&2
fi
if [ "$status" != 0 ] && [ -f "$work/journal.txt" ]; then
  echo "system-run: journal tail:" >&2
  tail -n 80 "$work/journal.txt" >&2
fi
printf 'system-run: job finished with %s in %d.%03d s (boot and power-off included)\n' \
  "$status" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
exit "$status"
