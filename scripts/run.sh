#!/usr/bin/env bash
# The main job: installs what is needed, builds, and shows the card part at work on the
# bundled virtual card, then imsakad publishing that card on a private system bus, beside a
# private pcscd that leaves any pcscd, reader or bus of the host alone. Needs root
# (namespaces, pcscd).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
tests/integration/pcsc-sandbox.sh scripts/card-demo.sh "$PWD/build/release"
echo
echo "== imsakad on a private system bus, with the same virtual card"
tests/support/daemon-sandbox.sh scripts/daemon-demo.sh "$PWD/build/release"
