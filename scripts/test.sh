#!/usr/bin/env bash
# Installs what is missing, builds OneWindow with its tests (warnings are errors) and runs the
# whole suite: unit tests and integration tests that start the real hub, real HTTP receivers
# on loopback and real SQLite files. Set OW_SANITIZE=ON for an ASan/UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Format drift fails the run, like a failing test (fix with: clang-format -i FILES).
# (.git is a folder in a clone, a file in a worktree.)
if [ -e .git ] && command -v clang-format >/dev/null 2>&1; then
  git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror
fi
# CTest splits test names at ';' (a CMake list): such a Catch2 test would be registered as two
# tests that match nothing and "pass" without running.
if grep -rn --include='*Test.cpp' -E 'TEST_CASE\("[^"]*;' tests adapters plugins sdk; then
  echo "test names must not contain ';' (CTest would silently skip them)" >&2
  exit 1
fi
build=${OW_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${OW_BUILD_TYPE:-RelWithDebInfo} \
  -DOW_WERROR=ON -DOW_SANITIZE=${OW_SANITIZE:-OFF} >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900
