#!/usr/bin/env bash
# eval_cli.sh OCTET_BIN
# `octet eval` and `octet detect` end to end on a few images: missing label
# files counted and reported, malformed or out-of-range label lines refused
# with file:line, an unknown decoder, an output that does not fit the
# decoder, the label-free FP32-vs-FP32 fidelity (mAP 1, agreement 1, SQNR
# inf), `detect --json` and the drawn image. About a minute on the reference
# kernels. Needs OCTET_SHARED (default: the `shared` folder beside the
# repository) and python3 for JSON checks; skips (77) when they are missing.
# Writes only to a temporary folder. Ends with "N passed, N failed, N skipped".
set -u
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: eval_cli.sh OCTET_BIN" >&2
  exit 2
fi
OCTET=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${OCTET_SHARED:-$(dirname "$REPO")/shared}
PY=${OCT_PYTHON:-python3}
[ -x "$PY" ] || PY=python3
V10=$SHARED/models/yolov10n/yolov10n.onnx
MNV2=$SHARED/models/mobilenetv2/mobilenetv2-12.onnx
VAL=$SHARED/data/coco128/val2017
NAMES=$SHARED/data/coco128/coco.names
IMNET=$SHARED/data/imagenet500
for p in "$V10" "$MNV2" "$VAL/images" "$VAL/labels" "$NAMES" "$IMNET/synsets.txt"; do
  if [ ! -e "$p" ]; then
    echo "SKIPPED: $p is missing"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
  fi
done
command -v "$PY" >/dev/null || { echo "SKIPPED: no $PY"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/octet-eval-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0
ok() { echo "PASS $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }

# expect NAME STATUS PATTERN -- COMMAND...: exit status and a stderr pattern.
expect() {
  local name=$1 want=$2 pat=$3
  shift 4
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    bad "$name" "exit $rc, expected $want; stderr: $(head -c 300 "$T/err")"
  elif ! grep -q -- "$pat" "$T/err"; then
    bad "$name" "stderr lacks '$pat': $(head -c 300 "$T/err")"
  else
    ok "$name"
  fi
}

# jcheck NAME PYTHON-EXPRESSION: evaluates over r = the JSON in $T/out.
jcheck() {
  if "$PY" -c "import json,sys; r=json.load(open('$T/out')); sys.exit(0 if ($2) else 1)" 2>"$T/pyerr"; then
    ok "$1"
  else
    bad "$1" "$(head -c 300 "$T/out") $(cat "$T/pyerr")"
  fi
}

# A two-image set: the first image's label file is missing.
mkdir -p "$T/set/images" "$T/set/labels"
first=$(ls "$VAL/images" | sort | head -2)
for f in $first; do cp "$VAL/images/$f" "$T/set/images/"; done
second=$(echo "$first" | tail -1)
cp "$VAL/labels/${second%.*}.txt" "$T/set/labels/"

expect "unknown decoder" 2 "unknown decoder 'yolov7'" -- \
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --decoder yolov7
expect "unknown option" 2 "unknown option" -- "$OCTET" eval "$V10" --images "$T/set/images" --bogus
expect "output shape does not fit the decoder" 1 "decoder yolov5 expects.*1x300x6" -- \
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --decoder yolov5 --count 1 --quiet

if "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --names "$NAMES" --json --quiet \
    >"$T/out" 2>"$T/err"; then
  jcheck "missing label file counted" "r['missing_label_files'] == 1 and r['images'] == 2 and r['images_without_objects'] >= 1 and r['map50_95'] > 0"
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --names "$NAMES" --quiet >"$T/out" 2>&1
  grep -q "1 images have no label file" "$T/out" && ok "missing label file reported" ||
    bad "missing label file reported" "$(head -c 300 "$T/out")"
else
  bad "missing label file counted" "$(head -c 300 "$T/err")"
fi

lab="$T/set/labels/${second%.*}.txt"
cp "$lab" "$T/good.txt"
printf '0 0.5 0.5 0.1 0.1\n0 0.5 oops 0.1 0.1\n' >"$lab"
expect "malformed label line" 1 "${second%.*}.txt:2:" -- \
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --names "$NAMES" --quiet
printf '80 0.5 0.5 0.1 0.1\n' >"$lab"
expect "class out of range" 1 "${second%.*}.txt:1: class 80 is not an integer in 0..79" -- \
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --names "$NAMES" --quiet
cp "$T/good.txt" "$lab"

expect "missing plan file" 1 "none.json" -- \
  "$OCTET" eval "$V10" --images "$T/set/images" --labels "$T/set/labels" --plan "$T/none.json" --quiet

# Label-free: FP32 against itself is perfect.
if "$OCTET" eval "$V10" --images "$T/set/images" --count 1 --json --quiet >"$T/out" 2>"$T/err"; then
  jcheck "fidelity detect FP32 vs FP32" "r['mode'] == 'fidelity' and abs(r['map50_95'] - 1) < 1e-9 and r['outputs'][0]['sqnr_db'] == 'inf' and r['outputs'][0]['cosine'] == 1"
else
  bad "fidelity detect FP32 vs FP32" "$(head -c 300 "$T/err")"
fi
mkdir -p "$T/cls"
for f in $(ls "$IMNET/images" | sort | head -3); do cp "$IMNET/images/$f" "$T/cls/"; done
if "$OCTET" eval "$MNV2" --task classify --images "$T/cls" --json --quiet >"$T/out" 2>"$T/err"; then
  jcheck "fidelity classify FP32 vs FP32" "r['mode'] == 'fidelity' and r['top1'] == 1 and r['images'] == 3 and r['outputs'][0]['sqnr_db'] == 'inf'"
else
  bad "fidelity classify FP32 vs FP32" "$(head -c 300 "$T/err")"
fi
"$OCTET" eval "$MNV2" --task classify --images "$T/cls" --quiet >"$T/out" 2>&1
grep -q "inf" "$T/out" && ok "fidelity prints inf" || bad "fidelity prints inf" "$(head -c 400 "$T/out")"
cp "$T/cls/$(ls "$T/cls" | head -1)" "$T/cls/n99999999_nothing.jpg"
expect "unknown wnid" 1 "n99999999" -- \
  "$OCTET" eval "$MNV2" --task classify --images "$T/cls" --labels "$IMNET/synsets.txt" --quiet

# detect: JSON and a drawn image.
img=$SHARED/data/images/bus.jpg
if [ -e "$img" ] && "$OCTET" detect "$V10" "$img" --names "$NAMES" --json -o "$T/bus.png" >"$T/out" 2>"$T/err"; then
  jcheck "detect --json" "len(r['detections']) >= 4 and r['detections'][0]['name'] in ('bus', 'person') and r['width'] == 810"
  [ -s "$T/bus.png" ] && ok "detect draws" || bad "detect draws" "no $T/bus.png"
else
  bad "detect" "$(head -c 300 "$T/err")"
fi
expect "detect: bad output extension" 1 "must end in" -- "$OCTET" detect "$V10" "$img" -o "$T/out.gif"

echo "$PASS passed, $FAIL failed, 0 skipped"
[ "$FAIL" = 0 ]
