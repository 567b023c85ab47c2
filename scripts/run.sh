#!/usr/bin/env bash
# Runs OneWindow. Installs what is missing and builds (Release) first.
#
#   scripts/run.sh               the demo: the whole center on this machine. A local mosquitto
#                                on loopback, a simulator of every system the hub talks to, the
#                                hub on config/demo.yaml (config/center/), and an accelerated
#                                working day (ow-workday): applications across the departments
#                                and the seven categories, fees paid at the terminal, complaints,
#                                overdue backlog cases. Then the bank statement is reconciled
#                                and the monthly report written. Ctrl-C stops everything.
#   scripts/run.sh --hub-only    the hub alone on config/onewindow.yaml (the real systems'
#                                addresses from OW_*_URL, secrets from the environment or
#                                var/secrets.env). Extra arguments go to `onewindow run`.
#
# Demo settings (environment): OW_DEMO_CASES (300), OW_DEMO_DATE (2026-03-02, a Monday),
# OW_DEMO_RATE (600: ten business minutes a second), OW_MQTT_PORT (1883).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=demo
if [ "${1:-}" = "--hub-only" ]; then mode=hub; shift; fi

scripts/install-deps.sh
mkdir -p var
# The compiler's output goes to a log (GCC 12 prints false-positive warnings at -O2 that would
# bury what matters); it is shown when the build fails.
echo "run.sh: building (Release, build-release/; log in var/build.log)"
if ! { cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF &&
       cmake --build build-release --target onewindow ow-receiver ow-workday ow-platform-sim \
         ow-supervision-sim ow-gongshang-sim ow-gongan-sim ow-frontdb-sim ow-post-sim \
         ow-utility-sim ow_plugin_cases ow_plugin_fees ow_adapter_platform_plugin \
         ow_adapter_esupervision_plugin ow_adapter_gongshang_plugin ow_adapter_gongan_plugin \
         ow_adapter_landres_plugin ow_adapter_post_plugin ow_adapter_utility_plugin; } \
     >var/build.log 2>&1; then
  tail -40 var/build.log
  echo "run.sh: the build failed; the whole log is var/build.log"
  exit 1
fi
bin=build-release/core/onewindow

# Secrets: from the environment, else from var/secrets.env (random ones made on the first run,
# and any a newer OneWindow needs added to it); every unit's channel token in
# var/secrets/dept-<id>.token, and the audit trail's signing key, made once too.
(
  umask 077
  touch var/secrets.env
  for name in OW_PLATFORM_TOKEN OW_UNITS_TOKEN OW_TERMINAL_01_KEY OW_FEE_CHECK_KEY OW_GS_TOKEN \
              OW_EMS_KEY OW_MQTT_PASSWORD OW_MQTT_LED_PASSWORD; do
    grep -q "^$name=" var/secrets.env || echo "$name=$(openssl rand -hex 24)" >>var/secrets.env
  done
  mkdir -p var/secrets
  for unit in $(sed -n 's/.*{ id: \([a-z-]*\),.*/\1/p' config/units.yaml); do
    [ -f "var/secrets/dept-$unit.token" ] || openssl rand -hex 24 >"var/secrets/dept-$unit.token"
  done
  [ -f var/secrets/audit-signing.key ] ||
    openssl genpkey -algorithm ED25519 -out var/secrets/audit-signing.key 2>/dev/null
)
set -a; . var/secrets.env; set +a

# 公安局 wants mutual TLS. The demo makes a throw-away PKI in var/tls/ (valid one day) for its
# simulator and the hub; real systems need the real files in OW_GONGAN_CA/_CERT/_KEY.
make_demo_pki() { # folder
  mkdir -p var/tls "$1"
  bash tests/support/gen-certs.sh "$1" onewindow-hub
  cp "$1/ca.crt" var/tls/gongan-ca.crt
  cp "$1/client.crt" var/tls/hub-gongan.crt
  (umask 077; cp "$1/client.key" var/tls/hub-gongan.key)
}

