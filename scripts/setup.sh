#!/usr/bin/env bash
# Installs everything octet needs on Debian 12 and builds it.
#   scripts/setup.sh            system packages + Python venv + release build
#   OCT_SKIP_APT=1 ...          skip apt-get (packages already installed)
#   OCT_SKIP_VENV=1 ...         skip the Python venv (no tests against ONNX Runtime)
# The Python packages only drive the reference (ONNX Runtime) in tests and
# benchmarks; octet itself needs no Python.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(cmake make gcc pkg-config libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  libonnx-testdata libstb-dev libdnnl-dev libcjson-dev clang libclang-rt-14-dev
  python3 python3-venv python3-pip chromium)
PY_PACKAGES=(onnxruntime==1.30.0 onnx==1.20.1 numpy==2.2.6 pycocotools==2.0.10)

if [ "${OCT_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if [ "${OCT_SKIP_VENV:-0}" != 1 ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  stamp=".venv/.octet-$(printf '%s ' "${PY_PACKAGES[@]}" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "${PY_PACKAGES[@]}"
    touch "$stamp"
  fi
fi

BUILD_DIR=${OCT_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
ln -sf "$BUILD_DIR/compile_commands.json" compile_commands.json 2>/dev/null || true
echo "setup: built $BUILD_DIR/octet"
