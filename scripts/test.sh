#!/usr/bin/env bash
# Sets up, builds and runs every test:
#   1. the release build: ctest (ONNX node tests, unit and kernel tests,
#      real models against ONNX Runtime, bad inputs)
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (without the whole-dataset accuracy runs, labelled slow|eval: ASan
#      makes them hours long; the release build runs them)
#   3. the ONNX-loader fuzzer for a bounded time (OCT_FUZZ_SECONDS, default 60)
# Tests that need ../shared (override with OCTET_SHARED) skip and say so
# when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export OCTET_SHARED=${OCTET_SHARED:-$(cd .. && pwd)/shared}
[ -d "$OCTET_SHARED" ] || echo "test: $OCTET_SHARED is absent: tests that need models and images will skip"
failed=0

echo "== release build: ctest"
(cd build && ctest --output-on-failure -j1) || failed=1

if [ "${OCT_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan+UBSan build: ctest"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DOCT_SANITIZE=ON \
    -DOCT_FUZZ=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    OCT_SANITIZED=1 ctest --output-on-failure -j1 -LE 'slow|eval') || failed=1
  if [ -x build-asan/tests/fuzz_onnx ]; then
    echo "== fuzzing the ONNX loader for ${OCT_FUZZ_SECONDS:-60} s"
    bash tests/fuzz/run_fuzz.sh build-asan/tests/fuzz_onnx "${OCT_FUZZ_SECONDS:-60}" || failed=1
  fi
fi

if [ $failed -ne 0 ]; then
  echo "test: FAILED"
  exit 1
fi
echo "test: all passed"
