#!/usr/bin/env bash
# What the trust boundary costs: bench/run.sh with the audit trail and an allow list on
# (bench/bench.yaml, the production setting) against both off (bench/bench-trust-off.yaml), in
# the same run, in alternating rounds (the machine's speed drifts; medians are reported).
# Prints each round's accepted/s and p99 at the fixed rate for both, and the median ratio
# on/off of accepted/s (the target: a cost under 10 %, a ratio above 0.90) with the median
# p99 at 1,000/s (the target: at most 10 ms with the trust boundary on).
#
#   bench/trust-overhead.sh
# Environment: OW_BENCH_ROUNDS (3), and bench/run.sh's (OW_BENCH_EVENTS 50000 here).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${OW_BENCH_ROUNDS:-3}
export OW_BENCH_EVENTS=${OW_BENCH_EVENTS:-50000}
if [[ ${OW_BENCH_SKIP_BUILD:-0} != 1 ]]; then
    BUILD_DIR=${OW_BENCH_BUILD_DIR:-build-release}
    log "building Release in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target onewindow ow-receiver ow-loadgen
fi
export OW_BENCH_SKIP_BUILD=1

RESULTS=$WORK/results.txt
for ((round = 1; round <= ROUNDS; round++)); do
    for variant in off on; do
        config=bench/bench.yaml
        [[ $variant == off ]] && config=bench/bench-trust-off.yaml
        log "round $round: trust boundary $variant"
        OW_BENCH_CONFIG=$config bench/run.sh >"$WORK/$variant-$round.txt" 2>"$WORK/$variant-$round.err" \
            || die "bench/run.sh failed: $(tail -5 "$WORK/$variant-$round.err")"
        tail -1 "$WORK/$variant-$round.txt" >"$WORK/$variant-$round.json"
        echo "$round $variant $(json_num "$WORK/$variant-$round.json" accepted_per_s)" \
            "$(json_num "$WORK/$variant-$round.json" p99_ms_at_rate)" >>"$RESULTS"
    done
done

printf '\nThe trust boundary (audit trail + allow list) on against off, %d rounds, %d events each\n\n' \
    "$ROUNDS" "$OW_BENCH_EVENTS"
printf '%-6s %14s %14s %8s %14s %14s\n' round "off acc/s" "on acc/s" "on/off" "off p99 ms" "on p99 ms"
for ((round = 1; round <= ROUNDS; round++)); do
    off=$(awk -v r="$round" '$1 == r && $2 == "off"' "$RESULTS")
    on=$(awk -v r="$round" '$1 == r && $2 == "on"' "$RESULTS")
    offRate=$(echo "$off" | cut -d' ' -f3) onRate=$(echo "$on" | cut -d' ' -f3)
    printf '%-6s %14s %14s %8s %14s %14s\n' "$round" "$offRate" "$onRate" \
        "$(calc "$onRate / $offRate" 3)" "$(echo "$off" | cut -d' ' -f4)" "$(echo "$on" | cut -d' ' -f4)"
done
RATIO=$(for ((round = 1; round <= ROUNDS; round++)); do
    off=$(awk -v r="$round" '$1 == r && $2 == "off" { print $3 }' "$RESULTS")
    on=$(awk -v r="$round" '$1 == r && $2 == "on" { print $3 }' "$RESULTS")
    calc "$on / $off" 3; echo
done | median)
P99_ON=$(awk '$2 == "on" { print $4 }' "$RESULTS" | median)
printf '\nmedian accepted/s on/off: %s (target >= 0.90)   median p99 at the fixed rate, on: %s ms (target <= 10)\n' \
    "$RATIO" "$P99_ON"
