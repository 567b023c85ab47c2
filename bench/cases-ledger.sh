#!/usr/bin/env bash
# The case ledger following a month of the center (issue 5): a generated month of traffic
# (ow-casegen: OW_BENCH_CASES cases, ~8.5 events each, 20 % left open) posted to a hub whose
# only route sends gov.case.* to the cases/ledger processor.
#
#   (a) events/s: from the first post until the ledger has processed every accepted event
#       (its outbox depth back to 0), with the business clock held at 1 March so no timer
#       fires meanwhile: the cost of following cases, not of alerts;
#   (b) state size on disk: the journal (events, state, timers) per case, after a clean stop;
#   (c) timer firing lag at OW_BENCH_CASES open cases: a second hub holds that many accepted,
#       open cases, and is restarted with its business clock in June, when every case's
#       deadline has passed: every case timer is due at once. The lag is the wall time from
#       the hub being ready until the last of them has fired (and raised its alerts).
#
#   bench/cases-ledger.sh
# Environment: OW_BENCH_CASES (100000), OW_BENCH_BUILD_DIR (build-release),
# OW_BENCH_SKIP_BUILD=1, OW_KEEP_TMP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

CASES=${OW_BENCH_CASES:-100000}
BUILD_DIR=${OW_BENCH_BUILD_DIR:-build-release}
HUB_BIN=$BUILD_DIR/core/onewindow
RECEIVER_BIN=$BUILD_DIR/tools/ow-receiver
LOADGEN_BIN=$BUILD_DIR/tools/ow-loadgen
CASEGEN_BIN=$BUILD_DIR/tools/ow-casegen
CASES_SO=$BUILD_DIR/plugins/lib/cases.so

# shellcheck source=bench/lib.sh
source bench/lib.sh

