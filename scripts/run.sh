#!/usr/bin/env bash
# The main job: installs what is needed, builds the programs, and registers to IMS through a
# real P-CSCF inside user-mode Linux: Kamailio 5.6 (ims_ipsec_pcscf) with the S-CSCF
# simulator behind it, the virtual card behind a private pcscd, imsakad on a private system
# bus, and the reference SIP application imsaka-register. It prints the registration and
# its SA set with the kernel's ESP counters, deregisters, and shows that nothing is left.
# Needs root; touches no pcscd, bus or XFRM state of the host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== building imsakad, imsakactl, imsaka-register, the virtual card and the test network"
scripts/build.sh release imsaka-e2e-demo imsakad imsakactl imsaka-register imsaka-scscf-sim \
  imsaka-vicc >/dev/null
tests/kernel/uml-run.sh --mem 640M --timeout 170 -- tests/integration/pcsc-sandbox.sh \
  "$PWD/build/release/tests/e2e/demo/imsaka-e2e-demo"
