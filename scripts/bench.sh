#!/usr/bin/env bash
# Builds the release tree and runs the benchmarks, printing their figures. Benchmarks
# measure; they do not pass or fail on speed. Needs root (private pcscd).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
bench=build/release/tests/bench

echo "== card: authentications through cardio vs bare SCardTransmit (virtual card via pcscd)"
tests/integration/pcsc-sandbox.sh "$bench/cardio/card_bench" "${CARD_BENCH_ROUNDS:-400}"

echo
echo "== sip: parse a 401 and build the answer (Google Benchmark)"
"$bench/sip/sip_bench" --benchmark_min_time=0.2

echo
echo "== REGISTER sizes with IPv6 identities of realistic length, and on the wire"
"$bench/engine/register_sizes"

echo
echo "== virtual card and Milenage, per operation (Google Benchmark)"
"$bench/vicc/vicc_bench" --benchmark_min_time=0.2

echo
echo "== ipsec: SA sets through the library vs ip -batch, in user-mode Linux"
scripts/bench-ipsec.sh

echo
echo "== imsakad: start-to-ready without a card, idle memory, the card's AUTHENTICATE (host kernel)"
tests/integration/pcsc-sandbox.sh "$bench/daemon/daemon_bench" host "${DAEMON_BENCH_ROUNDS:-200}"

echo
echo "== imsakad: challenge round trip over D-Bus with real SAs (user-mode Linux)"
tests/kernel/uml-run.sh --mem 512M --timeout 900 -- tests/integration/pcsc-sandbox.sh \
  "$PWD/$bench/daemon/daemon_bench" uml "${DAEMON_BENCH_ROUNDS:-200}"

echo
echo "== imsakad: HandleNotify with hostile reg-event bodies, 40 calls of each (user-mode Linux)"
tests/kernel/uml-run.sh --mem 512M --timeout 900 -- tests/integration/pcsc-sandbox.sh \
  "$PWD/$bench/daemon/daemon_bench" notify "${NOTIFY_BENCH_CALLS:-40}"

echo
echo "== end to end: REGISTER to 200 OK through Kamailio, and register/deregister cycles (user-mode Linux)"
tests/kernel/uml-run.sh --mem 640M --timeout 900 -- tests/integration/pcsc-sandbox.sh \
  "$PWD/$bench/e2e/e2e_bench" "${E2E_BENCH_CYCLES:-30}"
