#!/usr/bin/env bash
# pcsc-sandbox.sh CMD [ARGS...]
# Runs CMD beside a private pcscd with two vpcd readers, without touching any pcscd or
# reader of the host: a new mount namespace hides /run/pcscd behind a tmpfs, and a new
# network namespace keeps vpcd's TCP ports (35963, 35964 on loopback) to ourselves.
# CMD sees IMSAKA_VPCD_PORTS, IMSAKA_READERS (names of the two readers, '|'-separated) and
# IMSAKA_SANDBOX_MOUNT_NS (the private mount namespace, as /proc/self/ns/mnt names it).
set -euo pipefail

if [ "${1:-}" != --inside ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pcsc-sandbox: needs root (it creates namespaces and starts pcscd)" >&2
    exit 1
  fi
  command -v pcscd >/dev/null || { echo "pcsc-sandbox: pcscd is not installed (scripts/install-deps.sh)" >&2; exit 1; }
  [ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || { echo "pcsc-sandbox: vsmartcard-vpcd is not installed" >&2; exit 1; }
  mkdir -p /run/pcscd
  exec unshare --mount --net --fork --kill-child --propagation private "$0" --inside "$@"
fi
shift

workdir=$(mktemp -d /tmp/pcsc-sandbox.XXXXXX)
pcscd_pid=
cleanup() {
  [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null
  rm -rf "$workdir"
}
trap cleanup EXIT

mount -t tmpfs -o mode=0755 pcsc-sandbox /run/pcscd
# This namespace, for helpers that may only change mounts inside it (test-accounts.sh).
IMSAKA_SANDBOX_MOUNT_NS=$(readlink /proc/self/ns/mnt)
export IMSAKA_SANDBOX_MOUNT_NS
ip link set lo up
mkdir "$workdir/reader.conf.d"
cat > "$workdir/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
CONF

log=${PCSC_SANDBOX_LOG:-$workdir/pcscd.log}
pcscd --foreground --config "$workdir/reader.conf.d" ${PCSC_SANDBOX_DEBUG:+--debug --apdu} >"$log" 2>&1 &
pcscd_pid=$!
for _ in $(seq 100); do
  [ -S /run/pcscd/pcscd.comm ] && break
  kill -0 "$pcscd_pid" 2>/dev/null || { echo "pcsc-sandbox: pcscd exited at start:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.05
done
[ -S /run/pcscd/pcscd.comm ] || { echo "pcsc-sandbox: pcscd did not create its socket" >&2; cat "$log" >&2; exit 1; }

export IMSAKA_VPCD_PORTS="35963 35964"
export IMSAKA_READERS="Virtual PCD 00 00|Virtual PCD 00 01"
status=0
"$@" || status=$?
if [ $status -ne 0 ] && [ -z "${PCSC_SANDBOX_LOG:-}" ]; then
  echo "pcsc-sandbox: command failed ($status); pcscd log tail:" >&2
  tail -n 30 "$log" >&2
fi
exit $status
