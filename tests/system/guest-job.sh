#!/bin/bash
# Runs inside the systemd guest of tests/system (as imsaka-guest-job.service, once the
# system is up): mounts the host folder that the kernel command line names as
# imsaka.work=PATH (user-mode Linux hostfs), runs its script `job` as root, leaves `output`,
# `result` and the boot's journal there, and powers the guest off.
work=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^imsaka\.work=//p')
mkdir -p /run/host-work
if [ -z "$work" ] || ! mount -t hostfs -o "$work" hostfs /run/host-work; then
  echo "imsaka-guest-job: cannot mount the host folder '$work'" >&2
  systemctl poweroff --no-block
  exit 1
fi
cd /run/host-work
bash ./job >output 2>&1 </dev/null
echo $? >result.tmp
journalctl -b --no-pager -o short-monotonic >journal.txt 2>&1
mv result.tmp result
sync
systemctl poweroff --no-block