if [ "$mode" = hub ]; then
  if [ -z "${OW_GONGAN_CERT:-}" ] && [ ! -f var/tls/hub-gongan.crt ]; then
    make_demo_pki var/tls/pki
    echo "run.sh: OW_GONGAN_CA/OW_GONGAN_CERT/OW_GONGAN_KEY are not set: using a throw-away"
    echo "        certificate from var/tls/, which 公安局's real system will not accept"
  fi
  mkdir -p var/qzk # the default front-end database of 国土资源局 (OW_FRONTDB), if it is a file here
  exec "$bin" run -c config/onewindow.yaml "$@"
fi

# ---- the demo ----------------------------------------------------------------------------
demo=var/demo
rm -rf "$demo"
mkdir -p "$demo/data" "$demo/qzk" "$demo/logs" "$demo/out"
pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "run.sh: stopping"
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port, what
  for _ in $(seq 1 100); do port_free "$1" || return 0; sleep 0.1; done
  echo "run.sh: $2 did not start (see $demo/logs)"; exit 1
}
start() { # name, port, command...
  local name=$1 port=$2; shift 2
  if [ "$port" != - ] && ! port_free "$port"; then
    echo "run.sh: port $port (for $name) is in use; stop what uses it and run again"; exit 1
  fi
  "$@" >"$demo/logs/$name.out" 2>"$demo/logs/$name.log" &
  pids+=($!)
  [ "$port" = - ] || wait_port "$port" "$name"
}

make_demo_pki "$demo/pki"

mqtt_port=${OW_MQTT_PORT:-1883}
export OW_MQTT_URL="tcp://127.0.0.1:$mqtt_port" OW_HOME="$root" OW_FRONTDB="$root/$demo/qzk/land-resources.db"
# The hall broker has accounts: the hub publishes; the LED wall may only read its own topics.
# (mosquitto, started as root, reads these files as the mosquitto user.)
mosquitto_passwd -c -b "$demo/mosquitto.passwd" onewindow "$OW_MQTT_PASSWORD" 2>/dev/null
mosquitto_passwd -b "$demo/mosquitto.passwd" led-wall "$OW_MQTT_LED_PASSWORD" 2>/dev/null
cat >"$demo/mosquitto.acl" <<ACL
user onewindow
topic readwrite #

user led-wall
topic read hall/led/#
ACL
cat >"$demo/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous false
password_file $root/$demo/mosquitto.passwd
acl_file $root/$demo/mosquitto.acl
persistence false
CONF
if id mosquitto >/dev/null 2>&1; then
  chgrp mosquitto "$demo/mosquitto.passwd" "$demo/mosquitto.acl"
  chmod 0640 "$demo/mosquitto.passwd" "$demo/mosquitto.acl"
fi
start mosquitto "$mqtt_port" mosquitto -c "$demo/mosquitto.conf"

# The center's business clock, shared by the hub, the simulators and the day: 09:00 of
# OW_DEMO_DATE at wall time `at`, OW_DEMO_RATE times as fast.
export OW_DEMO_DATE=${OW_DEMO_DATE:-2026-03-02} OW_DEMO_RATE=${OW_DEMO_RATE:-600}
at=$(( $(date +%s) + 8 ))
export OW_DEMO_START="${OW_DEMO_DATE}T09:00:00+08:00" OW_DEMO_AT="$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)"
clock="$(date -d "$OW_DEMO_START" +%s),$at,$OW_DEMO_RATE"

b=build-release/tools
start platform-sim 9101 $b/ow-platform-sim --port 9101 --token "$OW_PLATFORM_TOKEN"
start supervision-sim 9102 $b/ow-supervision-sim --port 9102 --record "$demo/out/supervision.ndjson"
start gongshang-sim 9103 $b/ow-gongshang-sim --port 9103 --token "$OW_GS_TOKEN" --step-ms 700 \
  --business-clock "$clock" \
  --fail-every 13 --return-every 9 --supplement-every 7
