# checks.sh: the checks of imsakad as installed, under systemd (PID 1) in the user-mode
# Linux guest of system-run.sh. Sourced by the guest jobs (job-install.sh, job-package.sh)
# once imsakad, imsakactl, imsaka-register and imsaka-vicc are installed; needs
# system_pcscf and default.ini beside it. Each check prints PASS or FAIL with what it saw;
# `failures` counts the failed ones.
failures=0
here=$PWD
ue=10.46.0.1
pcscf=10.46.0.2
imsaka_uid=

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# wait_until SECONDS COMMAND...: polls until the command succeeds (generous bounds: the
# guest may share a busy machine).
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
as() { runuser -u "$1" -- "${@:2}"; }
prop() { systemctl show -P "$2" "$1"; }
main_pid() { prop imsakad.service MainPID; }
own_sas() { ip xfrm state | grep -c '^src'; }
own_policies() { ip xfrm policy | grep -c '^src'; }
kernel_clean() { [ "$(own_sas)" = 0 ] && [ "$(own_policies)" = 0 ]; }
line_in() { grep -q "$2" "$1" 2>/dev/null; }
show_kernel() { ip xfrm state; ip xfrm policy; }
# Ends alice's imsaka-register (it keeps waiting for its refresh time after the daemon
# went away: it watches only its own calls).
end_client() {
  [ -n "$client_pid" ] || return 0
  kill -TERM "$client_pid" 2>/dev/null
  wait_until 30 eval '! kill -0 "$client_pid" 2>/dev/null' || kill -KILL "$client_pid" 2>/dev/null
  client_pid=
}

# The network: the UE's address here, the P-CSCF's in the namespace imsaka-pcscf, a veth
# between (the kernel applies no XFRM between two local addresses).
setup_network() {
  ip link set lo up
  ip netns add imsaka-pcscf
  ip link add ue0 type veth peer name pcscf0 netns imsaka-pcscf
  ip addr add "$ue/24" dev ue0
  ip link set ue0 up
  ip -n imsaka-pcscf addr add "$pcscf/24" dev pcscf0
  ip -n imsaka-pcscf link set pcscf0 up
  ip -n imsaka-pcscf link set lo up
  : >"$here/secrets"
  ip netns exec imsaka-pcscf "$here/system_pcscf" "$ue" "$pcscf" "$here/secrets" \
    >"$here/pcscf.log" 2>&1 &
  wait_until 30 line_in "$here/pcscf.log" '^listening' || fail "the test P-CSCF did not start: $(cat "$here/pcscf.log")"
}

setup_users() {
  useradd --no-create-home --groups imsaka alice
  useradd --no-create-home bob
}

# imsaka-register as alice, until it says registered (its output in reg-NAME.log, its
# runuser's pid in client_pid).
client_pid=
register_alice() {
  local log=$here/reg-$1.log
  as alice imsaka-register --pcscf "$pcscf" --local-address "$ue" --transport udp \
    --no-subscribe --timer-f 20 >"$log" 2>&1 &
  client_pid=$!
  if wait_until 60 line_in "$log" '^registered'; then
    pass "alice (group imsaka) registered with imsaka-register ($1)"
  else
    fail "alice's registration ($1): $(cat "$log"); P-CSCF: $(tail -5 "$here/pcscf.log")"
  fi
}

check_installed_state() {
  check "imsakad.service is known to systemd" [ "$(prop imsakad.service LoadState)" = loaded ]
  check "imsakad.service is not enabled by the installation" \
    [ "$(systemctl is-enabled imsakad.service 2>&1)" = disabled ]
  check "imsakad is not running before anyone calls it" \
    [ "$(prop imsakad.service ActiveState)" = inactive ]
  check "pcscd.socket listens, pcscd.service waits for it" \
    [ "$(prop pcscd.socket ActiveState)/$(prop pcscd.service ActiveState)" = active/inactive ]
  check "user imsaka exists (sysusers)" getent passwd imsaka
  imsaka_uid=$(id -u imsaka)
}

check_activation() {
  local version
  version=$(as alice busctl --system get-property org.imsaka /org/imsaka org.imsaka.Manager1 Version 2>&1)
  check "the first call to org.imsaka starts imsakad (D-Bus activation): Version $version" \
    [ "$version" = "s \"$(imsakad --version | cut -d' ' -f2)\"" ]
  check "imsakad.service is active (Type=$(prop imsakad.service Type), READY=1 received)" \
    [ "$(prop imsakad.service ActiveState)/$(prop imsakad.service SubState)/$(prop imsakad.service Type)" = active/running/notify ]
  check "imsakad's status: $(prop imsakad.service StatusText)" \
    grep -q '^Serving org.imsaka' <<<"$(prop imsakad.service StatusText)"
  check "imsakactl --version and imsakad --version agree" \
    [ "$(imsakactl --version | cut -d' ' -f2)" = "$(imsakad --version | cut -d' ' -f2)" ]
}

