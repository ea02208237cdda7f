#!/usr/bin/env bash
# bench-ipsec.sh [SETS_PER_ROUND] [ROUNDS]
# Builds the release tree and runs the SA-set benchmark inside user-mode Linux (a kernel with
# ESP): the library against `ip -batch` doing the same SAs and policies, in one run, plus
# the latency of one set install. Prints figures; asserts nothing about speed. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
exec tests/kernel/uml-run.sh --mem 512M --timeout 600 -- \
  "$PWD/build/release/tests/bench/ipsec/ipsec_bench" "$@"
