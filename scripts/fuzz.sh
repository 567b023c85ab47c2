#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ with ASan and UBSan (clang only).
#   scripts/fuzz.sh [TARGET...] [--runs N] [--seconds S]
# TARGETs: request_parser cloudevents config (default: all). With --runs the run is bounded and
# reproducible (-seed=1), as CTest uses it; --seconds fuzzes for that long per target. Inputs
# that crash are written to build-fuzz/<target>-crash-*; add them to tests/fuzz/corpus/<target>/
# once fixed so they stay fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OW_FUZZ_BUILD_DIR:-build-fuzz}
runs=20000
seconds=
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(request_parser cloudevents config)
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out"

sources_of() {
  case $1 in
    request_parser) echo "tests/fuzz/FuzzRequestParser.cpp core/transport/http/RequestParser.cpp" ;;
    cloudevents) echo "tests/fuzz/FuzzCloudEvents.cpp $(ls core/event/*.cpp | tr '\n' ' ')" ;;
    # The loader checks keys and allow lists with the code that uses them.
    config) echo "tests/fuzz/FuzzConfig.cpp core/util/Clock.cpp core/util/IpAddress.cpp $(ls core/config/*.cpp | tr '\n' ' ')" \
                 "core/audit/AuditCrypto.cpp core/security/WebhookSignature.cpp" \
                 "core/security/AllowList.cpp core/security/Principal.cpp core/security/TokenAuth.cpp" \
                 "core/routing/Glob.cpp core/routing/RouteTable.cpp core/event/Event.cpp" \
                 "core/event/Encoding.cpp" ;;
    *) echo "fuzz.sh: unknown target $1" >&2; exit 2 ;;
  esac
}

for t in "${targets[@]}"; do
  srcs=$(sources_of "$t")
  bin="$out/fuzz_$t"
  # Rebuild only when a source is newer than the binary.
  # shellcheck disable=SC2086 # word splitting of the source list is intended
  if [ ! -x "$bin" ] || [ -n "$(find $srcs -newer "$bin"; find core -name '*.h' -newer "$bin")" ]; then
    # shellcheck disable=SC2086 # word splitting of the source list is intended
    clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I. $srcs -lyaml-cpp -lPocoFoundation -lssl -lcrypto -o "$bin"
  fi
  work="$out/corpus-$t"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  args=(-seed=1 -max_len=8192 -timeout=5 -rss_limit_mb=1024 "-artifact_prefix=$out/$t-crash-")
  if [ -n "$seconds" ]; then args+=("-max_total_time=$seconds"); else args+=("-runs=$runs"); fi
  if [ -n "$seconds" ]; then echo "fuzz: $t for ${seconds}s"; else echo "fuzz: $t, $runs runs"; fi
  "$bin" "${args[@]}" "$work" tests/fuzz/corpus/"$t" 2>"$out/$t.log" || { tail -n 40 "$out/$t.log"; exit 1; }
  grep -E '^(#[0-9]+.*DONE|Done [0-9]+ runs)' "$out/$t.log" | tail -n 1
done
