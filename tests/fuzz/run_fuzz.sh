#!/usr/bin/env bash
# run_fuzz.sh FUZZER SECONDS
# 1. Runs every saved reproducer in tests/fuzz/regressions/ through FUZZER
#    (inputs that once crashed octet and were fixed: each must now pass).
# 2. Fuzzes for SECONDS from a seed corpus of the ONNX node-test models
#    (built in a temporary folder, never committed). SECONDS=0 only runs
#    every seed once.
# A crash, leak, timeout or sanitizer report fails the run; the inputs that
# caused it are copied to $OCT_FUZZ_ARTIFACTS (default
# /tmp/octet-fuzz-artifacts) and listed with the command that reproduces them.
# Ends with "N passed, N failed".
set -u
if [ $# -ne 2 ] || [ ! -x "$1" ]; then
  echo "usage: run_fuzz.sh FUZZER SECONDS" >&2
  exit 2
fi
FUZZER=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SECONDS_TO_RUN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
NODE=${OCT_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
KEEP=${OCT_FUZZ_ARTIFACTS:-/tmp/octet-fuzz-artifacts}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
T=$(mktemp -d "${TMPDIR:-/tmp}/octet-fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/seeds" "$T/corpus" "$T/artifacts"
pass=0 fail=0
FLAGS=(-timeout=10 -rss_limit_mb=4096 -max_len=65536 -artifact_prefix="$T/artifacts/")

sanitizer_report() {
  grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|SUMMARY: |==[0-9]+== ?ERROR' "$1"
}

keep_artifacts() {
  local f n=0
  mkdir -p "$KEEP"
  for f in "$T"/artifacts/*; do
    [ -e "$f" ] || continue
    cp "$f" "$KEEP/"
    echo "  reproducer: $KEEP/$(basename "$f")   (run: $FUZZER $KEEP/$(basename "$f"))"
    n=$((n + 1))
  done
  [ $n -gt 0 ] || echo "  (no artifact was written; see the log above)"
}

# ---- 1. regressions ------------------------------------------------------
for f in "$HERE"/regressions/*; do
  [ -f "$f" ] || continue
  case "$f" in *.md|*.txt) continue ;; esac
  if "$FUZZER" "${FLAGS[@]}" "$f" >"$T/reg.log" 2>&1 && ! sanitizer_report "$T/reg.log"; then
    echo "PASS  regression $(basename "$f")"
    pass=$((pass + 1))
  else
    echo "FAIL  regression $(basename "$f"):"
    grep -aE 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$T/reg.log" | head -20 | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done

# ---- 2. seeds and fuzzing -----------------------------------------------
nseeds=0
if [ -d "$NODE" ]; then
  for m in "$NODE"/*/model.onnx; do
    [ -f "$m" ] || continue
    cp "$m" "$T/seeds/$(basename "$(dirname "$m")").onnx"
    nseeds=$((nseeds + 1))
  done
fi
[ $nseeds -gt 0 ] || echo "note: no seed models in $NODE (libonnx-testdata missing): fuzzing from scratch"

if [ "$SECONDS_TO_RUN" -le 0 ]; then
  what="every seed once ($nseeds seeds)"
  "$FUZZER" "${FLAGS[@]}" -runs=0 "$T/corpus" "$T/seeds" >"$T/fuzz.log" 2>&1
else
  what="fuzzing for $SECONDS_TO_RUN s from $nseeds seeds"
  "$FUZZER" "${FLAGS[@]}" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 "$T/corpus" "$T/seeds" \
    >"$T/fuzz.log" 2>&1
fi
rc=$?
if [ $rc -eq 0 ] && ! sanitizer_report "$T/fuzz.log"; then
  echo "PASS  $what: $(grep -aE '^(Done|#[0-9]+[[:space:]]+(DONE|INITED))' "$T/fuzz.log" | tail -1)"
  pass=$((pass + 1))
else
  echo "FAIL  $what (exit $rc):"
  grep -aE 'ERROR|SUMMARY|runtime error|Test unit written|#[0-9]+ 0x' "$T/fuzz.log" | head -40 | sed 's/^/    /'
  keep_artifacts
  cp "$T/fuzz.log" "$KEEP/fuzz.log" 2>/dev/null && echo "  full log: $KEEP/fuzz.log"
  fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
