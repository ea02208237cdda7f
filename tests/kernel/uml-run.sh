#!/usr/bin/env bash
# uml-run.sh [--mem SIZE] [--timeout SECONDS] -- COMMAND [ARGS...]
# uml-run.sh [--mem SIZE] [--timeout SECONDS] --list FILE
#
# Boots user-mode Linux (Debian user-mode-linux: a kernel with ESP, XFRM and veth) over the
# host root file system, runs COMMAND (or each line of FILE, a shell command) inside as
# root, in the caller's working directory and with the caller's IMSAKA_*, GTEST_*, ASAN_*
# and UBSAN_* variables, then powers off. Each command's output and exit status come back
# through files on the host; a command without a result (kernel crash, hang, init failure)
# is a failure. The exit status is the command's, or 1 when any command of a list failed.
#
# Inside: /proc, /sys, a fresh /run and /tmp (tmpfs: the host's /tmp is hidden but for
# this checkout, the caller's working directory and the colon-separated folders in
# IMSAKA_UML_KEEP, which stay visible at their paths), the kernel's modules loadable on
# demand, loopback up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mem=${IMSAKA_UML_MEM:-384M}
timeout=${IMSAKA_UML_TIMEOUT:-300}
list=
while [ $# -gt 0 ]; do
  case "$1" in
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --list) list=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -z "$list" ] && [ $# -eq 0 ]; then
  echo "usage: uml-run.sh [--mem SIZE] [--timeout S] (-- COMMAND [ARGS...] | --list FILE)" >&2
  exit 2
fi

fail() { echo "uml-run: $*" >&2; exit 1; }
kernel=${IMSAKA_UML_KERNEL:-/usr/bin/linux.uml}
[ -x "$kernel" ] || fail "$kernel is missing: install the Debian package user-mode-linux (scripts/install-deps.sh)"
compgen -G "/usr/lib/uml/modules/*" >/dev/null || fail "/usr/lib/uml/modules is empty: user-mode-linux is incomplete"
[ -x /sbin/modprobe ] || fail "/sbin/modprobe is missing: install the Debian package kmod (scripts/install-deps.sh)"
if [ -z "$list" ] && [[ "$1" == */* ]] && [ ! -x "$1" ]; then
  fail "$1 does not exist or is not executable (kernel tests run non-sanitized binaries: build them with scripts/build.sh release)"
fi

# The work directory must stay visible inside, so not under /tmp.
work=$(mktemp -d "${IMSAKA_UML_WORKDIR:-/var/tmp}/imsaka-uml.XXXXXX")
kernel_pid=
# The guest kernel makes itself a session leader: its process group holds every process of
# the guest, so that is what to kill.
kill_guest() {
  kill -KILL -- "-$kernel_pid" 2>/dev/null || kill -KILL "$kernel_pid" 2>/dev/null
}
cleanup() {
  [ -n "$kernel_pid" ] && kill_guest
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$list" ]; then
  grep -v '^[[:space:]]*\(#\|$\)' "$list" > "$work/commands" || fail "$list holds no command"
else
  printf '%q ' "$@" > "$work/commands"
  echo >> "$work/commands"
fi
{
  printf 'cd %q\n' "$PWD"
  printf 'export PATH=%q\n' "$PATH"
  while IFS='=' read -r name _; do
    case "$name" in
      IMSAKA_*|GTEST_*|ASAN_*|UBSAN_*) printf 'export %s=%q\n' "$name" "${!name}" ;;
    esac
  done < <(env)
} > "$work/environment"

{
  (cd "$here/../.." && pwd)
  echo "$PWD"
  tr ':' '\n' <<<"${IMSAKA_UML_KEEP:-}"
} > "$work/keep"

# Kernel command-line words NAME=value reach init as its environment.
start=$(date +%s%N)
"$kernel" mem="$mem" root=/dev/root rootfstype=hostfs rootflags=/ rw quiet uml_dir="$work" \
  init="$here/uml-init.sh" IMSAKA_UML_WORK="$work" con=null con0=fd:0,fd:1 \
  </dev/null >"$work/console.log" 2>&1 &
kernel_pid=$!
timed_out=
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
deadline=$(($(now_ms) + timeout * 1000))
while kill -0 "$kernel_pid" 2>/dev/null; do
  if [ "$(now_ms)" -ge "$deadline" ]; then
    timed_out=1
    kill_guest
    break
  fi
  sleep 0.1
done
kernel_status=0
wait "$kernel_pid" || kernel_status=$?
kernel_pid=
elapsed_ms=$((($(date +%s%N) - start) / 1000000))

status=0
count=$(wc -l < "$work/commands")
for i in $(seq 1 "$count"); do
  command=$(sed -n "${i}p" "$work/commands")
  [ -f "$work/output.$i" ] && cat "$work/output.$i"
  if [ -f "$work/result.$i" ]; then
    result=$(cat "$work/result.$i")
    [ "$count" -gt 1 ] && echo "uml-run: [$( [ "$result" = 0 ] && echo PASS || echo FAIL)] $command"
    [ "$result" = 0 ] || status=$result
  else
    echo "uml-run: [MISSING] no result for: $command" >&2
    status=1
  fi
done
if [ ! -f "$work/result.$count" ]; then
  [ -n "$timed_out" ] && echo "uml-run: the guest ran out of time (${timeout}s) and was killed" >&2
  echo "uml-run: kernel exit status $kernel_status; console tail:" >&2
  tail -n 40 "$work/console.log" >&2
fi
[ "$count" -gt 1 ] && [ "$status" -ne 0 ] && status=1
printf 'uml-run: %d command(s) in %d.%03d s (boot included)\n' "$count" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
exit "$status"
