#!/usr/bin/env python3
"""octet vs ONNX Runtime, side by side on the same machine in one run.

For each model: R rounds, each running `octet bench` and then ONNX Runtime
(bench/ort_bench.py) in fresh processes with the same thread count, inputs
of the same shape and `iters` timed runs; rounds interleave the two so that
load on a shared machine hits both alike. The medians over all rounds are
compared as a ratio (octet / ORT: below 1.0 means octet is faster).

  .venv/bin/python bench/peer_bench.py [--threads 2] [--rounds 3] [--iters 10]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("OCTET_SHARED", os.path.join(ROOT, "..", "shared"))

MODELS = [
    ("yolov10n", "models/yolov10n/yolov10n.onnx", "images=1x3x640x640"),
    # ONNX Runtime's own QDQ quantization of it (int8 Q/DQ around every activation)
    ("yolov10n Q/DQ (ORT quantizer)", "models/yolov10n/yolov10n-qdq-ort.onnx", "images=1x3x640x640"),
    ("yolov5n", "models/yolov5n/yolov5n.onnx", "images=1x3x640x640"),
    ("mobilenetv2-12", "models/mobilenetv2/mobilenetv2-12.onnx", "input=1x3x224x224"),
    ("PP-OCRv4 det", "models/ppocr/ch_PP-OCRv4_det_infer.onnx", "x=1x3x640x640"),
    ("PP-OCRv4 rec", "models/ppocr/ch_PP-OCRv4_rec_infer.onnx", "x=1x3x48x320"),
]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    fl = line.split(":", 1)[1].split()
                    keep = [x for x in fl if x.startswith(("avx", "amx", "fma", "f16c"))]
                    return " ".join(sorted(set(keep)))
    except OSError:
        pass
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", default=os.path.join(ROOT, "build", "octet"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--only", default=None, help="substring of the model names to run")
    a = ap.parse_args()
    rows = []
    for name, rel, shape in MODELS:
        if a.only and a.only not in name:
            continue
        path = os.path.join(SHARED, rel)
        if not os.path.exists(path):
            print(f"skip {name}: {path} is missing", file=sys.stderr)
            continue
        o_med, r_med, o_mem, r_mem = [], [], 0.0, 0.0
        for _ in range(a.rounds):
            o = run_json([a.octet, "bench", path, "--shape", shape, "--threads", str(a.threads), "--iters",
                          str(a.iters), "--warmup", "3", "--json"])
            r = run_json([sys.executable, os.path.join(HERE, "ort_bench.py"), path, "--shape", shape, "--threads",
                          str(a.threads), "--iters", str(a.iters), "--warmup", "3"])
            o_med.append(o["median_ms"])
            r_med.append(r["median_ms"])
            o_mem = max(o_mem, o["peak_rss_mb"])
            r_mem = max(r_mem, r["peak_rss_mb"])
        om, rm = statistics.median(o_med), statistics.median(r_med)
        rows.append((name, shape.split("=")[1], om, rm, om / rm, o_mem, r_mem))
        print(f"{name}: octet {om:.1f} ms, ORT {rm:.1f} ms, ratio {om / rm:.2f}", file=sys.stderr)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; flags: {cpu_flags()}")
    print(f"threads {a.threads}, {a.rounds} interleaved rounds x {a.iters} timed runs (3 warm-up) each\n")
    print("| model | input | octet median ms | ORT median ms | ratio octet/ORT | octet peak MiB | ORT peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.2f} | {r[5]:.0f} | {r[6]:.0f} |")


if __name__ == "__main__":
    main()
