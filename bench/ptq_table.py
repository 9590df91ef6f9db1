#!/usr/bin/env python3
"""The post-training weight optimisation table: for each model and weight
setting (W8A8 per-channel, W4A8 per-channel, W8A8 per-tensor), a minmax
`compute` plan calibrated on 32 images, and the same plan made with
--ptq bias-correction / cle / adaround / all three, each evaluated with
`octet eval --simulate` on ../shared (coco128 val2017 for the detectors,
imagenet500 for the classifier). Prints the README's Markdown table and the
time each method took (from the plan's "ptq" section), and writes
everything as JSON.

    .venv/bin/python bench/ptq_table.py --octet build/octet --out ptq.json \\
        [--models yolov5n,...] [--adaround-iters 1000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("OCTET_SHARED", os.path.join(HERE, "..", "..", "shared"))

MODELS = {
    "yolov10n": ("yolov10n/yolov10n.onnx", ["--preset", "yolo"], "coco128/train2017/images",
                 ["--task", "detect", "--decoder", "yolov10"]),
    "yolov5n": ("yolov5n/yolov5n.onnx", ["--preset", "yolo"], "coco128/train2017/images",
                ["--task", "detect", "--decoder", "yolov5", "--iou", "0.6"]),
    "mobilenetv2-12": ("mobilenetv2/mobilenetv2-12.onnx", ["--preset", "imagenet", "--shape", "input=1x3x224x224"],
                       "imagenet500/images", ["--task", "classify"]),
}
WEIGHTS = [("W8A8", []), ("W4A8", ["--weight-bits", "4"]), ("W8A8 per-tensor", ["--per-tensor-weights"])]
METHODS = [("round-to-nearest", None), ("bias correction", "bias-correction"), ("CLE", "cle"),
           ("AdaRound", "adaround"), ("all three", "cle,bias-correction,adaround")]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def eval_cmd(args, name, model, plan):
    path, pre, _, task = MODELS[name]
    cmd = [args.octet, "eval", model] + task + pre + ["--json"]
    if "classify" in task:
        cmd += ["--images", os.path.join(SHARED, "data/imagenet500/images"),
                "--labels", os.path.join(SHARED, "data/imagenet500/synsets.txt")]
    else:
        cmd += ["--images", os.path.join(SHARED, "data/coco128/val2017/images"),
                "--coco", os.path.join(SHARED, "data/coco128/val2017/instances.json")]
    if plan:
        cmd += ["--plan", plan, "--simulate"]
    j = json.loads(run(cmd))
    return j["top1"] if "classify" in task else j["map50_95"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="mobilenetv2-12,yolov5n,yolov10n")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--ptq-images", type=int, default=16)
    ap.add_argument("--adaround-iters", type=int, default=1000)
    ap.add_argument("--adaround-batch", type=int, default=256)
    ap.add_argument("--work")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="octet-ptq-")
    res = json.load(open(args.out)) if os.path.exists(args.out) else {}
    for name in args.models.split(","):
        path, pre, calib, _ = MODELS[name]
        model = os.path.join(SHARED, "models", path)
        r = res.setdefault(name, {})
        if "fp32" not in r:
            r["fp32"] = eval_cmd(args, name, model, None)
        for wname, wflags in WEIGHTS:
            for mname, ptq in METHODS:
                key = wname + " / " + mname
                if key in r:
                    continue
                stem = os.path.join(work, "%s_%s_%s" % (name, wname.replace(" ", "_"), mname.replace(" ", "_")))
                cmd = [args.octet, "calibrate", model, "--data", os.path.join(SHARED, "data", calib), "--count",
                       str(args.count), "--method", "minmax", "-q", "-o", stem + ".json"] + pre + wflags
                if ptq:
                    cmd += ["--ptq", ptq, "--ptq-images", str(args.ptq_images), "--adaround-iters",
                            str(args.adaround_iters), "--adaround-batch", str(args.adaround_batch)]
                t0 = time.time()
                run(cmd)
                wall = time.time() - t0
                plan = json.load(open(stem + ".json"))
                m = plan["model"].get("path") or model
                score = eval_cmd(args, name, m, stem + ".json")
                r[key] = {"score": score, "calibrate_s": wall, "ptq": {k: v for k, v in plan.get("ptq", {}).items()
                                                                     if k != "layers"}}
                if "layers" in plan.get("ptq", {}):
                    L = plan["ptq"]["layers"]
                    r[key]["ptq"]["adarounded"] = sum(1 for l in L if l["adaround"])
                    r[key]["ptq"]["layers"] = len(L)
                print("%-15s %-35s %.4f  (%.0f s)" % (name, key, score, wall), flush=True)
                json.dump(res, open(args.out, "w"), indent=1)
    json.dump(res, open(args.out, "w"), indent=1)
    metric = {"mobilenetv2-12": "top-1, imagenet500", "yolov5n": "mAP50-95, coco128 val",
              "yolov10n": "mAP50-95, coco128 val"}
    print("\n| model (metric) | FP32 | weights | " + " | ".join(m for m, _ in METHODS) + " |")
    print("|---|---|---|" + "---|" * len(METHODS))
    for name in res:
        for wname, _ in WEIGHTS:
            cells = []
            for mname, _ in METHODS:
                v = res[name].get(wname + " / " + mname)
                cells.append("%.3f" % v["score"] if v else "-")
            print("| %s (%s) | %.3f | %s | %s |" % (name, metric.get(name, ""), res[name]["fp32"], wname,
                                                   " | ".join(cells)))
    print("\nTime (s) of `octet calibrate` with each method (calibration included):")
    for name in res:
        for wname, _ in WEIGHTS:
            print("%s %s: " % (name, wname) + ", ".join(
                "%s %.0f" % (mname, res[name][wname + " / " + mname]["calibrate_s"])
                for mname, _ in METHODS if wname + " / " + mname in res[name]))


if __name__ == "__main__":
    main()
