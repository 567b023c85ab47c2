#!/usr/bin/env bash
# What the plugin boundary costs: the same HTTP -> journal -> HTTP route measured without and
# with one no-op processor plugin (bench/plugins/NoopPlugin.cpp) on it, in the same run, in
# alternating rounds (the machine's speed drifts; medians are reported).
#
# Per round and variant, a fresh hub and receiver:
#   (a) saturation: OW_BENCH_EVENTS events at concurrency 32; accepted/s and delivered/s.
#   (b) a fixed OW_BENCH_RATE events/s (10,000) for OW_BENCH_RATE_SECONDS: the hub's CPU time
#       per 1,000 events (from /proc, from the first request until every event is delivered
#       and, with the processor, processed), the events/s through the route over that same
#       span, the rate accepted, and accept p99.
# The processor's cost is the ratio of the two variants' figures. The issue's target is on
# events/s through the route at 10,000/s (a cost under 10 %: a ratio above 0.90); CPU per
# event is printed beside it, as the stricter figure.
#
#   bench/processor-overhead.sh
# Environment: OW_BENCH_EVENTS (50000), OW_BENCH_RATE (10000), OW_BENCH_RATE_SECONDS (5),
# OW_BENCH_ROUNDS (5), OW_BENCH_BUILD_DIR (build-release), OW_BENCH_SKIP_BUILD=1, OW_KEEP_TMP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${OW_BENCH_EVENTS:-50000}
RATE=${OW_BENCH_RATE:-10000}
RATE_SECONDS=${OW_BENCH_RATE_SECONDS:-5}
ROUNDS=${OW_BENCH_ROUNDS:-5}
BUILD_DIR=${OW_BENCH_BUILD_DIR:-build-release}
HUB_BIN=$BUILD_DIR/core/onewindow
RECEIVER_BIN=$BUILD_DIR/tools/ow-receiver
LOADGEN_BIN=$BUILD_DIR/tools/ow-loadgen
NOOP_SO=$BUILD_DIR/bench/plugins/lib/ow_bench_noop.so

# shellcheck source=bench/lib.sh
source bench/lib.sh

