# Shared by the benchmark scripts: logging, process bookkeeping (every started PID is stopped
# on exit, by PID), a work folder, and waiting on a condition with a deadline.
# shellcheck shell=bash
log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- process bookkeeping -------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ow-bench.XXXXXX")
STARTED_PIDS=()

# SIGTERM, up to 20 s for a clean exit (the hub drains deliveries), then SIGKILL. Only PIDs
# this script started, and each is waited for, so a PID is never signalled after it is reaped.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 400; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for 20 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local keep=() p
    for p in "${STARTED_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    STARTED_PIDS=("${keep[@]}")
}

cleanup() {
    local status=$? pid
    for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
    if [[ $status -ne 0 && -f $WORK/hub.log ]]; then
        log "hub log (last 20 lines):"
        tail -n 20 "$WORK/hub.log" >&2 || true
    fi
    if [[ ${OW_KEEP_TMP:-0} == 1 ]]; then
        log "keeping $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (up to $2 seconds) for a command to succeed; the polling is the waiting, not a guess.
wait_for() {
    local seconds=$1 i
    shift
    for ((i = 0; i < seconds * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

file_nonempty() { [[ -s $1 ]]; }


# Sets FREE_PORT to a port that was free a moment ago (bound to 0 by a short-lived receiver),
# for the hub, which takes its port on the command line. Not a $(...) function: a subshell
# would hide the PID from the EXIT trap.
free_port() {
    local pid
    "$RECEIVER_BIN" --port 0 --port-file "$WORK/free.port" --quiet >/dev/null 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait_for 10 file_nonempty "$WORK/free.port" || die "cannot find a free port"
    stop_pid "$pid"
    forget_pid "$pid"
    FREE_PORT=$(<"$WORK/free.port")
    rm -f "$WORK/free.port"
}

# --- the hub under test ----------------------------------------------------------------------
# Both read HUB_PORT (and hub_ready HUB_PID), set by the script that started the hub.

# metric NAME: the sample's value from the hub's /metrics (0 if absent).
metric() {
    curl -fsS --max-time 5 "http://127.0.0.1:$HUB_PORT/metrics" 2>/dev/null \
        | awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'
}
hub_ready() {
    kill -0 "$HUB_PID" 2>/dev/null || die "hub exited during startup"
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$HUB_PORT/readyz" 2>/dev/null
}

# --- figures ---------------------------------------------------------------------------------
# json_num FILE KEY: a number from the one-line JSON summaries the tools print (0 if absent).
json_num() {
    local value
    value=$(grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -n 1 | cut -d: -f2)
    echo "${value:-0}"
}
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now_ns() { date +%s%N; }
lines_in() { if [[ -f $1 ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# The median of numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
