#!/usr/bin/env bash
# daemon-demo.sh BUILD_DIR: the daemon half of the main job, run inside
# tests/support/daemon-sandbox.sh (a private system bus, the virtual card and imsakad).
# Shows what imsakad publishes on D-Bus, through imsakactl.
set -euo pipefail
ctl="$1/tools/ctl/imsakactl"

# The daemon publishes the card once it has read it.
for _ in $(seq 50); do
  "$ctl" --json card 0 2>/dev/null | grep -q '"state": *"ready"' && break
  sleep 0.1
done
echo "== imsakactl cards"
"$ctl" cards
echo
echo "== imsakactl card 0"
"$ctl" card 0
echo
echo "== imsakactl registrations"
"$ctl" registrations
