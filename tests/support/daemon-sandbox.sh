#!/usr/bin/env bash
# daemon-sandbox.sh CMD [ARGS...]
# Inside tests/integration/pcsc-sandbox.sh: starts a private system bus (whose policy
# includes dbus/org.imsaka.conf), imsaka-vicc cards and imsakad, runs CMD with
# DBUS_SYSTEM_BUS_ADDRESS pointing at that bus, then stops everything (imsakad by SIGTERM).
#
# Environment (all optional):
#   IMSAKAD               the daemon binary (default: build/release/daemon/imsakad)
#   IMSAKA_VICC           the card binary (default: next to imsakad, tools/vicc/imsaka-vicc)
#   SANDBOX_CARDS         vpcd ports to start a card on, space-separated (default: 35963;
#                         empty: no card)
#   SANDBOX_VICC_ARGS     extra arguments for every imsaka-vicc (e.g. "--pin-enabled")
#   SANDBOX_CARD_PROFILE  card profile (default: tools/vicc/profiles/default.ini)
#   SANDBOX_CONFIG        imsakad configuration file (default: none, built-in defaults)
#   SANDBOX_IMSAKAD_ARGS  extra arguments for imsakad (e.g. "--log-level debug")
#   SANDBOX_NO_DAEMON     set: start the bus and cards but not imsakad (CMD starts it)
#   SANDBOX_TEST_ACCOUNTS set: add the accounts of tests/support/test-accounts.sh (members
#                         and a non-member of group imsaka) before the bus starts
# CMD sees DBUS_SYSTEM_BUS_ADDRESS, SANDBOX_DIR (a scratch folder, removed afterwards),
# SANDBOX_BUS_CONFIG, IMSAKAD_PID, IMSAKAD_LOG, SANDBOX_VICC_PIDS (space-separated, in the
# order of SANDBOX_CARDS; SIGUSR1 pulls a card, SIGUSR2 inserts it again).
# The network namespace has a test link besides loopback: this host is 192.0.2.1/24 and
# 2001:db8::1/64 on it (SANDBOX_UE_ADDRESS, SANDBOX_UE_ADDRESS6), and 192.0.2.10 and
# 2001:db8::10 are reachable addresses of nobody here (SANDBOX_PCSCF_ADDRESS,
# SANDBOX_PCSCF_ADDRESS6), for registrations that are created but never sent.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${IMSAKA_VPCD_PORTS:-}" ]; then
  exec "$root/tests/integration/pcsc-sandbox.sh" "$0" "$@"
fi

imsakad=${IMSAKAD:-$root/build/release/daemon/imsakad}
vicc=${IMSAKA_VICC:-$(dirname "$imsakad")/../tools/vicc/imsaka-vicc}
profile=${SANDBOX_CARD_PROFILE:-$root/tools/vicc/profiles/default.ini}
[ -x "$imsakad" ] || { echo "daemon-sandbox: no imsakad at $imsakad (build it, or set IMSAKAD)" >&2; exit 1; }
[ -x "$vicc" ] || { echo "daemon-sandbox: no imsaka-vicc at $vicc (set IMSAKA_VICC)" >&2; exit 1; }
command -v dbus-daemon >/dev/null || { echo "daemon-sandbox: dbus-daemon is not installed" >&2; exit 1; }

SANDBOX_DIR=$(mktemp -d /tmp/daemon-sandbox.XXXXXX)
chmod 0755 "$SANDBOX_DIR"
export SANDBOX_DIR
bus_pid= ; IMSAKAD_PID= ; SANDBOX_VICC_PIDS=
cleanup() {
  status=$?
  if [ -n "$IMSAKAD_PID" ] && kill -0 "$IMSAKAD_PID" 2>/dev/null; then
    kill -TERM "$IMSAKAD_PID" 2>/dev/null || true
    wait "$IMSAKAD_PID" 2>/dev/null || true
  fi
  for pid in $SANDBOX_VICC_PIDS; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [ -n "$bus_pid" ] && { kill -TERM "$bus_pid" 2>/dev/null || true; }
  if [ $status -ne 0 ] && [ -s "$SANDBOX_DIR/imsakad.log" ]; then
    echo "daemon-sandbox: imsakad log tail:" >&2
    tail -n 30 "$SANDBOX_DIR/imsakad.log" >&2
  fi
  rm -rf "$SANDBOX_DIR"
  exit $status
}
trap cleanup EXIT

