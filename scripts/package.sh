#!/usr/bin/env bash
# Builds the release tree and makes the Debian packages from it:
# build/release/packages/imsakad_<version>_<arch>.deb (the service and its tools) and
# imsaka-lab_<version>_<arch>.deb (the virtual card imsaka-vicc and imsaka-av, for labs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
tests/system/package-build.sh "$PWD/build/release"