start gongan-sim 9104 $b/ow-gongan-sim --port 9104 --cert "$demo/pki/server.crt" \
  --key "$demo/pki/server.key" --client-ca "$demo/pki/ca.crt" --step-ms 600 --fail-every 11 \
  --business-clock "$clock" \
  --return-every 8 --supplement-every 6
start post-sim 9105 $b/ow-post-sim --port 9105 --api-key "$OW_EMS_KEY" --step-ms 500 \
  --business-clock "$clock"
start utility-sim 9106 $b/ow-utility-sim --port 9106 --hub-url http://127.0.0.1:8080/v1/units/events \
  --token "$OW_UNITS_TOKEN" --step-ms 1500
start departments 9107 $b/ow-receiver --port 9107 --quiet --record "$demo/out/departments.ids"
start frontdb-sim - $b/ow-frontdb-sim --db "$OW_FRONTDB" --step-ms 600 --correct-every 5 \
  --business-clock "$clock"

start hub 8080 "$bin" run -c config/demo.yaml

cat <<TEXT

The center is running (business day $OW_DEMO_DATE, $OW_DEMO_RATE× the wall clock). Look at:
  live MQTT   mosquitto_sub -p $mqtt_port -u led-wall -P "\$OW_MQTT_LED_PASSWORD" -t 'hall/led/#' -v
              (the LED wall's account reads only hall/led/#; the password is in var/secrets.env)
  metrics     curl -s 127.0.0.1:8080/metrics | grep -E 'onewindow_(events|outbox|dead)'
  a case      curl -s '127.0.0.1:8080/v1/cases/<case_no>?password=<query_password>'
              (the numbers are in $demo/out/plan.json when the day is over)
  DLQ         $bin dlq list -c config/demo.yaml
  logs        $demo/logs/
The working day starts now; Ctrl-C stops everything.

TEXT
$b/ow-workday --hub http://127.0.0.1:8080 --token "$OW_PLATFORM_TOKEN" \
  --terminal-key "$OW_TERMINAL_01_KEY" --cases "${OW_DEMO_CASES:-300}" --date "$OW_DEMO_DATE" \
  --rate "$OW_DEMO_RATE" --at "$at" --port 9108 --out "$demo/out" --poison \
  --department-tokens var/secrets 2>"$demo/logs/workday.log" \
  | tee "$demo/out/workday.json"

echo
echo "run.sh: the day's requests are in; waiting until the departments answered and the hub delivered all"
quiet=0
for _ in $(seq 1 120); do
  depth=$(curl -s 127.0.0.1:8080/metrics | awk '/^onewindow_outbox_depth/ {s += $2} END {print s + 0}')
  if [ "$depth" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  [ "$quiet" -ge 5 ] && break
  sleep 1
done
echo "run.sh: the day is over. Reconciling the bank's statement and writing the monthly report:"
"$bin" fees reconcile --date "$OW_DEMO_DATE" --statement "$demo/out/statement-$OW_DEMO_DATE.csv" \
  -c config/demo.yaml --out "$demo/out" || true
"$bin" report monthly --month "${OW_DEMO_DATE:0:7}" -c config/demo.yaml --out "$demo/out" || true
"$bin" dlq list -c config/demo.yaml || true
# The first case's public progress, as the applicant sees it on the website.
no=$(grep -m1 '"case_no"' "$demo/out/plan.json" | sed 's/.*: "\(.*\)".*/\1/')
password=$(grep -m1 '"query_password"' "$demo/out/plan.json" | sed 's/.*: "\(.*\)".*/\1/')
echo
echo "run.sh: curl -s '127.0.0.1:8080/v1/cases/$no?password=$password'"
curl -s "127.0.0.1:8080/v1/cases/$no?password=$password" || true
echo
echo "run.sh: reports in $demo/out/ (report-${OW_DEMO_DATE:0:7}.html, reconciliation-$OW_DEMO_DATE.txt)."
echo "run.sh: the hub and the simulators keep running; Ctrl-C stops them."
wait
