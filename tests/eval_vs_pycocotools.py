#!/usr/bin/env python3
"""octet's COCO mAP against pycocotools, the official evaluator.

For each model, `octet eval MODEL --coco instances.json --dump-detections
FILE --json` scores coco128 val2017 and writes every detection as COCO
results; pycocotools then scores that same file over the same images.
mAP50-95 and mAP50 must agree to 1e-4.

With --check-reference (and all 128 images) the numbers must also land
within 0.005 of the reference measured with ONNX Runtime and an independent
evaluator (letterbox 640 top-left, pad 114, RGB/255, conf 0.001):
yolov10n 0.421 / 0.579, yolov5n (NMS IoU 0.6) 0.345 / 0.542.

--plan NAME=PLAN.json adds a run of yolov10n under a quantization plan;
--calibrate-count N first makes one (`octet calibrate` on the first N images
of coco128 train2017, entropy) and adds its run.

Slow on the reference kernels: a few minutes per model for 128 images. Use
--count N for a quicker partial check (agreement only). Assets come from
OCTET_SHARED (default: the `shared` folder beside the repository); missing
assets or a missing pycocotools skip (exit 77). Ends with
"N passed, N failed, N skipped".
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("OCTET_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
VAL = os.path.join(SHARED, "data", "coco128", "val2017")
TOL = 1e-4
REF_TOL = 0.005

# name: (model file, extra octet args, reference mAP50-95, mAP50)
MODELS = {
    "yolov10n": ("models/yolov10n/yolov10n.onnx", ["--decoder", "yolov10"], 0.421, 0.579),
    "yolov5n": ("models/yolov5n/yolov5n.onnx", ["--decoder", "yolov5", "--iou", "0.6"], 0.345, 0.542),
}


def pycoco_score(instances, dets_path, image_ids):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(instances)
        # loadRes copies these; coco128's file has neither.
        gt.dataset.setdefault("info", {})
        gt.dataset.setdefault("licenses", [])
        with open(dets_path) as f:
            dets = json.load(f)
        if not dets:
            return 0.0, 0.0
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, "bbox")
        ev.params.imgIds = image_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0]), float(ev.stats[1])


def evaluated_ids(instances, count):
    """The image ids octet scores: files listed in the JSON, by name, first count."""
    with open(instances) as f:
        data = json.load(f)
    by_name = {os.path.basename(im["file_name"]): im["id"] for im in data["images"]}
    files = sorted(n for n in os.listdir(os.path.join(VAL, "images")) if n in by_name)
    if count:
        files = files[:count]
    return [by_name[n] for n in files]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--octet", required=True)
    ap.add_argument("--models", default="yolov10n,yolov5n")
    ap.add_argument("--count", type=int, default=0, help="first N images (0: all 128)")
    ap.add_argument("--check-reference", action="store_true")
    ap.add_argument("--plan", action="append", default=[], help="NAME=PLAN.json, run on yolov10n")
    ap.add_argument("--calibrate-count", type=int, default=0,
                    help="calibrate a yolov10n plan on N train2017 images and check it too")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    instances = os.path.join(VAL, "instances.json")
    try:
        import pycocotools  # noqa: F401
    except ImportError:
        print("SKIPPED: pycocotools is not installed (pip install pycocotools)")
        print("0 passed, 0 failed, 1 skipped")
        return 77
    if not os.path.exists(instances):
        print(f"SKIPPED: {instances} is missing (set OCTET_SHARED)")
        print("0 passed, 0 failed, 1 skipped")
        return 77

    runs = []
    for name in [m for m in args.models.split(",") if m]:
        if name not in MODELS:
            print(f"unknown model {name} (known: {', '.join(MODELS)})")
            return 2
        path, extra, r_map, r_map50 = MODELS[name]
        runs.append((name, path, extra, r_map, r_map50))
    for spec in args.plan:
        label, _, plan = spec.partition("=")
        path, extra, _, _ = MODELS["yolov10n"]
        runs.append((f"yolov10n+{label}", path, extra + ["--plan", plan], None, None))

    tmp_plan = None
    if args.calibrate_count:
        train = os.path.join(SHARED, "data", "coco128", "train2017", "images")
        model = os.path.join(SHARED, MODELS["yolov10n"][0])
        if os.path.isdir(train) and os.path.exists(model):
            fd, tmp_plan = tempfile.mkstemp(prefix="octet-plan-", suffix=".json")
            os.close(fd)
            p = subprocess.run([args.octet, "calibrate", model, "--data", train, "--count", str(args.calibrate_count),
                                "--preset", "yolo", "--quiet", "-o", tmp_plan], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL calibrate: exit {p.returncode}: {p.stderr.strip()}")
                os.unlink(tmp_plan)
                print("0 passed, 1 failed, 0 skipped")
                return 1
            path, extra, _, _ = MODELS["yolov10n"]
            runs.append((f"yolov10n+entropy{args.calibrate_count}", path, extra + ["--plan", tmp_plan], None, None))

    ids = evaluated_ids(instances, args.count)
    full = len(ids) == 128
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="octet-eval-") as tmp:
        for name, path, extra, r_map, r_map50 in runs:
            model = os.path.join(SHARED, path)
            if not os.path.exists(model):
                print(f"SKIP {name}: {model} is missing")
                skipped += 1
                continue
            dump = os.path.join(tmp, name + ".json")
            cmd = [args.octet, "eval", model, "--images", os.path.join(VAL, "images"), "--coco", instances,
                   "--dump-detections", dump, "--json", "--quiet"] + extra
            if args.count:
                cmd += ["--count", str(args.count)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL {name}: octet eval exited {p.returncode}: {p.stderr.strip()}")
                failed += 1
                continue
            rep = json.loads(p.stdout)
            o_map, o_map50 = rep["map50_95"], rep["map50"]
            c_map, c_map50 = pycoco_score(instances, dump, ids)
            ok = abs(o_map - c_map) <= TOL and abs(o_map50 - c_map50) <= TOL and rep["images"] == len(ids)
            print(f"{'PASS' if ok else 'FAIL'} {name} vs pycocotools ({rep['images']} images, {rep['seconds']:.0f} s): "
                  f"octet {o_map:.6f} / {o_map50:.6f}, pycocotools {c_map:.6f} / {c_map50:.6f} (mAP50-95 / mAP50)")
            passed += ok
            failed += not ok
            if args.check_reference and r_map is not None:
                if not full:
                    print(f"SKIP {name} reference: needs all 128 images")
                    skipped += 1
                    continue
                ok = abs(o_map - r_map) <= REF_TOL and abs(o_map50 - r_map50) <= REF_TOL
                print(f"{'PASS' if ok else 'FAIL'} {name} vs reference: {o_map:.4f} / {o_map50:.4f}, "
                      f"reference {r_map:.3f} / {r_map50:.3f} (tolerance {REF_TOL})")
                passed += ok
                failed += not ok
    if tmp_plan:
        os.unlink(tmp_plan)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    return 77 if not passed else 0


if __name__ == "__main__":
    sys.exit(main())
