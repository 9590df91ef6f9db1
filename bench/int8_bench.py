#!/usr/bin/env python3
"""octet FP32 against octet INT8 (a plan run on the real INT8 kernels), and
the same plan simulated, at 2 threads.

For each model: makes an entropy `compute` plan with `octet calibrate` on 8
images (coco128 train2017 for the detectors, imagenet500 for the
classifier) unless --plans-dir already holds MODEL.json, then times
`octet bench --json` on one real image (random inputs drive some models into
float denormals, which changes FP32 timings by 60x), in interleaved rounds
(fp32, int8, simulated, then again) so that machine load hits all alike.
Prints a Markdown table: the median of the per-round medians, the ratio
int8/fp32 (below 1: INT8 is faster), the fastest single run of each (on a
loaded machine the closest to the idle time) and how many convolutions ran
INT8.

    .venv/bin/python bench/int8_bench.py --octet build/octet
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("OCTET_SHARED", os.path.join(HERE, "..", "..", "shared"))

MODELS = [
    # name, model, preset, calibration folder, benchmark image
    ("yolov10n", "yolov10n/yolov10n.onnx", "yolo", "coco128/train2017/images", "images/bus.jpg"),
    ("yolov5n", "yolov5n/yolov5n.onnx", "yolo", "coco128/train2017/images", "images/bus.jpg"),
    ("mobilenetv2-12", "mobilenetv2/mobilenetv2-12.onnx", "imagenet", "imagenet500/images",
     "imagenet500/images/n04465501_tractor.JPEG"),
]


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr.strip()[-2000:]))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--plans-dir", help="reuse/keep plans here (default: a temporary folder)")
    ap.add_argument("--only", help="comma-separated model names")
    a = ap.parse_args()
    octet = os.path.abspath(a.octet)
    tmp = tempfile.TemporaryDirectory(prefix="octet_int8_bench_")
    plans = a.plans_dir or tmp.name
    os.makedirs(plans, exist_ok=True)
    rows = []
    for name, rel, preset, calib_rel, image_rel in MODELS:
        if a.only and name not in a.only.split(","):
            continue
        model = os.path.join(SHARED, "models", rel)
        image = os.path.join(SHARED, "data", image_rel)
        plan = os.path.join(plans, name + ".json")
        if not os.path.exists(plan):
            src = os.path.join(SHARED, "data", calib_rel)
            calib = os.path.join(tmp.name, name + "_calib")
            os.makedirs(calib, exist_ok=True)
            for f in sorted(os.listdir(src))[:8]:
                os.symlink(os.path.join(src, f), os.path.join(calib, f))
            sh([octet, "calibrate", model, "--data", calib, "--preset", preset, "--count", "8", "--method",
                "entropy", "--scheme", "compute", "--threads", str(a.threads), "-o", plan])
        base = [octet, "bench", model, "--input", image, "--preset", preset, "--threads", str(a.threads),
                "--iters", str(a.iters), "--warmup", "3", "--json"]
        modes = {"fp32": [], "int8": ["--plan", plan], "simulated": ["--plan", plan, "--simulate"]}
        med = {m: [] for m in modes}
        best = {m: float("inf") for m in modes}
        prec = ""
        for _ in range(a.rounds):
            for m, extra in modes.items():
                j = json.loads(sh(base + extra).strip().splitlines()[-1])
                med[m].append(j["median_ms"])
                best[m] = min(best[m], j["min_ms"])
                if m == "int8":
                    prec = j["precision"]
        r = {m: statistics.median(v) for m, v in med.items()}
        rows.append((name, r, prec, best))
        print("%s: %s" % (name, {m: ["%.1f" % x for x in v] for m, v in med.items()}), file=sys.stderr)
    print("| model | fp32 median ms | int8 median ms | int8/fp32 | simulated median ms | fp32 / int8 / simulated "
          "fastest ms | int8 run |")
    print("|---|---|---|---|---|---|---|")
    for name, r, prec, b in rows:
        print("| %s | %.1f | %.1f | %.2f | %.1f | %.1f / %.1f / %.1f | %s |" % (
            name, r["fp32"], r["int8"], r["int8"] / r["fp32"], r["simulated"], b["fp32"], b["int8"],
            b["simulated"], prec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
