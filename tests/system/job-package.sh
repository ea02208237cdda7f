#!/bin/bash
# Guest job (system-run.sh): installs the packages with apt-get (the guest has no network:
# every dependency is already in its root), runs the service checks of checks.sh on them,
# enables the service as an administrator would, then purges both packages and checks that
# nothing of theirs is left.
set -u
. ./checks.sh

export DEBIAN_FRONTEND=noninteractive
if apt-get install -y -q "$PWD"/imsakad_*.deb "$PWD"/imsaka-lab_*.deb >apt-install.log 2>&1; then
  pass "apt-get install ./imsakad_*.deb ./imsaka-lab_*.deb"
else
  fail "apt-get install: $(cat apt-install.log)"
  exit 1
fi
dpkg -L imsakad imsaka-lab | sort -u >installed-paths
check "the packages put nothing under /etc" eval '! grep -q "^/etc" installed-paths'
check "the man pages are installed" test -f /usr/share/man/man8/imsakad.8.gz -a -f /usr/share/man/man5/imsakad.conf.5.gz

run_service_checks

systemctl enable imsakad.service 2>/dev/null
check "the administrator can enable it" [ "$(systemctl is-enabled imsakad.service)" = enabled ]
if apt-get purge -y -q imsakad imsaka-lab >apt-purge.log 2>&1; then
  pass "apt-get purge imsakad imsaka-lab"
else
  fail "apt-get purge: $(cat apt-purge.log)"
fi
left=
while read -r path; do
  # Folders the packages share with others (/usr/bin, ...) stay; their own files must not.
  if [ -e "$path" ] && ! [ -d "$path" ]; then left="$left $path"; fi
  case "$path" in
    /usr/share/doc/imsakad|/usr/share/doc/imsaka-lab|/usr/share/imsaka|/usr/share/imsaka/*)
      [ -e "$path" ] && left="$left $path" ;;
  esac
done <installed-paths
check "no file of the packages is left${left:+:$left}" [ -z "$left" ]
check "dpkg has forgotten both packages" eval '! dpkg -s imsakad imsaka-lab >/dev/null 2>&1'
check "systemd has forgotten the unit" eval '[ "$(prop imsakad.service LoadState)" = not-found ]'
check "no enable link is left under /etc" eval '! find /etc/systemd -name "imsakad*" | grep -q .'
check "nothing of ours under /etc" \
  eval '! find /etc -name "*imsaka*" ! -name "imsaka-guest-job.service" | grep -q .'
check "the bus no longer offers org.imsaka" eval '! busctl --system list --activatable --no-legend | grep -q "^org.imsaka "'
check "no process of user imsaka" eval '! pgrep -u imsaka >/dev/null'
check "no SA or policy left" kernel_clean
check "the system user imsaka stays (Debian keeps system users)" getent passwd imsaka
echo "system checks (package): $failures failed"
[ "$failures" = 0 ]
