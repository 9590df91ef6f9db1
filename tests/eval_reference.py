#!/usr/bin/env python3
"""octet eval against reference numbers.

detect: `octet eval` with the YOLO txt labels of coco128 val2017 (128
images; letterbox 640 top-left, pad 114, RGB/255, conf 0.001) must land
within 0.005 of the numbers measured with ONNX Runtime and an independent
evaluator: yolov10n mAP50-95 0.421 / mAP50 0.579, yolov5n (NMS IoU 0.6)
0.345 / 0.542.

classify: `octet eval mobilenetv2-12 --task classify` top-1 on
imagenet500 must equal ONNX Runtime's top-1 on the same preprocessed inputs
(each image through `octet preprocess --preset imagenet`), and top-5 too.

Slow on the reference kernels (detect: a few minutes per model). Assets come
from OCTET_SHARED (default: the `shared` folder beside the repository);
missing assets skip (exit 77). Ends with "N passed, N failed, N skipped".
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("OCTET_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
REF_TOL = 0.005

DETECT = {
    "yolov10n": ("models/yolov10n/yolov10n.onnx", ["--decoder", "yolov10"], 0.421, 0.579),
    "yolov5n": ("models/yolov5n/yolov5n.onnx", ["--decoder", "yolov5", "--iou", "0.6"], 0.345, 0.542),
}


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.strip()}"
    return json.loads(p.stdout), None


def check_detect(octet, names, threads):
    val = os.path.join(SHARED, "data", "coco128", "val2017")
    results = []
    for name in names:
        path, extra, r_map, r_map50 = DETECT[name]
        model = os.path.join(SHARED, path)
        if not os.path.exists(model) or not os.path.isdir(os.path.join(val, "labels")):
            print(f"SKIP {name}: {model} or {val}/labels is missing")
            results.append(None)
            continue
        cmd = [octet, "eval", model, "--images", os.path.join(val, "images"), "--labels",
               os.path.join(val, "labels"), "--json", "--quiet"] + extra
        if threads:
            cmd += ["--threads", str(threads)]
        rep, err = run_json(cmd)
        if err:
            print(f"FAIL {name}: {err}")
            results.append(False)
            continue
        ok = (rep["images"] == 128 and abs(rep["map50_95"] - r_map) <= REF_TOL
              and abs(rep["map50"] - r_map50) <= REF_TOL)
        print(f"{'PASS' if ok else 'FAIL'} {name}: mAP50-95 {rep['map50_95']:.4f} mAP50 {rep['map50']:.4f}, "
              f"reference {r_map:.3f} / {r_map50:.3f} ({rep['seconds']:.0f} s)")
        results.append(ok)
    return results


def check_classify(octet, count, threads):
    import numpy as np
    try:
        import onnxruntime as ort
    except ImportError:
        print("SKIP mobilenetv2: onnxruntime is not installed")
        return [None]
    model = os.path.join(SHARED, "models", "mobilenetv2", "mobilenetv2-12.onnx")
    root = os.path.join(SHARED, "data", "imagenet500")
    if not os.path.exists(model) or not os.path.isdir(os.path.join(root, "images")):
        print(f"SKIP mobilenetv2: {model} or {root} is missing")
        return [None]
    synsets = [l.split()[0] for l in open(os.path.join(root, "synsets.txt")) if l.strip()]
    files = sorted(f for f in os.listdir(os.path.join(root, "images"))
                   if f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")))
    if count:
        files = files[:count]
    cmd = [octet, "eval", model, "--task", "classify", "--images", os.path.join(root, "images"), "--labels",
           os.path.join(root, "synsets.txt"), "--json", "--quiet"]
    if count:
        cmd += ["--count", str(count)]
    if threads:
        cmd += ["--threads", str(threads)]
    rep, err = run_json(cmd)
    if err:
        print(f"FAIL mobilenetv2: {err}")
        return [False]
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    top1 = top5 = 0
    with tempfile.TemporaryDirectory(prefix="octet-cls-") as tmp:
        x = os.path.join(tmp, "x.npy")
        for f in files:
            p = subprocess.run([octet, "preprocess", os.path.join(root, "images", f), "--preset", "imagenet",
                                "-o", x], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL mobilenetv2: octet preprocess {f}: {p.stderr.strip()}")
                return [False]
            logits = sess.run(None, {iname: np.load(x)})[0].reshape(-1)
            label = synsets.index(f.split("_")[0].split(".")[0])
            order = np.argsort(-logits, kind="stable")
            top1 += int(order[0] == label)
            top5 += int(label in order[:5])
    n = len(files)
    ok = rep["images"] == n and rep["top1_count"] == top1 and rep["top5_count"] == top5
    print(f"{'PASS' if ok else 'FAIL'} mobilenetv2-12 on {n} images: octet top-1 {rep['top1']:.4f} "
          f"({rep['top1_count']}), top-5 {rep['top5']:.4f} ({rep['top5_count']}); ONNX Runtime top-1 "
          f"{top1 / n:.4f} ({top1}), top-5 {top5 / n:.4f} ({top5})")
    return [ok]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--octet", required=True)
    ap.add_argument("--parts", default="detect,classify")
    ap.add_argument("--models", default="yolov10n,yolov5n", help="detection models")
    ap.add_argument("--count", type=int, default=0, help="classify: first N images (0: all 500)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    parts = args.parts.split(",")
    results = []
    if "detect" in parts:
        results += check_detect(args.octet, [m for m in args.models.split(",") if m], args.threads)
    if "classify" in parts:
        results += check_classify(args.octet, args.count, args.threads)
    passed = sum(r is True for r in results)
    failed = sum(r is False for r in results)
    skipped = sum(r is None for r in results)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    return 77 if not passed else 0


if __name__ == "__main__":
    sys.exit(main())
