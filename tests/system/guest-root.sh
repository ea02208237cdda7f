#!/usr/bin/env bash
# guest-root.sh [--print]
# Makes (once) the root file system of the systemd guest that tests/system/system-run.sh
# boots in user-mode Linux: a minimal Debian 12 with systemd, D-Bus, pcscd (socket activated,
# with the vpcd reader driver), iproute2 and the run-time libraries of imsakad and its tools,
# so that the guest, which has no network, can install the project with `cmake --install` or
# `apt-get install ./imsakad_*.deb`. The image (ext4) is cached under
# ${IMSAKA_GUEST_CACHE:-/var/cache/imsaka/guest-root}, named after a hash of this script and
# of the user-mode Linux kernel it carries modules for: it is rebuilt only when either
# changes, older images are removed. Guests boot it through a copy-on-write file and never
# write to it. Prints the image's path.
#
# Packages come from the host's own apt sources (mmdebstrap, Debian package registry).
set -euo pipefail

# What the guest needs besides Debian's essential set and apt; keep sorted.
packages=(
  dbus              # the system bus, with its activation helper
  iproute2          # ip xfrm / ip netns: the checks and the test P-CSCF
  kmod              # modprobe: ESP and crypto modules on demand
  libcap2-bin       # capsh: decoding the daemon's capability sets in failure messages
  libc-ares2 libini-config5 libinih1 libnl-3-200 libnl-route-3-200 libnl-xfrm-3-200 libosip2-15 libpcsclite1
  libpugixml1v5
  libsdbus-c++1 libssl3
  mawk passwd        # awk, useradd: the checks
  pcscd             # with pcscd.socket: socket activation
  procps            # pgrep/ps in the checks
  systemd systemd-sysv
  vsmartcard-vpcd   # the virtual reader imsaka-vicc connects to
)

fail() { echo "guest-root: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
cache=${IMSAKA_GUEST_CACHE:-/var/cache/imsaka/guest-root}
modules=$(compgen -G "/usr/lib/uml/modules/*" | head -n1) ||
  fail "/usr/lib/uml/modules is empty: install user-mode-linux (scripts/install-deps.sh)"
release=$(basename "$modules")
key=$( { cat "$here/guest-root.sh" "$here/guest-job.sh"; echo "$release"; } | sha256sum | cut -c1-16)
image=$cache/root-$key.ext4

if [ -f "$image" ]; then
  echo "$image"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "building the guest root needs root"
for tool in mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ -f "$image" ]; then  # another run built it meanwhile
  echo "$image"
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$file" ] && sources+=("$file")
done
[ ${#sources[@]} -gt 0 ] || fail "the host has no apt sources"
include=$(IFS=,; echo "${packages[*]}")

echo "guest-root: building $image (a few minutes, once)" >&2
started=$SECONDS
mmdebstrap --quiet --mode=root --variant=apt --include="$include" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
  bookworm "$work/root" "${sources[@]}" </dev/null >&2

root=$work/root
# The exclusions kept the image small; the packages under test must install whole.
rm -f "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
! grep -rqs path-exclude "$root/etc/dpkg/dpkg.cfg.d" || fail "dpkg in the guest still excludes paths"
# The guest kernel's modules where modprobe looks for them.
mkdir -p "$root/lib/modules"
cp -a "$modules" "$root/lib/modules/$release"
depmod -b "$root" "$release"
echo imsaka-guest > "$root/etc/hostname"
: > "$root/etc/machine-id"  # a new one at each boot
# Nothing on the console but systemd's own messages; no timers that wake up during a test.
for unit in getty.target console-getty.service serial-getty@.service apt-daily.timer \
  apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
  systemd-networkd.service systemd-timesyncd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# The job runner: mounts the host folder named on the kernel command line and runs its job.
install -m 0755 "$here/guest-job.sh" "$root/usr/local/sbin/imsaka-guest-job"
cat > "$root/etc/systemd/system/imsaka-guest-job.service" <<'UNIT'
[Unit]
Description=Test job from the host (user-mode Linux)
After=basic.target dbus.socket pcscd.socket systemd-sysusers.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/imsaka-guest-job
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/imsaka-guest-job.service \
  "$root/etc/systemd/system/multi-user.target.wants/imsaka-guest-job.service"

size=$(( $(du -sm "$root" | cut -f1) + 512 ))
mkfs.ext4 -q -L imsaka-guest -d "$root" "$work/root.ext4" "${size}M"
mv "$work/root.ext4" "$image"
find "$cache" -maxdepth 1 -name 'root-*.ext4' ! -path "$image" -delete
echo "guest-root: built in $((SECONDS - started)) s" >&2
echo "$image"
