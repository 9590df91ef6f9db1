#!/usr/bin/env bash
# octet calibrate / export / import-cache on bad input: every case must exit
# non-zero with a one-line "octet: ..." reason and no crash; plus the good
# paths they guard (a skipped unreadable file, a cache round trip). Uses two
# tiny models of the ONNX test suite and .npy calibration data made here.
# Usage: calib_cli.sh OCTET_BIN
set -u
OCTET=$1
ND=${OCT_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
A=$ND/test_relu/model.onnx
B=$ND/test_sigmoid/model.onnx
if [ ! -f "$A" ] || [ ! -f "$B" ]; then
  echo "SKIPPED: $A or $B missing (libonnx-testdata)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
# writes a float32 .npy of shape 3x4x5: 60 values cycling through a few
# floats picked by the seed (octal escapes: printf has no portable \x)
npy() {
  printf '\223NUMPY\001\000\166\000' > "$1"
  printf '%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 5), }" >> "$1"
  local vals=('\000\000\300\077' '\000\000\000\100' '\000\000\000\277' '\000\000\040\101')
  for i in $(seq 0 59); do printf "${vals[$(( (i + $2) % 4 ))]}" >> "$1"; done
}
expect_fail() { # name, then the command
  local name=$1; shift
  "$@" > "$T/out" 2> "$T/err"; rc=$?
  if [ $rc -ge 1 ] && [ $rc -le 2 ] && grep -q '^octet: ' "$T/err" && ! grep -qE 'AddressSanitizer|runtime error:' "$T/err"; then
    echo "PASS $name: $(grep -m1 '^octet: ' "$T/err" | cut -c1-140)"; pass=$((pass + 1))
  else
    echo "FAIL $name: exit $rc: $(head -c 300 "$T/err")"; fail=$((fail + 1))
  fi
}
expect_ok() {
  local name=$1; shift
  if "$@" > "$T/out" 2> "$T/err"; then echo "PASS $name"; pass=$((pass + 1))
  else echo "FAIL $name: $(head -c 300 "$T/err")"; fail=$((fail + 1)); fi
}
mkdir -p "$T/empty" "$T/bad" "$T/good"
echo "not an image" > "$T/bad/a.jpg"
head -c 100 /dev/urandom > "$T/bad/b.png"
for i in 1 2 3; do npy "$T/good/s$i.npy" $i; done
cp "$T/bad/a.jpg" "$T/good/zz_unreadable.jpg"

expect_fail "empty calibration folder" "$OCTET" calibrate "$A" --data "$T/empty" -o "$T/p.json"
expect_fail "missing calibration folder" "$OCTET" calibrate "$A" --data "$T/nope" -o "$T/p.json"
expect_fail "only unreadable files" "$OCTET" calibrate "$A" --data "$T/bad" --shape x=3x4x5 -o "$T/p.json"
expect_fail "--count above what exists" "$OCTET" calibrate "$A" --data "$T/good" --count 50 -o "$T/p.json"
expect_fail "unknown method" "$OCTET" calibrate "$A" --data "$T/good" --method kl -o "$T/p.json"
expect_fail "unknown scheme" "$OCTET" calibrate "$A" --data "$T/good" --scheme most -o "$T/p.json"
expect_ok "an unreadable file is skipped" "$OCTET" calibrate "$A" --data "$T/good" --method entropy --scheme all -o "$T/a.json"
if grep -q "1 skipped" "$T/out"; then echo "PASS skipped file counted"; pass=$((pass + 1));
else echo "FAIL skipped file not counted: $(cat "$T/out")"; fail=$((fail + 1)); fi
npy "$T/x.npy" 5
expect_ok "run with the plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/a.json"
expect_fail "plan from another model" "$OCTET" run "$B" --input "$T/x.npy" --plan "$T/a.json"
head -c 200 "$T/a.json" > "$T/trunc.json"
expect_fail "truncated plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/trunc.json"
sed 's/"int8"/"int7"/' "$T/a.json" > "$T/prec.json"
expect_fail "unknown precision in plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/prec.json"
sed '0,/"scale": [^,]*/s//"scale": -1/' "$T/a.json" > "$T/neg.json"
expect_fail "negative scale in plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/neg.json"
expect_fail "missing plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/none.json"
expect_ok "export a TensorRT cache" "$OCTET" export "$A" --plan "$T/a.json" --trt-cache "$T/c.cache"
expect_ok "import it back" "$OCTET" import-cache "$A" --trt-cache "$T/c.cache" -o "$T/back.json"
printf 'TRT-8601-EntropyCalibration2\nx: zzzz\n' > "$T/bad.cache"
expect_fail "corrupt cache" "$OCTET" import-cache "$A" --trt-cache "$T/bad.cache" -o "$T/b.json"
printf 'hello\n' > "$T/bad2.cache"
expect_fail "cache without header" "$OCTET" import-cache "$A" --trt-cache "$T/bad2.cache" -o "$T/b.json"
printf 'TRT-8601-EntropyCalibration2\nnot_a_tensor: 3c010a14\n' > "$T/bad3.cache"
expect_fail "cache naming an unknown tensor" "$OCTET" import-cache "$A" --trt-cache "$T/bad3.cache" -o "$T/b.json"
# weight widths: 4 and 6 go into the plan and run; others are refused by
# the CLI, the plan loader and tune (with --plan the plan decides)
expect_fail "--weight-bits 5" "$OCTET" calibrate "$A" --data "$T/good" --weight-bits 5 -o "$T/w.json"
expect_fail "--weight-bits 4x" "$OCTET" calibrate "$A" --data "$T/good" --weight-bits 4x -o "$T/w.json"
expect_ok "--weight-bits 4" "$OCTET" calibrate "$A" --data "$T/good" --scheme all --weight-bits 4 -o "$T/w4.json"
if grep -q '"weight_bits": 4$' "$T/w4.json"; then echo "PASS weight_bits 4 in the plan"; pass=$((pass + 1));
else echo "FAIL weight_bits 4 not in the plan: $(grep weight_bits "$T/w4.json")"; fail=$((fail + 1)); fi
expect_ok "--weight-bits 6" "$OCTET" calibrate "$A" --data "$T/good" --weight-bits 6 -o "$T/w6.json"
expect_ok "--weight-bits 7" "$OCTET" calibrate "$A" --data "$T/good" --weight-bits 7 -o "$T/w7.json"
expect_ok "run a 7-bit plan on the INT8 kernels" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/w7.json"
expect_ok "run a 4-bit plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/w4.json" --simulate
expect_ok "export a 4-bit plan" "$OCTET" export "$A" --plan "$T/w4.json" --qdq "$T/w4.onnx"
sed 's/"weight_bits": 4/"weight_bits": 5/' "$T/w4.json" > "$T/w5.json"
expect_fail "weight_bits 5 in a plan" "$OCTET" run "$A" --input "$T/x.npy" --plan "$T/w5.json"
expect_fail "tune --weight-bits 3" "$OCTET" tune "$A" --data "$T/good" --images "$T/good" --target 'sqnr>=30' \
  --weight-bits 3 -o "$T/t.json"
expect_fail "tune --weight-bits with --plan" "$OCTET" tune "$A" --data "$T/good" --images "$T/good" \
  --target 'sqnr>=30' --plan "$T/w4.json" --weight-bits 4 -o "$T/t.json"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
