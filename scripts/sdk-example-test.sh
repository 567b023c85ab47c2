#!/usr/bin/env bash
# The SDK as a department developer gets it: installs the SDK from a hub build directory into a
# fresh prefix, builds sdk/examples/department-adapter out of tree against that prefix only,
# runs the example's own tests (written with the SDK's test kit; one checks an event against the
# event catalog installed with the SDK), and has the hub load the
# plugin it produced (`onewindow plugin inspect`) and check a configuration that uses it
# (`onewindow check`). Loopback only, no network, temp dirs only.
#
#   scripts/sdk-example-test.sh BUILD_DIR [ONEWINDOW_BINARY]
#
# BUILD_DIR is a configured hub build (the SDK's install rules live there); the binary
# defaults to BUILD_DIR/core/onewindow. OW_KEEP_TMP=1 keeps the temporary folder.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [ONEWINDOW_BINARY]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
hub=${2:-$build/core/onewindow}
src=$(cd "$(dirname "$0")/.." && pwd)
example=$src/sdk/examples/department-adapter

fail() {
  echo "sdk-example-test: FAILED: $*" >&2
  exit 1
}
[ -x "$hub" ] || fail "no hub binary at $hub (build the onewindow target first)"
[ -f "$build/CMakeCache.txt" ] || fail "$build is not a configured CMake build directory"

work=$(mktemp -d "${TMPDIR:-/tmp}/ow-sdk-example.XXXXXX")
if [ "${OW_KEEP_TMP:-0}" = 1 ]; then
  echo "sdk-example-test: keeping $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi
prefix=$work/prefix
tree=$work/department-adapter # a copy: nothing outside it is reachable by a relative path
out=$work/build

# 1. Install the SDK, and only the SDK.
cmake --install "$build" --prefix "$prefix" --component sdk >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install"; }
for f in include/onewindow/sdk/Plugin.h include/onewindow/sdk/testkit/TestKit.h \
  share/onewindow/catalog/README.md share/onewindow/catalog/gov.case.md \
  share/onewindow/catalog/schemas/gov.case.accepted.schema.json; do
  [ -f "$prefix/$f" ] || fail "the install has no $f"
done
config=$(find "$prefix" -name OneWindowSDKConfig.cmake -path '*/cmake/OneWindowSDK/*' | head -n1)
[ -n "$config" ] || fail "the install has no OneWindowSDKConfig.cmake"
sdk_dir=$(dirname "$config")

# 2. The example must not reach into the hub's source tree.
if grep -rnE '\.\./\.\./|sdk/include|CMAKE_SOURCE_DIR/\.\.' \
  "$example/CMakeLists.txt" "$example/src" "$example/test"; then
  fail "the example refers to the source tree instead of the installed SDK"
fi
cp -r "$example" "$tree"
rm -rf "$tree/build"

# 3. Configure and build it as a department would, with the hub's compiler (the hub refuses a
# plugin built with another standard library) and warnings as errors. The installed headers
# are included with -I, not -isystem, so a warning in the SDK or the test kit fails here too.
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "$tree" -B "$out" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
  -DCMAKE_NO_SYSTEM_FROM_IMPORTED=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configuring the example"; }
cmake --build "$out" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the example"; }

# 4. Built from the installed prefix, not from the source tree: the package came from the
# prefix, every include path the compiler saw is in the prefix or the copied example, and
# the plugin was compiled with the settings onewindow_add_plugin promises.
found=$(sed -n 's/^OneWindowSDK_DIR:PATH=//p' "$out/CMakeCache.txt")
[ "$found" = "$sdk_dir" ] || fail "find_package(OneWindowSDK) used '$found', not '$sdk_dir'"
commands=$out/compile_commands.json
[ -f "$commands" ] || fail "no compile_commands.json"
for forbidden in "$src/sdk/include" "$src/sdk/catalog" "$example"; do
  if grep -F -- "$forbidden" "$commands" >/dev/null; then
    grep -F -- "$forbidden" "$commands" | head -n3 >&2
    fail "a compile command refers to the hub's source tree ($forbidden)"
  fi
done
grep -F -- "-isystem $prefix/include" "$commands" >/dev/null ||
  grep -F -- "-I$prefix/include" "$commands" >/dev/null ||
  fail "no compile command uses the installed headers in $prefix/include"
plugin_cmd=$(grep -F '"command"' "$commands" | grep -F 'dept_market_adapter.dir' | head -n1)
for flag in -fvisibility=hidden -fvisibility-inlines-hidden -std=c++20; do
  [[ $plugin_cmd == *"$flag"* ]] || fail "the plugin was not compiled with $flag"
done
if grep -qs 'CMAKE_CXX_COMPILER_ID "GNU"' "$out"/CMakeFiles/*/CMakeCXXCompiler.cmake; then
  [[ $plugin_cmd == *-fno-gnu-unique* ]] || fail "the plugin was not compiled with -fno-gnu-unique"
fi

so=$out/dept_market_adapter.so
[ -f "$so" ] || fail "the build produced no $so (PREFIX \"\" and OUTPUT_NAME)"
if command -v nm >/dev/null 2>&1; then
  nm -D --defined-only "$so" | grep -qw onewindow_plugin || fail "$so does not export onewindow_plugin"
  if nm -D --defined-only -C "$so" | grep -q 'dept_market::'; then
    fail "$so exports its own classes: it was not built with hidden visibility"
  fi
fi

# 5. The example's own tests.
(cd "$out" && ctest --output-on-failure --timeout 120) >"$work/ctest.log" 2>&1 ||
  { cat "$work/ctest.log" >&2; fail "the example's tests"; }
grep -E 'tests passed' "$work/ctest.log"

# 6. The hub loads it: ABI, toolchain fingerprint, declaration and both components.
inspect=$("$hub" plugin inspect "$so" 2>&1) || { echo "$inspect" >&2; fail "onewindow plugin inspect"; }
# shellcheck disable=SC2016 # the backquotes are Markdown in inspect's output, not expansions
for want in '# dept-market 0.1.0' 'sink `dept-market/case-forwarder`' \
  'processor `dept-market/deadline-watch`' '`base_url`'; do
  grep -qF -- "$want" <<<"$inspect" || { echo "$inspect" >&2; fail "inspect does not show: $want"; }
done

# 7. The hub accepts the configuration the example's README shows, checked against the specs.
mkdir -m 755 "$work/plugins"
install -m 755 "$so" "$work/plugins/"
cat >"$work/hub.yaml" <<'YAML'
hub:
  plugin_dirs: [ plugins ]
inputs:
  - { name: events, path: /v1/events }
plugins:
  - name: dept-market
    file: dept_market_adapter.so
outputs:
  - name: scjg
    sink: dept-market/case-forwarder
    config:
      base_url: https://scjg.example.gov.cn
      api_key: ${SCJG_API_KEY}
      timeout_ms: 5000
routes:
  - { name: cases, match: { type: "gov.case.*" }, to: [ scjg ] }
YAML
check=$(cd "$work" && SCJG_API_KEY=example "$hub" check -c hub.yaml 2>&1) ||
  { echo "$check" >&2; fail "onewindow check refuses the example's configuration"; }

echo "sdk-example-test: ok: dept-market built out of tree against $prefix, tests passed, the hub loads it and accepts its configuration"
