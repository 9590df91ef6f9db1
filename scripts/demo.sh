#!/usr/bin/env bash
# Sets up, builds and runs octet's main job on the default model:
#   octet info + octet run on YOLOv10n with bus.jpg.
# Models and images come from $OCTET_SHARED (default: ../shared beside the
# repository). Point it elsewhere, or pass MODEL and IMAGE:
#   scripts/demo.sh [MODEL.onnx IMAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
SHARED=${OCTET_SHARED:-../shared}
MODEL=${1:-$SHARED/models/yolov10n/yolov10n.onnx}
IMAGE=${2:-$SHARED/data/images/bus.jpg}
if [ ! -f "$MODEL" ] || [ ! -f "$IMAGE" ]; then
  echo "demo: $MODEL or $IMAGE is missing."
  echo "demo: the default model and image live in ../shared (see its README); set OCTET_SHARED=/path/to/shared"
  echo "demo: or run: scripts/demo.sh path/to/model.onnx path/to/image.jpg"
  exit 1
fi
mkdir -p out
set -x
./build/octet info "$MODEL"
./build/octet run "$MODEL" --input "$IMAGE" --preset yolo -o out/output0.npy
