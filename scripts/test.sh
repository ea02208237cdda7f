#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: unit, integration
# (pcscd + vpcd + imsaka-vicc in private namespaces), kernel (user-mode Linux) and
# bounded fuzzing, under AddressSanitizer and UBSan. Needs root (namespaces, pcscd).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The release tree proves the gcc build is warning-free; its unit tests are cheap.
scripts/build.sh release
ctest --test-dir build/release -L unit --output-on-failure -j "$(nproc)"
scripts/build.sh asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" --timeout 600
