#!/usr/bin/env bash
# Installs what is missing, builds OneWindow (Release) and runs the hub on the default
# configuration (config/onewindow.yaml: http://127.0.0.1:8080/v1/events). Extra arguments are
# passed to `onewindow run`, e.g. --listen 127.0.0.1:9000 or --data-dir /tmp/ow.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOW_BUILD_TESTS=OFF >/dev/null
# The hub, the first-party plugins (build-release/plugins/lib/) and the operators' tools.
cmake --build build-release --target onewindow ow_plugin_cases ow_plugin_fees ow-cases-check \
  ow-receiver
exec build-release/core/onewindow run -c config/onewindow.yaml "$@"