check_sandbox() {
  local pid status
  pid=$(main_pid)
  status=$(cat "/proc/$pid/status")
  check "imsakad runs as user imsaka" \
    grep -qE "^Uid:\s+$imsaka_uid\s+$imsaka_uid\s+$imsaka_uid\s+$imsaka_uid$" <<<"$status"
  check "imsakad runs as group imsaka" \
    grep -qE "^Gid:\s+$imsaka_uid\s+$imsaka_uid\s+$imsaka_uid\s+$imsaka_uid$" <<<"$status"
  local capability
  for capability in CapInh CapPrm CapEff CapBnd CapAmb; do
    local value
    value=$(sed -n "s/^$capability:\s*//p" <<<"$status")
    if [ "$capability" = CapInh ]; then
      # The inheritable set holds the ambient capability (ambient needs it inheritable).
      check "$capability is $value (CAP_NET_ADMIN or nothing)" grep -qE '^0000000000001000$|^0+$' <<<"$value"
    else
      check "$capability is $value: CAP_NET_ADMIN only ($(capsh --decode="$value" 2>/dev/null))" \
        [ "$value" = 0000000000001000 ]
    fi
  done
  check "NoNewPrivs is set" grep -qE '^NoNewPrivs:\s+1$' <<<"$status"
  check "a seccomp filter is on" grep -qE '^Seccomp:\s+2$' <<<"$status"
  local mounts=/proc/$pid/mountinfo
  check "its / is read-only (ProtectSystem=strict)" \
    awk '$5 == "/" { split($6, o, ","); last = o[1] } END { exit last != "ro" }' "$mounts"
  check "it has a /tmp of its own (PrivateTmp)" awk '$5 == "/tmp" { found = 1 } END { exit !found }' "$mounts"
  check "it has a /dev of its own (PrivateDevices)" awk '$5 == "/dev" {
      for (i = 7; i < NF; i++) if ($i == "-") type = $(i + 1)
    } END { exit type != "tmpfs" }' "$mounts"
  check "/home is out of its reach (ProtectHome)" \
    awk '$5 == "/home" { found = 1 } END { exit !found }' "$mounts"
  check "its /proc shows only its own processes (ProtectProc=invisible)" \
    awk '$5 == "/proc" && $0 ~ /hidepid=invisible/ { found = 1 } END { exit !found }' "$mounts"
  echo "--- systemd-analyze security imsakad.service (running system)"
  systemd-analyze security --no-pager imsakad.service | tee "$here/security.txt" | grep -E '✗|Overall'
  local exposure
  exposure=$(sed -n 's/.*Overall exposure level for imsakad.service: \([0-9.]*\).*/\1/p' "$here/security.txt")
  check "running-system exposure $exposure is at most 1.5" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 1.5) }'
  # What stays open is what the daemon needs (systemd/README.md says why); anything else fails.
  local open
  open=$(sed -n 's/^✗ \([^ ]*\) .*/\1/p' "$here/security.txt" | grep -vxE \
    'RootDirectory=/RootImage=|AmbientCapabilities=|RestrictAddressFamilies=~AF_(NETLINK|UNIX|\(INET\|INET6\))|CapabilityBoundingSet=~CAP_NET_ADMIN|PrivateNetwork=|PrivateUsers=|DeviceAllow=|IPAddressDeny=')
  check "nothing open beyond what systemd/README.md explains${open:+: $open}" [ -z "$open" ]
}

# pcscd comes up through its socket when imsakad connects; then the virtual card goes in.
check_card() {
  check "pcscd.service was started by pcscd.socket ($(prop pcscd.service TriggeredBy))" \
    wait_until 30 eval '[ "$(prop pcscd.service ActiveState)" = active ]'
  imsaka-vicc --profile "$here/default.ini" >"$here/vicc.log" 2>&1 &
  if wait_until 60 eval 'as alice imsakactl cards 2>/dev/null | grep -q " ready "'; then
    pass "imsakad sees the card through pcscd: $(as alice imsakactl cards | grep ' ready ')"
  else
    fail "no ready card: $(as alice imsakactl cards 2>&1); vicc: $(cat "$here/vicc.log")"
  fi
}

