#!/bin/bash
# PID 1 of the user-mode Linux guest that uml-run.sh boots: prepares the guest, runs each
# command of $IMSAKA_UML_WORK/commands and leaves output.N and result.N beside it.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
work=$IMSAKA_UML_WORK

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Debian's /var/run points to /run; both get a fresh tmpfs so no host socket is reachable.
mount -t tmpfs -o mode=0755 run /run
# The host's /tmp is hidden behind a fresh tmpfs, except the folders uml-run.sh lists in
# $work/keep (a checkout under /tmp, say): those are bound back at the same paths.
mkdir /run/host-tmp
mount --bind /tmp /run/host-tmp
mount -t tmpfs -o mode=1777 tmp /tmp
sort -u "$work/keep" | while IFS= read -r keep; do
  case "$keep" in /tmp/?*) ;; *) continue ;; esac
  mkdir -p "$keep" && mount --bind "/run/host-tmp/${keep#/tmp/}" "$keep"
done
mount -t devpts -o newinstance devpts /dev/pts 2>/dev/null

# modprobe looks under /lib/modules/$(uname -r), which the host lacks: point it at the
# guest kernel's modules so that ESP and crypto modules load on demand.
release=$(uname -r)
mkdir -p /run/uml-modules/lib/modules /run/uml-modules/bin
ln -s "/usr/lib/uml/modules/$release" "/run/uml-modules/lib/modules/$release"
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/uml-modules "$@"\n' > /run/uml-modules/bin/modprobe
chmod +x /run/uml-modules/bin/modprobe
echo /run/uml-modules/bin/modprobe > /proc/sys/kernel/modprobe
# IPv6 is a module here, and address configuration does not load it on demand.
/run/uml-modules/bin/modprobe -q ipv6
ip link set lo up

index=0
while IFS= read -r command; do
  index=$((index + 1))
  (
    # shellcheck disable=SC1091
    . "$work/environment"
    export PATH=/run/uml-modules/bin:$PATH:/usr/sbin:/sbin
    eval "$command"
  ) > "$work/output.$index" 2>&1 < /dev/null
  echo $? > "$work/result.$index"
done < "$work/commands"
sync
poweroff -f
