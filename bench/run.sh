#!/usr/bin/env bash
# OneWindow throughput/latency benchmark. Builds a Release build, runs the hub against an
# ow-receiver and drives it with ow-loadgen; prints a table (see bench/README.md).
#
#   bench/run.sh                          # full run, about a minute after the build
#   OW_BENCH_EVENTS=20000 bench/run.sh    # shorter
#
# Environment: OW_BENCH_EVENTS (100000), OW_BENCH_CONCURRENCY (32), OW_BENCH_RATE (1000),
# OW_BENCH_RATE_SECONDS (10), OW_BENCH_BODY_BYTES (512), OW_BENCH_BUILD_DIR (build-release),
# OW_BENCH_SKIP_BUILD=1 (use the existing build), OW_KEEP_TMP=1 (keep logs and journal),
# OW_BENCH_CONFIG (bench/bench.yaml: the audit trail and an allow list on, as in production;
# bench/bench-trust-off.yaml: both off, for bench/trust-overhead.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${OW_BENCH_EVENTS:-100000}
CONCURRENCY=${OW_BENCH_CONCURRENCY:-32}
RATE=${OW_BENCH_RATE:-1000}
RATE_SECONDS=${OW_BENCH_RATE_SECONDS:-10}
BODY_BYTES=${OW_BENCH_BODY_BYTES:-512}
BUILD_DIR=${OW_BENCH_BUILD_DIR:-build-release}
CONFIG=${OW_BENCH_CONFIG:-bench/bench.yaml}
DELIVERY_TIMEOUT_S=${OW_BENCH_DELIVERY_TIMEOUT_S:-600}

HUB_BIN=$BUILD_DIR/core/onewindow
RECEIVER_BIN=$BUILD_DIR/tools/ow-receiver
LOADGEN_BIN=$BUILD_DIR/tools/ow-loadgen

# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- build -----------------------------------------------------------------------------------
if [[ ${OW_BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building Release in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target onewindow ow-receiver ow-loadgen
fi
for bin in "$HUB_BIN" "$RECEIVER_BIN" "$LOADGEN_BIN"; do
    [[ -x $bin ]] || die "missing $bin"
done

# Starts an ow-receiver on a port of its choosing; sets RECEIVER_PID and RECEIVER_PORT.
start_receiver() {
    local name=$1
    shift
    "$RECEIVER_BIN" --port 0 --port-file "$WORK/$name.port" --quiet "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    RECEIVER_PID=$!
    STARTED_PIDS+=("$RECEIVER_PID")
    wait_for 10 file_nonempty "$WORK/$name.port" \
        || die "$name did not start: $(cat "$WORK/$name.err")"
    RECEIVER_PORT=$(<"$WORK/$name.port")
}


# --- start the department system and the hub ---------------------------------------------------
start_receiver rx --record "$WORK/delivered.txt"
RX_PID=$RECEIVER_PID
export OW_BENCH_RECEIVER_URL="http://127.0.0.1:$RECEIVER_PORT/events"

free_port
HUB_PORT=$FREE_PORT
mkdir -p "$WORK/data"
# The audit trail's checkpoints are signed, as in production.
openssl genpkey -algorithm ED25519 -out "$WORK/audit.key" 2>/dev/null
export OW_BENCH_AUDIT_KEY="$WORK/audit.key"
"$HUB_BIN" run -c "$CONFIG" --data-dir "$WORK/data" --listen "127.0.0.1:$HUB_PORT" \
    >"$WORK/hub.log" 2>&1 &
HUB_PID=$!
STARTED_PIDS+=("$HUB_PID")
wait_for 30 hub_ready || die "hub not ready on port $HUB_PORT"
HUB_URL="http://127.0.0.1:$HUB_PORT/v1/events"
log "hub pid $HUB_PID on $HUB_URL, receiver pid $RX_PID on port $RECEIVER_PORT, work $WORK"

delivered_at_least() { (($(lines_in "$WORK/delivered.txt") >= $1)); }

# --- (a) throughput: accepted/s and delivered/s at concurrency C -----------------------------
log "(a) $EVENTS events, concurrency $CONCURRENCY"
T0=$(now_ns)
"$LOADGEN_BIN" --url "$HUB_URL" --events "$EVENTS" --concurrency "$CONCURRENCY" \
    --id-prefix "bench-a-$$" --body-bytes "$BODY_BYTES" >"$WORK/a.json"
ACKED_A=$(json_num "$WORK/a.json" acked_2xx)
((ACKED_A == EVENTS)) \
    || log "WARNING: only $ACKED_A of $EVENTS events acknowledged: $(cat "$WORK/a.json")"
wait_for "$DELIVERY_TIMEOUT_S" delivered_at_least "$ACKED_A" \
    || die "only $(lines_in "$WORK/delivered.txt") of $ACKED_A delivered in $DELIVERY_TIMEOUT_S s"
T_DELIVERED=$(now_ns)
DELIVERED_A=$(sort -u "$WORK/delivered.txt" | wc -l | tr -d ' ')
DUPLICATES_A=$(($(lines_in "$WORK/delivered.txt") - DELIVERED_A))

ACCEPTED_RATE=$(calc "$(json_num "$WORK/a.json" rate_per_s)" 0)
DELIVERED_RATE=$(calc "$DELIVERED_A / (($T_DELIVERED - $T0) / 1e9)" 0)
P50_A=$(json_num "$WORK/a.json" p50_ms)
P99_A=$(json_num "$WORK/a.json" p99_ms)

# --- (b) latency at a fixed, moderate rate (open loop) -----------------------------------------
RATE_EVENTS=$((RATE * RATE_SECONDS))
log "(b) $RATE events/s for $RATE_SECONDS s"
"$LOADGEN_BIN" --url "$HUB_URL" --events "$RATE_EVENTS" --concurrency "$CONCURRENCY" \
    --rate "$RATE" --id-prefix "bench-b-$$" --body-bytes "$BODY_BYTES" >"$WORK/b.json"
P50_B=$(json_num "$WORK/b.json" p50_ms)
P99_B=$(json_num "$WORK/b.json" p99_ms)
ACKED_B=$(json_num "$WORK/b.json" acked_2xx)
((ACKED_B == RATE_EVENTS)) \
    || log "WARNING: only $ACKED_B of $RATE_EVENTS events acknowledged: $(cat "$WORK/b.json")"
wait_for "$DELIVERY_TIMEOUT_S" delivered_at_least "$((DELIVERED_A + DUPLICATES_A + ACKED_B))" \
    || log "WARNING: not all (b) events delivered"

RSS_KB=$(vm_hwm_kb "$HUB_PID")
RSS_MB=$(calc "$RSS_KB / 1024" 1)
stop_pid "$HUB_PID"
forget_pid "$HUB_PID"
stop_pid "$RX_PID"
forget_pid "$RX_PID"

# --- (c) the ceiling: the same load against a bare HTTP server ----------------------------------
log "(c) ceiling: $EVENTS requests, concurrency $CONCURRENCY, against ow-receiver without --record"
start_receiver ceiling
CEILING_PID=$RECEIVER_PID
"$LOADGEN_BIN" --url "http://127.0.0.1:$RECEIVER_PORT/events" --events "$EVENTS" \
    --concurrency "$CONCURRENCY" --id-prefix "bench-c-$$" --body-bytes "$BODY_BYTES" >"$WORK/c.json"
CEILING_RSS_MB=$(calc "$(vm_hwm_kb "$CEILING_PID") / 1024" 1)
stop_pid "$CEILING_PID"
forget_pid "$CEILING_PID"
CEILING_RATE=$(calc "$(json_num "$WORK/c.json" rate_per_s)" 0)
CEILING_P50=$(json_num "$WORK/c.json" p50_ms)
CEILING_P99=$(json_num "$WORK/c.json" p99_ms)

# --- report ---------------------------------------------------------------------------------
verdict() { if awk "BEGIN { exit !($1) }"; then echo ok; else echo MISS; fi; }
ratio() { if awk "BEGIN { exit !($2 > 0) }"; then calc "$1 / $2" 2; else echo "-"; fi; }

printf '\nOneWindow benchmark: %d events, concurrency %d, %d-byte events, %s CPUs, %s\n\n' \
    "$EVENTS" "$CONCURRENCY" "$BODY_BYTES" "$(nproc)" "$CONFIG"
printf '%-34s %12s  %-12s %s\n' "figure" "value" "target" ""
printf '%-34s %12s  %-12s %s\n' "accepted/s (c=$CONCURRENCY)" "$ACCEPTED_RATE" ">= 10000" \
    "$(verdict "$ACCEPTED_RATE >= 10000")"
printf '%-34s %12s  %-12s %s\n' "delivered/s (first post..last)" "$DELIVERED_RATE" ">= 10000" \
    "$(verdict "$DELIVERED_RATE >= 10000")"
printf '%-34s %12s\n' "accept p50 ms (c=$CONCURRENCY)" "$P50_A"
printf '%-34s %12s\n' "accept p99 ms (c=$CONCURRENCY)" "$P99_A"
printf '%-34s %12s\n' "accept p50 ms at $RATE/s" "$P50_B"
printf '%-34s %12s  %-12s %s\n' "accept p99 ms at $RATE/s" "$P99_B" "<= 10" \
    "$(verdict "$P99_B <= 10")"
printf '%-34s %12s  %-12s %s\n' "hub peak RSS MB (VmHWM)" "$RSS_MB" "<= 64" \
    "$(verdict "$RSS_MB <= 64")"
printf '%-34s %12s\n' "ceiling req/s (bare ow-receiver)" "$CEILING_RATE"
printf '%-34s %12s\n' "ceiling p50 ms" "$CEILING_P50"
printf '%-34s %12s\n' "ceiling p99 ms" "$CEILING_P99"
printf '%-34s %12s\n' "ceiling peak RSS MB (VmHWM)" "$CEILING_RSS_MB"
printf '%-34s %12s\n' "accepted / ceiling" "$(ratio "$ACCEPTED_RATE" "$CEILING_RATE")"
printf '%-34s %12s\n' "delivered / ceiling" "$(ratio "$DELIVERED_RATE" "$CEILING_RATE")"
printf '%-34s %12s\n' "duplicate deliveries in (a)" "$DUPLICATES_A"
JSON_FORMAT='{"events":%d,"concurrency":%d,"accepted_per_s":%s,"delivered_per_s":%s,'
JSON_FORMAT+='"p50_ms":%s,"p99_ms":%s,"p99_ms_at_rate":%s,"rate":%d,"peak_rss_mb":%s,'
JSON_FORMAT+='"ceiling_per_s":%s,"ceiling_p50_ms":%s,"ceiling_p99_ms":%s,"ceiling_rss_mb":%s,'
JSON_FORMAT+='"duplicates":%d}'
# shellcheck disable=SC2059 # the format is ours, built above for line length
printf "\n$JSON_FORMAT\n" \
    "$EVENTS" "$CONCURRENCY" "$ACCEPTED_RATE" "$DELIVERED_RATE" "$P50_A" "$P99_A" "$P99_B" \
    "$RATE" "$RSS_MB" "$CEILING_RATE" "$CEILING_P50" "$CEILING_P99" "$CEILING_RSS_MB" "$DUPLICATES_A"
