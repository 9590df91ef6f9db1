#!/usr/bin/env bash
# octet's main job on the default model, YOLOv10n on coco128:
#   1. calibrate pure INT8 (every tensor, TensorRT's pure-INT8 mode)
#   2. evaluate FP32 and pure INT8 (COCO mAP on coco128 val2017)
#   3. analyze the pure-INT8 plan: what breaks and why (diagnosis, report)
#   4. tune: the smallest mixed-precision plan within 1% of FP32's mAP50-95,
#      with its exports (Q/DQ ONNX, TensorRT cache, trtexec flags)
#   5. print the FP32 / pure INT8 / tuned table
# Outputs go to out/. Assets come from $OCTET_SHARED (default ../shared):
#   models/yolov10n/yolov10n.onnx, data/coco128/{train2017,val2017}.
# DEMO_COUNT=N uses N calibration and N evaluation images (default 128).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
SHARED=${OCTET_SHARED:-../shared}
MODEL=$SHARED/models/yolov10n/yolov10n.onnx
CALIB=$SHARED/data/coco128/train2017/images
VAL=$SHARED/data/coco128/val2017
N=${DEMO_COUNT:-128}
for need in "$MODEL" "$CALIB" "$VAL/images" "$VAL/labels"; do
  if [ ! -e "$need" ]; then
    echo "demo: $need is missing."
    echo "demo: the main job needs ../shared (see its README): the YOLOv10n model and coco128"
    echo "demo: (train2017 images to calibrate, val2017 images and labels to evaluate)."
    echo "demo: set OCTET_SHARED=/path/to/shared, or run the steps on your own model and images:"
    echo "demo:   octet calibrate MODEL --data DIR -o plan.json; octet analyze MODEL --plan plan.json --data DIR;"
    echo "demo:   octet tune MODEL --data DIR --images DIR [--labels DIR] --target 'map50_95>=0.99*fp32' -o tuned.json"
    exit 1
  fi
done
mkdir -p out
OCTET=./build/octet
EVAL=(--images "$VAL/images" --labels "$VAL/labels" --count "$N" --quiet --json)
map() { sed -n 's/.*"map50_95": \([0-9.]*\).*/\1/p' | head -1; }

echo "== 1. calibrate: pure INT8 (--scheme all), entropy, $N images"
$OCTET calibrate "$MODEL" --data "$CALIB" --count "$N" --preset yolo --method entropy --scheme all \
  -o out/yolov10n-int8.json --quiet
echo "== 2. evaluate FP32 and pure INT8 on $N coco128 val2017 images"
fp32=$($OCTET eval "$MODEL" "${EVAL[@]}" | map)
int8=$($OCTET eval "$MODEL" --plan out/yolov10n-int8.json --simulate "${EVAL[@]}" | map)
echo "FP32 mAP50-95 $fp32, pure INT8 mAP50-95 $int8"
echo "== 3. analyze the pure-INT8 plan (8 images): why it breaks"
$OCTET analyze "$MODEL" --plan out/yolov10n-int8.json --data "$VAL/images" --count 8 --preset yolo \
  --report out/yolov10n-int8-analysis.html -o out/yolov10n-int8-analysis.json
echo "== 4. tune: smallest mixed-precision plan with mAP50-95 >= 0.99 x FP32"
set +e
$OCTET tune "$MODEL" --data "$CALIB" --count "$N" --images "$VAL/images" --labels "$VAL/labels" \
  --eval-count "$N" --max-evals 8 --target 'map50_95>=0.99*fp32' -o out/yolov10n-tuned.json \
  --report out/yolov10n-tuned.html --json-out out/yolov10n-tuned-analysis.json \
  --qdq out/yolov10n-tuned-qdq.onnx --trt-cache out/yolov10n-tuned.cache | tee out/yolov10n-tune.log
rc=${PIPESTATUS[0]}
set -e
tuned=$($OCTET eval "$MODEL" --plan out/yolov10n-tuned.json --simulate "${EVAL[@]}" | map)
real=$($OCTET eval "$MODEL" --plan out/yolov10n-tuned.json "${EVAL[@]}" | map)
outside=$(sed -n 's/.* \([0-9.]*%\) of FLOPs outside INT8$/\1/p' out/yolov10n-tune.log | tail -1)
median() { sed -n 's/^median *\([0-9.]*\) ms.*/\1/p'; }
IMG=$(ls "$VAL/images" | head -1)
lat32=$($OCTET bench "$MODEL" --threads 2 --iters 10 --input "$VAL/images/$IMG" | median)
lat8=$($OCTET bench "$MODEL" --threads 2 --iters 10 --input "$VAL/images/$IMG" --plan out/yolov10n-tuned.json | median)
echo "== 5. result (coco128 val2017, $N images, mAP50-95; latency: octet bench, 2 threads, median)"
printf '| %-52s | %-8s | %-10s |\n' "plan" "mAP50-95" "latency ms" \
  "----------------------------------------------------" "--------" "----------" \
  "FP32" "$fp32" "$lat32" \
  "pure INT8 (entropy, scheme all), simulated" "$int8" "" \
  "tuned ($outside of FLOPs outside INT8), simulated" "$tuned" "" \
  "tuned, real INT8 kernels (octet run/eval --plan)" "$real" "$lat8"
echo "trtexec flags for the tuned plan:"
$OCTET export "$MODEL" --plan out/yolov10n-tuned.json --trtexec-flags | cut -c1-400
echo "reports: out/yolov10n-int8-analysis.html, out/yolov10n-tuned.html"
case $rc in
  0) echo "demo: the tuned plan meets the target" ;;
  3) echo "demo: tune did not reach the target within 8 evaluations; the best plan found is out/yolov10n-tuned.json" ;;
  *) echo "demo: tune failed (exit $rc)"; exit $rc ;;
esac
