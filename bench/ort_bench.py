#!/usr/bin/env python3
"""ONNX Runtime's side of the peer benchmark: one model, fixed inputs, JSON out.

Same protocol as `octet bench`: deterministic inputs, warm-up runs, then
timed runs; reports median/p90/min and the process's peak resident memory.
"""
import argparse
import json
import resource
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--shape", action="append", default=[], help="NAME=1x3x640x640")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    shapes = dict(x.split("=", 1) for x in a.shape)
    feeds = {}
    rng = np.random.default_rng(1)
    for i in s.get_inputs():
        if i.name in shapes:
            dims = [int(d) for d in shapes[i.name].split("x")]
        else:
            dims = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = rng.random(dims, dtype=np.float32)
    for _ in range(a.warmup):
        s.run(None, feeds)
    t = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        s.run(None, feeds)
        t.append((time.perf_counter() - t0) * 1e3)
    t.sort()
    print(json.dumps({
        "median_ms": float(np.median(t)), "p90_ms": t[int(np.ceil(0.9 * len(t))) - 1], "min_ms": t[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "ort_version": ort.__version__}))


if __name__ == "__main__":
    main()
