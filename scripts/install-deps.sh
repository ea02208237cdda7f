#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing need.
# Idempotent: when everything is present it touches nothing (and needs no network).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang libclang-rt-14-dev git
  # libraries
  libssl-dev libpcsclite-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  nlohmann-json3-dev libinih-dev libpugixml-dev libsdbus-c++-dev libsdbus-c++-bin
  libsystemd-dev libnl-3-dev libnl-xfrm-3-dev libnl-route-3-dev libosip2-dev libini-config-dev
  # DNS for P-CSCF names (NAPTR, SRV, A, AAAA), asynchronous in the daemon's loop
  libc-ares-dev
  # real components the tests and the main job start
  pcscd vsmartcard-vpcd dbus iproute2 procps user-mode-linux kamailio kamailio-ims-modules tshark
  # the DNS server of the resolver tests (the binary only: no service of the host)
  dnsmasq-base
  # modprobe, which loads the ESP and crypto modules inside user-mode Linux
  kmod
  # manual pages (scdoc makes them, man renders them), Debian packages and their check, and
  # the root file system of the systemd guest (tests/system/guest-root.sh)
  scdoc man-db dpkg-dev lintian mmdebstrap e2fsprogs
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