if [[ ${OW_BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building Release in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target onewindow ow-receiver ow-loadgen ow_bench_noop
fi
for f in "$HUB_BIN" "$RECEIVER_BIN" "$LOADGEN_BIN" "$NOOP_SO"; do
    [[ -e $f ]] || die "missing $f"
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# The plugin folder as an operator keeps it: not world-writable.
mkdir -p "$WORK/plugins"
cp "$NOOP_SO" "$WORK/plugins/"
chmod 0755 "$WORK/plugins"
chmod 0644 "$WORK/plugins/ow_bench_noop.so"

write_config() { # VARIANT FILE
    {
        cat <<YAML
hub:
  log_level: warn
  journal: { synchronous: full }
  plugin_dirs: [ "$WORK/plugins" ]
inputs:
  - { name: events, path: /v1/events }
outputs:
  - { name: rx, url: "\${OW_BENCH_RECEIVER_URL}", concurrency: 8 }
YAML
        if [[ $1 == processor ]]; then
            cat <<YAML
  - { name: noop, processor: bench-noop/noop }
plugins:
  - { name: bench-noop, file: ow_bench_noop.so }
routes:
  - { name: everything, to: [ noop, rx ] }
YAML
        else
            printf 'routes:\n  - { name: everything, to: [ rx ] }\n'
        fi
    } >"$2"
}
write_config base "$WORK/base.yaml"
write_config processor "$WORK/processor.yaml"

# Every event delivered to the receiver and (with the processor) none left to process.
all_done() {
    (($(lines_in "$WORK/delivered.txt") >= $1)) || return 1
    [[ $VARIANT == base ]] && return 0
    [[ $(metric 'onewindow_outbox_depth{output="noop"}') == 0 ]]
}

run_variant() { # VARIANT ROUND
    VARIANT=$1
    local round=$2 tag="$1-$2"
    rm -f "$WORK/delivered.txt" "$WORK/rx.port"
    "$RECEIVER_BIN" --port 0 --port-file "$WORK/rx.port" --quiet --record "$WORK/delivered.txt" \
        >"$WORK/rx-$tag.out" 2>&1 &
    local rx_pid=$!
    STARTED_PIDS+=("$rx_pid")
    wait_for 10 file_nonempty "$WORK/rx.port" || die "receiver did not start"
    export OW_BENCH_RECEIVER_URL="http://127.0.0.1:$(<"$WORK/rx.port")/events"
    free_port
    HUB_PORT=$FREE_PORT
    "$HUB_BIN" run -c "$WORK/$VARIANT.yaml" --data-dir "$WORK/data-$tag" \
        --listen "127.0.0.1:$HUB_PORT" >"$WORK/hub-$tag.log" 2>&1 &
    HUB_PID=$!
    STARTED_PIDS+=("$HUB_PID")
    wait_for 30 hub_ready || die "hub not ready"
    local url="http://127.0.0.1:$HUB_PORT/v1/events"

    # (a) saturation
    local t0 t1
    t0=$(now_ns)
    "$LOADGEN_BIN" --url "$url" --events "$EVENTS" --concurrency 32 --id-prefix "a-$tag" \
        --subjects 100 >"$WORK/a-$tag.json"
    local acked_a
    acked_a=$(json_num "$WORK/a-$tag.json" acked_2xx)
    wait_for 600 all_done "$acked_a" || die "$VARIANT: not everything delivered"
    t1=$(now_ns)
    ACCEPTED[$VARIANT]+="$(calc "$(json_num "$WORK/a-$tag.json" rate_per_s)" 0) "
    DELIVERED[$VARIANT]+="$(calc "$acked_a / (($t1 - $t0) / 1e9)" 0) "

    # (b) fixed rate: CPU per event, from the first request until everything is done
    local before after n=$((RATE * RATE_SECONDS)) tb0 tb1
    before=$(cpu_ticks "$HUB_PID")
    tb0=$(now_ns)
    "$LOADGEN_BIN" --url "$url" --events "$n" --concurrency 64 --rate "$RATE" \
        --id-prefix "b-$tag" --subjects 100 >"$WORK/b-$tag.json"
    wait_for 600 all_done "$((acked_a + $(json_num "$WORK/b-$tag.json" acked_2xx)))" \
        || die "$VARIANT: not everything delivered at the fixed rate"
    tb1=$(now_ns)
    after=$(cpu_ticks "$HUB_PID")
    # Through the route: from the first request until the last event is delivered (and, with
    # the processor, processed). A hub that falls behind the offered rate shows it here even
    # when it still answers every request in time.
    THROUGH[$VARIANT]+="$(calc "$(json_num "$WORK/b-$tag.json" acked_2xx) / (($tb1 - $tb0) / 1e9)" 0) "
    CPU[$VARIANT]+="$(calc "($after - $before) * 1000 / $TICK / ($n / 1000)" 2) "
    REACHED[$VARIANT]+="$(calc "$(json_num "$WORK/b-$tag.json" rate_per_s)" 0) "
    P99[$VARIANT]+="$(json_num "$WORK/b-$tag.json" p99_ms) "
    log "round $round $VARIANT: accepted/s $(awk '{ print $NF }' <<<"${ACCEPTED[$VARIANT]}")," \
        "CPU ms per 1000 events $(awk '{ print $NF }' <<<"${CPU[$VARIANT]}")"
    stop_pid "$HUB_PID"
    forget_pid "$HUB_PID"
    stop_pid "$rx_pid"
    forget_pid "$rx_pid"
}

declare -A ACCEPTED DELIVERED CPU REACHED THROUGH P99
# Per round, the processor's figure over the route's, measured back to back: on a shared
# machine whose speed drifts over minutes, the median of these paired ratios is steadier than
# the ratio of two medians taken across the whole run.
PAIRED_CPU="" PAIRED_REACHED="" PAIRED_THROUGH="" PAIRED_ACCEPTED="" LOADS=""
last() { awk '{ print $NF }' <<<"$1"; }
for ((r = 1; r <= ROUNDS; r++)); do
    # Alternate which variant goes first, so a drift in machine speed hits both alike.
    if ((r % 2)); then order=(base processor); else order=(processor base); fi
    LOADS+="$(cut -d' ' -f1 /proc/loadavg) "
    for v in "${order[@]}"; do run_variant "$v" "$r"; done
    PAIRED_CPU+="$(calc "$(last "${CPU[processor]}") / $(last "${CPU[base]}")" 3) "
    PAIRED_REACHED+="$(calc "$(last "${REACHED[processor]}") / $(last "${REACHED[base]}")" 3) "
    PAIRED_THROUGH+="$(calc "$(last "${THROUGH[processor]}") / $(last "${THROUGH[base]}")" 3) "
    PAIRED_ACCEPTED+="$(calc "$(last "${ACCEPTED[processor]}") / $(last "${ACCEPTED[base]}")" 3) "
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
printf '\nProcessor boundary cost: %d rounds, %d events at c=32, then %d events/s for %d s, %s CPUs\n\n' \
    "$ROUNDS" "$EVENTS" "$RATE" "$RATE_SECONDS" "$(nproc)"
printf '%-40s %14s %14s %10s\n' "median of rounds" "route" "+ no-op proc." "ratio"
row() { # LABEL ARRAY
    local -n arr=$2
    local b p
    b=$(med "${arr[base]}")
    p=$(med "${arr[processor]}")
    printf '%-40s %14s %14s %10s\n' "$1" "$b" "$p" "$(calc "$p / $b" 3)"
}
row "accepted/s at c=32" ACCEPTED
row "delivered/s at c=32" DELIVERED
row "rate accepted (events/s), offered $RATE" REACHED
row "events/s through the route at $RATE/s" THROUGH
row "hub CPU ms per 1000 events at the rate" CPU
row "accept p99 ms at the rate" P99
CPU_BASE=$(med "${CPU[base]}")
CPU_PROC=$(med "${CPU[processor]}")
printf '\nPer round (processor / route, back to back), machine load average at the start of each:\n'
printf '  CPU per event at %d/s: %s\n' "$RATE" "$PAIRED_CPU"
printf '  events/s through:      %s\n' "$PAIRED_THROUGH"
printf '  rate accepted:         %s\n' "$PAIRED_REACHED"
printf '  accepted/s at c=32:    %s\n' "$PAIRED_ACCEPTED"
printf '  load average:          %s\n' "$LOADS"
PAIRED_CPU_MED=$(med "$PAIRED_CPU")
printf '\nCPU overhead of the processor at %d/s: %s %% (ratio of medians), %s %% (median of paired rounds); target < 10 %%\n' \
    "$RATE" "$(calc "($CPU_PROC / $CPU_BASE - 1) * 100" 1)" "$(calc "($PAIRED_CPU_MED - 1) * 100" 1)"
printf 'Events/s through the route with the processor at %d/s: %s of the route (median of paired rounds); target > 0.90\n' \
    "$RATE" "$(med "$PAIRED_THROUGH")"
printf 'Rate accepted with the processor at %d/s: %s of the route (median of paired rounds)\n' \
    "$RATE" "$(med "$PAIRED_REACHED")"
printf '{"rate":%d,"cpu_ms_per_1000_base":%s,"cpu_ms_per_1000_processor":%s,"accepted_base":%s,"accepted_processor":%s,"paired_cpu_ratio":%s,"paired_rate_ratio":%s,"paired_through_ratio":%s}\n' \
    "$RATE" "$CPU_BASE" "$CPU_PROC" "$(med "${ACCEPTED[base]}")" "$(med "${ACCEPTED[processor]}")" \
    "$PAIRED_CPU_MED" "$(med "$PAIRED_REACHED")" "$(med "$PAIRED_THROUGH")"