if [[ ${OW_BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building Release in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target onewindow ow-receiver ow-loadgen ow-casegen ow_plugin_cases
fi
for f in "$HUB_BIN" "$RECEIVER_BIN" "$LOADGEN_BIN" "$CASEGEN_BIN" "$CASES_SO"; do
    [[ -e $f ]] || die "missing $f"
done

mkdir -p "$WORK/plugins"
cp "$CASES_SO" "$WORK/plugins/"
chmod 0755 "$WORK/plugins"
chmod 0644 "$WORK/plugins/cases.so"
SRC=$PWD

write_config() { # FILE BUSINESS_START
    cat >"$1" <<YAML
hub:
  log_level: warn
  journal: { synchronous: full }
  plugin_dirs: [ "$WORK/plugins" ]
  business_clock: { start: "$2", at: "2026-11-01T00:00:00Z", rate: 0.001 }
inputs:
  - { name: hall, path: /v1/events }
plugins:
  - { name: cases, file: cases.so }
outputs:
  - name: ledger
    processor: cases/ledger
    config: { catalog_dir: "$SRC/config/catalog", units_file: "$SRC/config/units.yaml",
              calendar_dir: "$SRC/config/calendar" }
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ ledger ] }
YAML
}

start_hub() { # CONFIG DATA_DIR
    free_port
    HUB_PORT=$FREE_PORT
    "$HUB_BIN" run -c "$1" --data-dir "$2" --listen "127.0.0.1:$HUB_PORT" >>"$WORK/hub.log" 2>&1 &
    HUB_PID=$!
    STARTED_PIDS+=("$HUB_PID")
    wait_for 60 hub_ready || die "hub not ready"
}
stop_hub() {
    stop_pid "$HUB_PID"
    forget_pid "$HUB_PID"
}
ledger_idle() { [[ $(metric 'onewindow_outbox_depth{output="ledger"}') == 0 ]]; }
journal_bytes() { # DATA_DIR
    du -cb "$1"/journal* 2>/dev/null | awk 'END { print $1 }'
}
post() { # FILE TAG
    "$LOADGEN_BIN" --url "http://127.0.0.1:$HUB_PORT/v1/events" --events-file "$1" \
        --concurrency 32 --id-prefix "$2" --retry-until-ms 60000 >"$WORK/$2.json"
}

# (a) and (b): a month of traffic.
log "generating $CASES cases of March 2026"
"$CASEGEN_BIN" --cases "$CASES" --month 2026-03 --open 20 >"$WORK/month.ndjson" 2>"$WORK/casegen.log"
EVENTS=$(lines_in "$WORK/month.ndjson")
write_config "$WORK/month.yaml" "2026-03-01T00:00:00+08:00"
start_hub "$WORK/month.yaml" "$WORK/data-month"
log "posting $EVENTS events"
t0=$(now_ns)
post "$WORK/month.ndjson" month
t1=$(now_ns)
wait_for 3600 ledger_idle || die "the ledger did not catch up"
t2=$(now_ns)
ACKED=$(json_num "$WORK/month.json" acked_2xx)
STALE_REFUSED=$(metric 'onewindow_plugin_cases_events_refused_total{plugin="cases",instance="ledger"}')
stop_hub
MONTH_BYTES=$(journal_bytes "$WORK/data-month")

# (c): open cases whose deadlines all passed while the hub was down.
log "generating $CASES open cases"
"$CASEGEN_BIN" --cases "$CASES" --month 2026-03 --accepted-only >"$WORK/open.ndjson" 2>>"$WORK/casegen.log"
write_config "$WORK/open.yaml" "2026-03-01T00:00:00+08:00"
start_hub "$WORK/open.yaml" "$WORK/data-open"
post "$WORK/open.ndjson" open
wait_for 3600 ledger_idle || die "the ledger did not take the open cases"
stop_hub
write_config "$WORK/june.yaml" "2026-06-01T00:00:00+08:00"
fired() { metric 'onewindow_processor_timers_fired_total{plugin="cases",instance="ledger"}'; }
all_fired() { (($(fired | cut -d. -f1) >= CASES)); }
t3=$(now_ns)
start_hub "$WORK/june.yaml" "$WORK/data-open"
t4=$(now_ns)
wait_for 3600 all_fired || die "not every case timer fired"
t5=$(now_ns)
ALERTS=$(metric 'onewindow_plugin_cases_alerts_raised_total{plugin="cases",instance="ledger"}')
stop_hub

secs() { calc "($2 - $1) / 1e9" 1; }
printf '\nCase ledger, %s cases on %s CPUs\n\n' "$CASES" "$(nproc)"
printf '(a) a month of traffic: %s events (%s per case), %s accepted\n' "$EVENTS" \
    "$(calc "$EVENTS / $CASES" 1)" "$ACKED"
printf '    posted in %s s: %s events/s accepted\n' "$(secs "$t0" "$t1")" \
    "$(calc "$ACKED / (($t1 - $t0) / 1e9)" 0)"
printf '    processed by the ledger in %s s: %s events/s followed\n' "$(secs "$t0" "$t2")" \
    "$(calc "$ACKED / (($t2 - $t0) / 1e9)" 0)"
printf '    events refused by the ledger: %s\n' "$STALE_REFUSED"
printf '(b) journal on disk after the month: %s MB, %s KB per case\n' \
    "$(calc "$MONTH_BYTES / 1048576" 1)" "$(calc "$MONTH_BYTES / 1024 / $CASES" 2)"
printf '(c) %s open cases, every deadline passed: hub ready after %s s, every case timer fired\n' \
    "$CASES" "$(secs "$t3" "$t4")"
printf '    %s s after that (%s timers/s), %s alerts raised\n' "$(secs "$t4" "$t5")" \
    "$(calc "$CASES / (($t5 - $t4) / 1e9)" 0)" "$ALERTS"
printf '{"cases":%s,"events":%s,"followed_per_s":%s,"journal_bytes_per_case":%s,"timer_lag_s":%s}\n' \
    "$CASES" "$EVENTS" "$(calc "$ACKED / (($t2 - $t0) / 1e9)" 0)" \
    "$(calc "$MONTH_BYTES / $CASES" 0)" "$(secs "$t4" "$t5")"