# The test link: a veth pair (its peer end holds no address), so that the namespace has a
# host address that is not loopback and a route to addresses that are not its own.
if ! ip link show imsaka-test >/dev/null 2>&1; then
  ip link add imsaka-test type veth peer name imsaka-peer ||
    { echo "daemon-sandbox: cannot create the veth test link" >&2; exit 1; }
  ip addr add 192.0.2.1/24 dev imsaka-test
  ip -6 addr add 2001:db8::1/64 dev imsaka-test nodad
  ip link set imsaka-peer up
  ip link set imsaka-test up
fi
export SANDBOX_UE_ADDRESS=192.0.2.1 SANDBOX_UE_ADDRESS6=2001:db8::1
export SANDBOX_PCSCF_ADDRESS=192.0.2.10 SANDBOX_PCSCF_ADDRESS6=2001:db8::10

if [ -n "${SANDBOX_TEST_ACCOUNTS:-}" ]; then
  "$here/test-accounts.sh" "$SANDBOX_DIR"
fi

# The private bus: anyone may connect and talk to anyone, then the daemon's own policy
# (included last, so its denials win) restricts org.imsaka as on a real system.
export SANDBOX_BUS_CONFIG=$SANDBOX_DIR/bus.conf
cat > "$SANDBOX_BUS_CONFIG" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
  "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$SANDBOX_DIR/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>$root/dbus/org.imsaka.conf</include>
</busconfig>
CONF
started=$(timeout 10 dbus-daemon --config-file="$SANDBOX_BUS_CONFIG" --fork --nopidfile \
            --print-address=1 --print-pid=1 2>"$SANDBOX_DIR/bus.log") ||
  { echo "daemon-sandbox: dbus-daemon did not start:" >&2; cat "$SANDBOX_DIR/bus.log" >&2; exit 1; }
address=$(sed -n 1p <<<"$started")
bus_pid=$(sed -n 2p <<<"$started")
export DBUS_SYSTEM_BUS_ADDRESS=$address

# Cards: one imsaka-vicc per requested vpcd port, each waited for until inserted.
for port in ${SANDBOX_CARDS-35963}; do
  out=$SANDBOX_DIR/vicc-$port.log
  # shellcheck disable=SC2086
  "$vicc" --profile "$profile" --port "$port" ${SANDBOX_VICC_ARGS:-} >"$out" 2>&1 &
  SANDBOX_VICC_PIDS="$SANDBOX_VICC_PIDS $!"
  for _ in $(seq 200); do grep -q "imsaka-vicc: inserted" "$out" && break; sleep 0.025; done
  grep -q "imsaka-vicc: inserted" "$out" || { echo "daemon-sandbox: imsaka-vicc on $port did not connect:" >&2; cat "$out" >&2; exit 1; }
done
export SANDBOX_VICC_PIDS=${SANDBOX_VICC_PIDS# }

export IMSAKAD_LOG=$SANDBOX_DIR/imsakad.log
# The daemon's instance lock (one per network namespace) stays in the sandbox, not the
# host's /run.
export RUNTIME_DIRECTORY=$SANDBOX_DIR
if [ -z "${SANDBOX_NO_DAEMON:-}" ]; then
  args=()
  [ -n "${SANDBOX_CONFIG:-}" ] && args+=(--config "$SANDBOX_CONFIG")
  # shellcheck disable=SC2086
  "$imsakad" "${args[@]}" ${SANDBOX_IMSAKAD_ARGS:-} >"$IMSAKAD_LOG" 2>&1 &
  IMSAKAD_PID=$!
  export IMSAKAD_PID
  # NameHasOwner rather than "busctl status": the latter needs peer credentials that the
  # user-mode Linux kernel of the kernel tests cannot give.
  owned() {
    busctl --address="$address" call org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus NameHasOwner s org.imsaka 2>/dev/null | grep -q true
  }
  for _ in $(seq 1000); do
    owned && break
    kill -0 "$IMSAKAD_PID" 2>/dev/null || { echo "daemon-sandbox: imsakad exited at start:" >&2; cat "$IMSAKAD_LOG" >&2; exit 1; }
    sleep 0.01
  done
  owned || { echo "daemon-sandbox: imsakad did not take org.imsaka" >&2; exit 1; }
fi

"$@"
