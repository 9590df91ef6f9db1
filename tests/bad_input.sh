#!/usr/bin/env bash
# bad_input.sh OCTET_BIN
# Feeds the octet CLI broken and hostile inputs. Each case must end in a
# clean error: exit status 1 or 2 (never 0 when an error is due, never a
# signal), a first stderr line "octet: reason", and no sanitizer report.
# Corrupted-model cases that may still load (bit flips) may also exit 0; what
# matters there is that nothing crashes.
# Needs OCTET_SHARED (default: the `shared` folder beside the repository) for
# the real models and images, libonnx-testdata for small models, and the
# repository's .venv (onnx, numpy) to build a few models at test time; cases
# whose inputs are missing are reported as skipped. Writes only to a
# temporary folder. Ends with "N passed, N failed, N skipped".
set -u
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: bad_input.sh OCTET_BIN" >&2
  exit 2
fi
OCTET=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${OCTET_SHARED:-$(dirname "$REPO")/shared}
PY=${OCT_PYTHON:-$REPO/.venv/bin/python}
NODE=${OCT_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
SANITIZED=${OCT_SANITIZED:-0}
# The sanitizer build is several times slower; bound every command anyway so
# that a hang is reported as a failure instead of stalling ctest.
LIMIT=120
[ "$SANITIZED" = 1 ] && LIMIT=600

T=$(mktemp -d "${TMPDIR:-/tmp}/octet-bad.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0

skip() { echo "SKIP  $1: $2"; skip=$((skip + 1)); }

# check MODE NAME [--stderr-has TEXT] [--stdout-has TEXT]... -- COMMAND...
#   MODE error: exit 1 or 2 with an "octet: " line; ok: exit 0; any: either.
check() {
  local mode=$1 name=$2 want=() want_out=()
  shift 2
  while [ "$1" != "--" ]; do
    [ "$1" = "--stderr-has" ] && want+=("$2")
    [ "$1" = "--stdout-has" ] && want_out+=("$2")
    shift 2
  done
  shift
  local out=$T/out.txt err=$T/err.txt rc why=""
  timeout -k 10 "$LIMIT" "$@" >"$out" 2>"$err" </dev/null
  rc=$?
  local first
  first=$(grep -a -m1 -v '^[[:space:]]*$' "$err")
  if grep -aqE 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL' "$err"; then
    why="sanitizer report: $(grep -a -m1 -E 'SUMMARY|ERROR:|runtime error:' "$err")"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    why="timed out after ${LIMIT} s"
  elif [ $rc -ge 128 ]; then
    why="killed by signal $((rc - 128))"
  elif [ $rc -gt 2 ]; then
    why="exit status $rc (expected 1 or 2)"
  elif [ $rc -eq 0 ] && [ "$mode" = error ]; then
    why="exit 0, an error was expected"
  elif [ $rc -ne 0 ] && [ "$mode" = ok ]; then
    why="exit $rc: $first"
  elif [ $rc -ne 0 ] && [ "${first#octet: }" = "$first" ]; then
    why="exit $rc but stderr does not start with 'octet: ': ${first:-(empty)}"
  else
    local w
    for w in "${want[@]+"${want[@]}"}"; do
      grep -aqiF -- "$w" "$err" || { why="stderr lacks '$w': $first"; break; }
    done
    for w in "${want_out[@]+"${want_out[@]}"}"; do
      grep -aqiF -- "$w" "$out" || { why="stdout lacks '$w'"; break; }
    done
  fi
  if [ -n "$why" ]; then
    echo "FAIL  $name: $why"
    fail=$((fail + 1))
  else
    if [ $rc -eq 0 ]; then echo "PASS  $name (exit 0)"; else echo "PASS  $name (exit $rc: ${first#octet: })"; fi
    pass=$((pass + 1))
  fi
}

# npy FILE DESCR SHAPE BYTES: a NumPy 1.0 file of BYTES zero bytes.
npy() {
  local h="{'descr': '$2', 'fortran_order': False, 'shape': ($3), }"
  local total=$(((10 + ${#h} + 1 + 63) / 64 * 64))
  local len=$((total - 10))
  h=$(printf "%-$((len - 1))s" "$h")
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%s\n' "$h"
    head -c "$4" /dev/zero
  } >"$1"
}

# flip SRC DST SEED: copies SRC and XORs 1-3 bytes at positions drawn from SEED.
flip() {
  cp "$1" "$2"
  local size n i pos old
  size=$(stat -c %s "$1")
  RANDOM=$3
  n=$((RANDOM % 3 + 1))
  for ((i = 0; i < n; i++)); do
    pos=$(((RANDOM * 32768 + RANDOM) % size))
    old=$(od -An -tu1 -j "$pos" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf %02x $(((old ^ (RANDOM % 255 + 1)) & 255)))" |
      dd of="$2" bs=1 seek="$pos" conv=notrunc status=none
  done
}

# ---- files that are not models ------------------------------------------
check error "missing model (info)" -- "$OCTET" info "$T/no-such-model.onnx"
npy "$T/small.npy" '<f4' '1, 4' 16
check error "missing model (run)" -- "$OCTET" run "$T/no-such-model.onnx" --input "$T/small.npy"
: >"$T/empty.onnx"
check error "empty file as model" -- "$OCTET" info "$T/empty.onnx"
check error "empty file as model (run)" -- "$OCTET" run "$T/empty.onnx" --input "$T/small.npy"
printf 'this is not an ONNX model\n' >"$T/text.onnx"
check error "text file as model" -- "$OCTET" info "$T/text.onnx"
head -c 8192 "$(command -v sh)" >"$T/elf.onnx"
check error "executable as model" -- "$OCTET" info "$T/elf.onnx"
check error "folder as model" -- "$OCTET" info "$T"
if [ -f "$SHARED/data/images/bus.jpg" ]; then
  check error "JPEG as model" -- "$OCTET" info "$SHARED/data/images/bus.jpg"
else
  skip "JPEG as model" "$SHARED/data/images/bus.jpg is missing"
fi
check error "unknown command" -- "$OCTET" frobnicate
check error "run without input" -- "$OCTET" run "$T/empty.onnx"

# ---- small node-test models: truncated, bit-flipped, wrong inputs --------
CONV=$NODE/test_conv_with_strides_padding
RELU=$NODE/test_relu
if [ -f "$CONV/model.onnx" ] && [ -f "$RELU/model.onnx" ]; then
  C_IN=("$CONV/test_data_set_0/input_0.pb" "$CONV/test_data_set_0/input_1.pb")
  check ok "conv node model runs (control)" -- "$OCTET" run "$CONV/model.onnx" --input "${C_IN[0]}" --input "${C_IN[1]}"
  size=$(stat -c %s "$CONV/model.onnx")
  for off in 1 2 7 20 40 $((size / 3)) $((size / 2)) $((size * 2 / 3)) $((size - 20)) $((size - 3)) $((size - 1)); do
    head -c "$off" "$CONV/model.onnx" >"$T/conv_cut.onnx"
    check error "conv model cut at $off/$size bytes" -- "$OCTET" run "$T/conv_cut.onnx" --input "${C_IN[0]}" --input "${C_IN[1]}"
  done
  for seed in $(seq 1 20); do
    flip "$CONV/model.onnx" "$T/conv_flip.onnx" "$seed"
    check any "conv model, bytes flipped (seed $seed)" -- "$OCTET" run "$T/conv_flip.onnx" --input "${C_IN[0]}" --input "${C_IN[1]}"
  done
  for seed in $(seq 1 5); do
    flip "${C_IN[0]}" "$T/flip_input.pb" "$seed"
    check any "conv input .pb, bytes flipped (seed $seed)" -- "$OCTET" run "$CONV/model.onnx" --input "$T/flip_input.pb" --input "${C_IN[1]}"
  done
  npy "$T/relu_wrong_shape.npy" '<f4' '2, 2' 16
  check error "relu: input of the wrong shape" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_wrong_shape.npy"
  npy "$T/relu_wrong_dtype.npy" '<i4' '3, 4, 5' 240
  check error "relu: int32 input for a float input" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_wrong_dtype.npy"
  check error "relu: two inputs for a one-input model" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_wrong_dtype.npy" --input "$T/relu_wrong_dtype.npy"
  check error "relu: missing input file" -- "$OCTET" run "$RELU/model.onnx" --input "$T/no-such.npy"
  printf 'not numpy' >"$T/bad.npy"
  check error "relu: .npy that is not NumPy" -- "$OCTET" run "$RELU/model.onnx" --input "$T/bad.npy"
  npy "$T/short.npy" '<f4' '3, 4, 5' 100
  check error "relu: .npy with too little data" -- "$OCTET" run "$RELU/model.onnx" --input "$T/short.npy"
  npy "$T/bigendian.npy" '>f4' '3, 4, 5' 240
  check error "relu: big-endian .npy" -- "$OCTET" run "$RELU/model.onnx" --input "$T/bigendian.npy"
  npy "$T/huge.npy" '<f4' '100000000000, 100000000000' 16
  check error "relu: .npy claiming 10^22 elements" -- "$OCTET" run "$RELU/model.onnx" --input "$T/huge.npy"
  npy "$T/negdim.npy" '<f4' '3, -4, 5' 240
  check error "relu: .npy with a negative dimension" -- "$OCTET" run "$RELU/model.onnx" --input "$T/negdim.npy"
  head -c 10 "$RELU/test_data_set_0/input_0.pb" >"$T/cut.pb"
  check error "relu: truncated .pb input" -- "$OCTET" run "$RELU/model.onnx" --input "$T/cut.pb"
  npy "$T/relu_ok.npy" '<f4' '3, 4, 5' 240
  check error "relu: outputs folder that does not exist" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_ok.npy" --outputs-dir "$T/no/such/dir"
  check error "relu: --shape with a bad value" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_ok.npy" --shape x=3xAx5
  check error "relu: --shape of the wrong rank" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_ok.npy" --shape x=3x4
  check error "relu: --shape naming no input" -- "$OCTET" run "$RELU/model.onnx" --input "$T/relu_ok.npy" --shape nosuch=3x4x5
else
  skip "node-test model cases" "$CONV or $RELU is missing (libonnx-testdata)"
fi

# ---- real models: truncated and bit-flipped -------------------------------
for rel in yolov5n/yolov5n.onnx mobilenetv2/mobilenetv2-12.onnx; do
  m=$SHARED/models/$rel
  if [ ! -f "$m" ]; then
    skip "truncated $rel" "$m is missing"
    continue
  fi
  size=$(stat -c %s "$m")
  for off in 3 100 4096 $((size / 4)) $((size / 2)) $((size - 4096)) $((size - 2)); do
    head -c "$off" "$m" >"$T/cut.onnx"
    check error "$rel cut at $off/$size bytes" -- "$OCTET" info "$T/cut.onnx"
  done
done
MNET=$SHARED/models/mobilenetv2/mobilenetv2-12.onnx
if [ -f "$MNET" ]; then
  npy "$T/mnet_in.npy" '<f4' '1, 3, 224, 224' $((3 * 224 * 224 * 4))
  n=8
  [ "$SANITIZED" = 1 ] && n=3
  for seed in $(seq 101 $((100 + n))); do
    flip "$MNET" "$T/mnet_flip.onnx" "$seed"
    check any "mobilenetv2, bytes flipped (seed $seed)" -- "$OCTET" run "$T/mnet_flip.onnx" --input "$T/mnet_in.npy"
  done
  # Flips in the first kilobytes hit the graph's structure, not weights.
  for seed in $(seq 201 $((200 + n))); do
    head -c 8192 "$MNET" >"$T/head.bin"
    flip "$T/head.bin" "$T/head_flip.bin" "$seed"
    { cat "$T/head_flip.bin"; tail -c +8193 "$MNET"; } >"$T/mnet_flip.onnx"
    check any "mobilenetv2, header bytes flipped (seed $seed)" -- "$OCTET" info "$T/mnet_flip.onnx"
  done
else
  skip "bit-flipped mobilenetv2" "$MNET is missing"
fi

# ---- wrong inputs for a real fixed-shape model ----------------------------
Y10=$SHARED/models/yolov10n/yolov10n.onnx
if [ -f "$Y10" ]; then
  npy "$T/y320.npy" '<f4' '1, 3, 320, 320' $((3 * 320 * 320 * 4))
  check error "yolov10n: 1x3x320x320 input for 1x3x640x640" --stderr-has images -- "$OCTET" run "$Y10" --input "$T/y320.npy"
  npy "$T/y640f8.npy" '<f8' '1, 3, 640, 640' $((3 * 640 * 640 * 8))
  check error "yolov10n: float64 input for float32" -- "$OCTET" run "$Y10" --input "$T/y640f8.npy"
  npy "$T/y3.npy" '<f4' '3, 640, 640' $((3 * 640 * 640 * 4))
  check error "yolov10n: rank-3 input" -- "$OCTET" run "$Y10" --input "$T/y3.npy"
  # info describes what it can and reports shape problems in its output.
  check any "yolov10n: info with a --shape contradicting the model" --stdout-has "fixed to 640" -- "$OCTET" info "$Y10" --shape images=1x3x320x320
else
  skip "yolov10n wrong inputs" "$Y10 is missing"
fi

# ---- images that do not decode -------------------------------------------
BUS=$SHARED/data/images/bus.jpg
if [ -f "$BUS" ] && [ -f "$Y10" ]; then
  head -c 300 "$BUS" >"$T/cut300.jpg"
  head -c $(($(stat -c %s "$BUS") / 2)) "$BUS" >"$T/cuthalf.jpg"
  printf 'plain text, not an image\n' >"$T/text.jpg"
  : >"$T/empty.jpg"
  for f in cut300 cuthalf text empty; do
    check error "image $f.jpg (preprocess)" -- "$OCTET" preprocess "$T/$f.jpg" --preset yolo -o "$T/o.npy"
  done
  check error "image cut300.jpg (run)" -- "$OCTET" run "$Y10" --input "$T/cut300.jpg" --preset yolo
  check error "image text.jpg (run)" -- "$OCTET" run "$Y10" --input "$T/text.jpg" --preset yolo
  check error "image that does not exist" -- "$OCTET" preprocess "$T/nope.jpg" --preset yolo -o "$T/o.npy"
  check error "preprocess into a folder that does not exist" -- "$OCTET" preprocess "$BUS" --preset yolo -o "$T/no/such/o.npy"
  check error "unknown preset" -- "$OCTET" preprocess "$BUS" --preset nosuch -o "$T/o.npy"
  check error "--size 0x0" -- "$OCTET" preprocess "$BUS" --size 0x0 -o "$T/o.npy"
else
  skip "undecodable images" "$BUS or $Y10 is missing"
fi

# ---- dynamic shapes --------------------------------------------------------
DET=$SHARED/models/ppocr/ch_PP-OCRv4_det_infer.onnx
if [ -f "$DET" ]; then
  check ok "ppocr det: info without --shape" -- "$OCTET" info "$DET"
  npy "$T/det.npy" '<f4' '1, 3, 64, 96' $((3 * 64 * 96 * 4))
  check ok "ppocr det: run on a .npy that fixes the shape" -- "$OCTET" run "$DET" --input "$T/det.npy"
  check error "ppocr det: --shape of the wrong rank" -- "$OCTET" run "$DET" --shape x=1x3x64 --input "$T/det.npy"
  check error "ppocr det: --shape disagreeing with the .npy" -- "$OCTET" run "$DET" --shape x=1x3x32x32 --input "$T/det.npy"
  npy "$T/det3.npy" '<f4' '3, 64, 96' $((3 * 64 * 96 * 4))
  check error "ppocr det: rank-3 .npy" -- "$OCTET" run "$DET" --input "$T/det3.npy"
  npy "$T/det_c4.npy" '<f4' '1, 4, 64, 96' $((4 * 64 * 96 * 4))
  check error "ppocr det: 4 channels for 3" -- "$OCTET" run "$DET" --input "$T/det_c4.npy"
  if [ -f "$BUS" ]; then
    check error "ppocr det: image without a size" -- "$OCTET" run "$DET" --input "$BUS"
  fi
else
  skip "dynamic-shape cases" "$DET is missing"
fi

# ---- models built at test time with the onnx package -----------------------
if "$PY" -c 'import onnx, numpy' 2>/dev/null; then
  mkdir -p "$T/py/sub"
  if "$PY" - "$T/py" <<'EOF'; then
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

d = sys.argv[1]
X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
Y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])

def save(name, nodes, inits=(), opset=17):
    g = helper.make_graph(nodes, name, [X], [Y], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    with open(os.path.join(d, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())

save("foobar", [helper.make_node("FooBar", ["X"], ["Y"], name="mystery_node")])
save("foobar_domain", [helper.make_node("Relu", ["X"], ["Y"], name="custom_relu", domain="com.example")])

def external(name, location, offset=None, length=None, dims=(1, 4)):
    w = helper.make_tensor("W", TensorProto.FLOAT, list(dims), vals=[])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = w.external_data.add()
            e.key, e.value = k, str(v)
    save(name, [helper.make_node("Add", ["X", "W"], ["Y"], name="add_w")], [w])

np.arange(4, dtype=np.float32).tofile(os.path.join(d, "w.bin"))
external("ext_ok", "w.bin")
external("ext_dotdot", "../../etc/passwd")
external("ext_abs", "/etc/passwd")
external("ext_sub_dotdot", "sub/../../w.bin")
external("ext_missing", "nosuch.bin")
external("ext_past_end", "w.bin", offset=8, length=16)
external("ext_huge_offset", "w.bin", offset=1 << 62)
external("ext_too_short", "w.bin", dims=(1, 400))
external("ext_dir", "sub")
np.zeros((1, 4), np.float32).tofile(os.path.join(d, "x.bin"))
np.save(os.path.join(d, "x.npy"), np.ones((1, 4), np.float32))
EOF
    P=$T/py
    check error "op FooBar: run" --stderr-has FooBar --stderr-has mystery_node -- "$OCTET" run "$P/foobar.onnx" --input "$P/x.npy"
    check any "op FooBar: info" -- "$OCTET" info "$P/foobar.onnx"
    check error "op in an unknown domain: run" --stderr-has custom_relu -- "$OCTET" run "$P/foobar_domain.onnx" --input "$P/x.npy"
    check ok "external data inside the folder (control)" -- "$OCTET" run "$P/ext_ok.onnx" --input "$P/x.npy"
    for c in ext_dotdot ext_abs ext_sub_dotdot ext_missing ext_past_end ext_huge_offset ext_too_short ext_dir; do
      check error "external data: $c (info)" -- "$OCTET" info "$P/$c.onnx"
      check error "external data: $c (run)" -- "$OCTET" run "$P/$c.onnx" --input "$P/x.npy"
    done
  else
    fail=$((fail + 1))
    echo "FAIL  building the python fixtures failed"
  fi
else
  skip "python-built models (unknown op, external data)" "$PY with onnx and numpy is missing"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
