#!/usr/bin/env bash
# Installs the Debian 12 packages OneWindow needs to build, run and test, and the npm test
# tooling of tests/npm (npm ci, from its lockfile). Idempotent: when
# everything is present it does not touch the network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config openssl ca-certificates clang-format
  libpoco-dev libboost-dev libyaml-cpp-dev nlohmann-json3-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev libgoogle-perftools-dev
  catch2 libssl-dev libsqlite3-dev libpq-dev
  clang libclang-rt-14-dev
  mosquitto mosquitto-clients postgresql curl wrk
  # the JSON Schema reference the event catalog's own validator is checked against
  python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the reference libraries the tests check the hub against (tests/npm); a machine
# that has it from elsewhere keeps its own.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

# The test tooling from the npm registry, exactly as locked (tests/npm/package-lock.json).
npm_tooling() {
  if [ ! -d tests/npm/node_modules ] || [ tests/npm/package-lock.json -nt tests/npm/node_modules ]; then
    (cd tests/npm && npm ci --no-audit --no-fund --loglevel=error) && touch tests/npm/node_modules
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_tooling
  exit 0
fi

echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian mosquitto and postgresql packages start a system broker on 1883 and a cluster on
# 5432; tests never use them (they start their own on free ports), but stop them so they do not
# surprise anyone on a build machine.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now mosquitto >/dev/null 2>&1 || true
  systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
npm_tooling
