#!/usr/bin/env bash
# build.sh release|asan [TARGET...]: configures and builds one tree under build/ (only the
# targets named, with what they need, when any are).
#   release  gcc, optimised, warnings as errors: the main job, the benchmarks and the
#            packages (installs under /usr, as Debian does)
#   asan     clang, AddressSanitizer + UBSan, libFuzzer targets: the test suite
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
targets=()
[ $# -gt 0 ] && targets=(--target "$@")
jobs=$(nproc)
case "$kind" in
  release)
    cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
      -DCMAKE_CXX_COMPILER=g++ -DCMAKE_INSTALL_PREFIX=/usr >/dev/null ;;
  asan)
    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DIMSAKA_SANITIZE=ON -DIMSAKA_FUZZ=ON -DIMSAKA_BENCH=OFF >/dev/null ;;
  *) echo "usage: build.sh release|asan" >&2; exit 2 ;;
esac
cmake --build "build/$kind" -j "$jobs" "${targets[@]}"