check_registration_and_access() {
  as alice dbus-monitor --system "type='signal',sender='org.imsaka'" >"$here/alice.signals" 2>&1 &
  as bob dbus-monitor --system "type='signal',sender='org.imsaka'" >"$here/bob.signals" 2>&1 &
  sleep 1
  register_alice first
  # Four policies for the four SAs, and four guards that drop cleartext to the protected ports.
  check "imsakad installed a real SA set: $(own_sas) SAs and $(own_policies) policies" \
    [ "$(own_sas)/$(own_policies)" = 4/8 ]
  local port_uc port_us
  port_uc=$(sed -n 's/^registered.* port-uc=\([0-9]*\).*/\1/p' "$here/reg-first.log")
  port_us=$(sed -n 's/^registered.* port-us=\([0-9]*\).*/\1/p' "$here/reg-first.log")
  check "imsakad holds the protected ports $port_uc and $port_us" \
    eval 'ss -Huanp | grep imsakad | grep -q "$ue:$port_uc " && ss -Huanp | grep imsakad | grep -q "$ue:$port_us "'
  check "the ESP SAs carried the registration (kernel counters)" \
    eval 'ip -s xfrm state | grep -qE "[1-9][0-9]*\(bytes\), [1-9][0-9]*\(packets\)"'
  check "alice received the daemon's signals" line_in "$here/alice.signals" 'path=/org/imsaka'
  check "bob (not in group imsaka) received no signal of org.imsaka" \
    eval '! grep -q "path=/org/imsaka" "$here/bob.signals"'
  local refused
  refused=$(as bob busctl --system call org.imsaka /org/imsaka org.imsaka.Manager1 CreateRegistration 'a{sv}' 0 2>&1)
  check "bob may not create a registration: $refused" grep -qi 'access denied\|AccessDenied' <<<"$refused"
  as bob imsakactl cards >/dev/null 2>&1
  check "imsakactl as bob exits 5 (not allowed)" [ $? = 5 ]
  refused=$(as alice busctl --system call org.imsaka /org/imsaka/card/0 org.imsaka.Card1 Authenticate ayay 16 $(printf '1 %.0s' {1..16}) 16 $(printf '2 %.0s' {1..16}) 2>&1)
  check "alice may not call the raw Card1.Authenticate: $refused" grep -q 'not allowed' <<<"$refused"
  refused=$(as alice busctl --system call org.imsaka /org/imsaka/registration/0 org.imsaka.Registration1 Deregister 2>&1)
  check "another client of alice's may not touch her registration: $refused" \
    grep -q 'belongs to another client' <<<"$refused"
}

check_stop_restart_crash() {
  local before after
  systemctl stop imsakad.service
  check "systemctl stop leaves none of our SAs or policies" kernel_clean || show_kernel
  end_client
  systemctl start imsakad.service
  register_alice restart
  check "registered again: 4 SAs" [ "$(own_sas)" = 4 ]
  before=$(main_pid)
  systemctl restart imsakad.service
  after=$(main_pid)
  check "systemctl restart: a new process ($before -> $after) and no SA or policy left" \
    eval '[ "$before" != "$after" ] && kernel_clean'
  end_client
  register_alice crash
  check "registered again: 4 SAs" [ "$(own_sas)" = 4 ]
  before=$(main_pid)
  kill -KILL "$before"
  if wait_until 60 eval '[ "$(main_pid)" != 0 ] && [ "$(main_pid)" != "$before" ] && [ "$(prop imsakad.service ActiveState)" = active ]'; then
    pass "after kill -9 systemd restarted imsakad (Restart=$(prop imsakad.service Restart), NRestarts=$(prop imsakad.service NRestarts))"
  else
    fail "imsakad was not restarted after kill -9: $(systemctl status imsakad.service 2>&1 | head -5)"
  fi
  check "the new process removed what the killed one left" kernel_clean || show_kernel
  check "the journal says what it removed" \
    eval 'journalctl -u imsakad.service -o cat | grep -qE "removed [1-9][0-9]* SAs and [1-9][0-9]* policies left by an earlier run"'
  end_client
}

check_journal() {
  journalctl -u imsakad.service -o json --output-fields=PRIORITY,MESSAGE >"$here/imsakad.journal"
  check "journal: 'serving org.imsaka' at priority 6 (info)" \
    grep -q '"PRIORITY":"6".*"MESSAGE":"serving org.imsaka\|"MESSAGE":"serving org.imsaka.*"PRIORITY":"6"' "$here/imsakad.journal"
  check "journal: the refused Authenticate at priority 5 (notice)" \
    grep -q '"PRIORITY":"5".*Authenticate refused\|Authenticate refused.*"PRIORITY":"5"' "$here/imsakad.journal"
  check "journal: no line kept its <N> prefix" eval '! grep -q "\"MESSAGE\":\"<[0-7]>" "$here/imsakad.journal"'
  # A bad configuration is an error (3), from the same program under the same kind of unit.
  systemd-run --wait --quiet --unit=imsakad-bad-config -p User=imsaka /usr/sbin/imsakad \
    --config /nonexistent/imsakad.conf >/dev/null 2>&1
  check "journal: a bad configuration at priority 3 (err)" \
    eval 'journalctl -u imsakad-bad-config -o json --output-fields=PRIORITY,MESSAGE | grep "configuration:" | grep -q "\"PRIORITY\":\"3\""'
  local secret leaked=
  check "the test network issued challenges whose secrets can be looked for" [ -s "$here/secrets" ]
  while read -r secret; do
    [ -n "$secret" ] || continue
    journalctl -b -o cat | grep -qi "$secret" && leaked="$leaked $secret"
  done < <(cat "$here/secrets"; sed -n 's/^\(k\|opc\)\s*=\s*//Ip' "$here/default.ini")
  check "no secret (K, OPc, RES, CK, IK of $(($(wc -l <"$here/secrets") / 3)) challenges) in the journal" [ -z "$leaked" ]
}

run_service_checks() {
  check_installed_state
  setup_network
  setup_users
  check_activation
  check_sandbox
  check_card
  check_registration_and_access
  check_stop_restart_crash
  check_journal
}
