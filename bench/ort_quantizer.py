#!/usr/bin/env python3
"""ONNX Runtime's own static quantizer on yolov10n: accuracy, wall time, memory.

The comparison users make before switching to octet. For each calibration
method (MinMax, Entropy, Percentile) this runs
onnxruntime.quantization.quantize_static (QDQ, per-channel symmetric int8
weights, symmetric int8 activations, ORT's default op set) on the first N
images of coco128 train2017, timing it (calibration included) in a fresh
subprocess whose peak RSS is reported, then scores the quantized model and
the FP32 model with ONNX Runtime (CPU EP, --threads threads, graph
optimization 'all') on coco128 val2017 with pycocotools.

Inputs are exactly octet's: every image goes through
`octet preprocess IMAGE --preset yolo` (letterbox 640 top-left, pad 114,
RGB/255). Detections are decoded and mapped back like `octet eval
--decoder yolov10` (conf 0.001, at most 300, boxes divided by the letterbox
scale in float32 and clamped to the image, class k -> k-th category id), so
FP32 reproduces `tests/eval_vs_pycocotools.py`.

Memory and ORT 1.30's CalibMaxIntermediateOutputs: the histogram
calibrators (Entropy, Percentile) ignore it and keep every activation of
every image until the reader is exhausted (about 0.3 GB per image for
yolov10n), and the MinMax calibrator discards each full batch of that many
outputs without merging its range (onnxruntime issue 18893), so with a
calibration count that is a multiple of it, it raises "No data is
collected." This script therefore sets CalibStridedMinMax (--batch, default
8) for every method: quantize_static feeds the calibrator in slices and
merges the ranges or histograms. `--methods minmax-maxio` runs MinMax with
CalibMaxIntermediateOutputs instead, to show the failure. Each quantization
runs under an address-space limit (--mem-limit-gib) so an out-of-memory
shows up as a failed row instead of taking the machine down.

Assets come from OCTET_SHARED (default: the `shared` folder beside the
repository).

    .venv/bin/python bench/ort_quantizer.py --octet build/octet
    .venv/bin/python bench/ort_quantizer.py --json > run.json   # then --table-from run.json
"""
import argparse
import contextlib
import io
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("OCTET_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
MODEL = os.path.join(SHARED, "models", "yolov10n", "yolov10n.onnx")
TRAIN = os.path.join(SHARED, "data", "coco128", "train2017", "images")
VAL = os.path.join(SHARED, "data", "coco128", "val2017")
IMG_EXT = (".jpg", ".jpeg", ".png", ".bmp")
METHODS = {"minmax": "MinMax", "entropy": "Entropy", "percentile": "Percentile",
           "minmax-maxio": "MinMax"}  # the last: with CalibMaxIntermediateOutputs, to show ORT 1.30's bug
CONF = 0.001
MAX_DET = 300
NO_DET_CONF = 0.25


# ---------------------------------------------------------------- inputs

def preprocess(octet, images, cache):
    """octet's input tensor for each image: list of (npy path, orig w, orig h)."""
    os.makedirs(cache, exist_ok=True)
    out = []
    for img in images:
        npy = os.path.join(cache, os.path.splitext(os.path.basename(img))[0] + ".npy")
        meta = npy + ".size"
        if not (os.path.exists(npy) and os.path.exists(meta)):
            p = subprocess.run([octet, "preprocess", img, "--preset", "yolo", "-o", npy],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f"octet preprocess {img}: exit {p.returncode}: {p.stderr.strip()}")
            m = re.search(r":\s*(\d+)x(\d+)\s*->", p.stdout + p.stderr)
            if not m:
                raise SystemExit(f"octet preprocess {img}: cannot read the image size from: {p.stdout + p.stderr}")
            with open(meta, "w") as f:
                f.write(f"{m.group(1)} {m.group(2)}\n")
        with open(meta) as f:
            w, h = (int(v) for v in f.read().split())
        out.append((npy, w, h))
    return out


def list_images(folder, count):
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMG_EXT))
    return [os.path.join(folder, f) for f in (files[:count] if count else files)]


def eval_images(instances, count):
    """The images `octet eval --coco` scores: files listed in the JSON, by name, first count."""
    with open(instances) as f:
        data = json.load(f)
    by_name = {os.path.basename(im["file_name"]): im["id"] for im in data["images"]}
    files = sorted(n for n in os.listdir(os.path.join(VAL, "images")) if n in by_name)
    if count:
        files = files[:count]
    cat_ids = sorted(int(c["id"]) for c in data["categories"])
    return [os.path.join(VAL, "images", n) for n in files], [by_name[n] for n in files], cat_ids


# ---------------------------------------------------------------- quantization (worker)

class Reader:
    """CalibrationDataReader over preprocessed .npy tensors, with set_range for CalibStridedMinMax."""

    def __init__(self, input_name, paths):
        self.name, self.paths = input_name, paths
        self.start, self.end = 0, len(paths)
        self.i = 0

    def __len__(self):
        return len(self.paths)

    def set_range(self, start_index, end_index):
        self.start, self.end = start_index, end_index
        self.i = start_index

    def get_next(self):
        if self.i >= self.end:
            return None
        x = np.load(self.paths[self.i])
        self.i += 1
        return {self.name: x}

    def rewind(self):
        self.i = self.start


def worker(args):
    """One quantize_static run in this process; prints one JSON line."""
    if args.mem_limit_gib > 0:
        lim = int(args.mem_limit_gib * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    with open(args.worker_inputs) as f:
        paths = [l.strip() for l in f if l.strip()]
    input_name = onnx.load(args.worker_model, load_external_data=False).graph.input[0].name
    method = METHODS[args.worker_method]
    extra = {"ActivationSymmetric": True, "WeightSymmetric": True}
    if args.worker_method == "minmax-maxio":
        # ORT 1.30's MinMaxCalibrater.collect_data drops every full batch of
        # CalibMaxIntermediateOutputs outputs without merging its range, so with a
        # calibration count that is a multiple of it, it fails "No data is collected."
        extra["CalibMaxIntermediateOutputs"] = args.batch
    elif args.batch:
        # Feed the calibrator in slices of at most --batch images; ORT merges each
        # slice's ranges (MinMax) or histograms (Entropy, Percentile). The histogram
        # calibrators ignore CalibMaxIntermediateOutputs, and MinMax mishandles it.
        extra["CalibStridedMinMax"] = max(d for d in range(1, args.batch + 1) if len(paths) % d == 0)
    rec = {"method": method + (" + CalibMaxIntermediateOutputs" if "CalibMaxIntermediateOutputs" in extra else ""),
           "images": len(paths), "extra_options": extra}
    t0 = time.perf_counter()
    try:
        quantize_static(args.worker_model, args.worker_out, Reader(input_name, paths),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, calibrate_method=getattr(CalibrationMethod, method),
                        extra_options=extra)
        rec["ok"] = True
    except MemoryError as e:
        rec["ok"] = False
        rec["error"] = f"out of memory (MemoryError under a {args.mem_limit_gib:g} GiB address-space limit) {e}"
    except Exception as e:  # noqa: BLE001 - report any failure as a row
        rec["ok"] = False
        rec["error"] = f"{type(e).__name__}: {e}"
    rec["seconds"] = time.perf_counter() - t0
    rec["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("@@RESULT " + json.dumps(rec), flush=True)
    return 0


def run_quantize(args, model, method, inputs, out_path, log):
    lst = out_path + ".inputs.txt"
    with open(lst, "w") as f:
        f.write("\n".join(inputs) + "\n")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker-method", method, "--worker-model", model,
           "--worker-out", out_path, "--worker-inputs", lst, "--batch", str(args.batch),
           "--mem-limit-gib", str(args.mem_limit_gib)]
    t0 = time.perf_counter()
    with open(log, "w") as lf:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=lf, text=True)
    wall = time.perf_counter() - t0
    rec = None
    for line in p.stdout.splitlines():
        if line.startswith("@@RESULT "):
            rec = json.loads(line[len("@@RESULT "):])
    if rec is None:
        tail = ""
        with contextlib.suppress(OSError), open(log) as lf:
            tail = " ".join(lf.read().strip().splitlines()[-3:])
        sig = f"killed by signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
        rec = {"method": METHODS[method], "images": len(inputs), "extra_options": None, "ok": False, "seconds": wall,
               "peak_rss_mib": None, "error": f"worker {sig}: {tail[-300:]}"}
    rec["process_seconds"] = wall
    return rec


# ---------------------------------------------------------------- evaluation

def session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def decode(out, w, h, cat_ids, image_id):
    """octet's yolov10 decoder and letterbox map-back (src/eval/decode.c), as COCO results."""
    rows = out.reshape(-1, 6).astype(np.float32)
    keep = [r for r in range(rows.shape[0])
            if rows[r, 4] > np.float32(CONF) and 0 <= rows[r, 5] < 1e6]
    keep.sort(key=lambda r: -float(rows[r, 4]))  # stable: ties keep the model's order
    keep = keep[:MAX_DET]
    r = min(640.0 / w, 640.0 / h)
    sx = np.float32(int(math.floor(w * r + 0.5))) / np.float32(w)  # lround; pad 0 (top-left)
    sy = np.float32(int(math.floor(h * r + 0.5))) / np.float32(h)
    W, H = np.float32(w), np.float32(h)
    dets = []
    for k in keep:
        x1, y1, x2, y2, s, c = rows[k]
        cls = int(np.float32(c) + np.float32(0.5))
        if cls < 0 or cls >= len(cat_ids):
            continue
        x1 = min(max(np.float32(x1) / sx, np.float32(0)), W)
        x2 = min(max(np.float32(x2) / sx, np.float32(0)), W)
        y1 = min(max(np.float32(y1) / sy, np.float32(0)), H)
        y2 = min(max(np.float32(y2) / sy, np.float32(0)), H)
        dets.append({"image_id": image_id, "category_id": cat_ids[cls],
                     "bbox": [float(x1), float(y1), float(x2) - float(x1), float(y2) - float(y1)],
                     "score": float(s)})
    return dets


def pycoco_score(instances, dets, image_ids):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    if not dets:
        return 0.0, 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(instances)
        gt.dataset.setdefault("info", {})
        gt.dataset.setdefault("licenses", [])
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, "bbox")
        ev.params.imgIds = image_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0]), float(ev.stats[1])


def evaluate(path, val_inputs, image_ids, cat_ids, instances, threads):
    s = session(path, threads)
    name = s.get_inputs()[0].name
    dets, no_det, times = [], 0, []
    for (npy, w, h), iid in zip(val_inputs, image_ids):
        x = np.load(npy)
        t0 = time.perf_counter()
        out = s.run(None, {name: x})[0]
        times.append(time.perf_counter() - t0)
        d = decode(out[0], w, h, cat_ids, iid)
        no_det += not any(e["score"] > NO_DET_CONF for e in d)
        dets += d
    m, m50 = pycoco_score(instances, dets, image_ids)
    top = max((e["score"] for e in dets), default=0.0)
    return {"map50_95": m, "map50": m50, "no_det_share": no_det / len(image_ids), "detections": len(dets),
            "max_score": top, "median_ms": float(np.median(times)) * 1e3}


# ---------------------------------------------------------------- report

def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(rows):
    lines = ["| method | calibration images | quantize wall time s | peak RSS MiB | mAP50-95 | mAP50 "
             "| images with no detection > 0.25 | ORT median ms/image |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['method']} | {r['images'] if r['images'] is not None else '-'} | "
                         f"{fmt(r.get('seconds'), '.1f')} | {fmt(r.get('peak_rss_mib'), '.0f')} | "
                         f"failed: {r['error']} | | | |")
            continue
        e = r["eval"]
        lines.append(f"| {r['method']} | {r['images'] if r['images'] is not None else '-'} | "
                     f"{fmt(r.get('seconds'), '.1f')} | {fmt(r.get('peak_rss_mib'), '.0f')} | "
                     f"{e['map50_95']:.3f} | {e['map50']:.3f} | {100 * e['no_det_share']:.1f}% | "
                     f"{e['median_ms']:.0f} |")
    return "\n".join(lines)


def print_report(info):
    pre = info["quant_pre_process"]
    if pre.get("used"):
        pp = "yes" if pre.get("symbolic_shape") else f"yes, without symbolic shape inference ({pre.get('why', '')})"
    else:
        pp = "no" + (f" ({pre['error']})" if pre.get("error") else "")
    print(f"ONNX Runtime {info['onnxruntime']}; yolov10n; {info['calibration_images']} calibration images "
          f"(coco128 train2017), {info['eval_images']} evaluation images (coco128 val2017); "
          f"quant_pre_process: {pp}; evaluation with {info['threads']} threads\n")
    print(table(info["rows"]))
    print()
    for r in info["rows"]:
        if r.get("extra_options") is not None:
            print(f"- {r['method']}: extra_options {json.dumps(r['extra_options'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=128, help="calibration images (first N of train2017)")
    ap.add_argument("--eval-count", type=int, default=128, help="evaluation images (first N of val2017)")
    ap.add_argument("--methods", default="minmax,entropy,percentile",
                    help="comma-separated: minmax, entropy, percentile, minmax-maxio")
    ap.add_argument("--threads", type=int, default=2, help="ORT intra-op threads for evaluation")
    ap.add_argument("--octet", default=os.path.join(REPO, "build", "octet"))
    ap.add_argument("--out", help="folder for the quantized models and inputs (default: a temp dir)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    ap.add_argument("--batch", type=int, default=8,
                    help="calibration slice size: CalibStridedMinMax (minmax-maxio: CalibMaxIntermediateOutputs); "
                         "0: one pass over all images")
    ap.add_argument("--mem-limit-gib", type=float, default=16.0,
                    help="address-space limit of each quantize_static process (0: none)")
    ap.add_argument("--no-pre-process", action="store_true", help="skip ORT's quant_pre_process")
    ap.add_argument("--table-from", metavar="JSON", help="print the table of a saved --json run and exit")
    ap.add_argument("--worker-method", help=argparse.SUPPRESS)
    ap.add_argument("--worker-model", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    ap.add_argument("--worker-inputs", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker_method:
        return worker(args)
    if args.table_from:
        with open(args.table_from) as f:
            print_report(json.load(f))
        return 0

    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            ap.error(f"unknown method {m} (known: {', '.join(METHODS)})")
    instances = os.path.join(VAL, "instances.json")
    for need in (MODEL, TRAIN, instances, args.octet):
        if not os.path.exists(need):
            print(f"SKIPPED: {need} is missing (set OCTET_SHARED / --octet)")
            return 77
    try:
        import onnxruntime as ort
        import pycocotools  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: {e}")
        return 77

    tmp = None
    if args.out:
        out_dir = args.out
        os.makedirs(out_dir, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="octet-ortq-")
        out_dir = tmp.name
    say = (lambda *a: print(*a, file=sys.stderr, flush=True))

    t0 = time.perf_counter()
    calib = preprocess(args.octet, list_images(TRAIN, args.count), os.path.join(out_dir, "inputs", "train"))
    val_files, image_ids, cat_ids = eval_images(instances, args.eval_count)
    val_inputs = preprocess(args.octet, val_files, os.path.join(out_dir, "inputs", "val"))
    say(f"octet preprocess: {len(calib)} calibration + {len(val_inputs)} evaluation images, "
        f"{time.perf_counter() - t0:.1f} s")

    model = MODEL
    pre = {"used": False}
    if not args.no_pre_process:
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pp = os.path.join(out_dir, "yolov10n-preprocessed.onnx")
        t0 = time.perf_counter()
        try:
            quant_pre_process(MODEL, pp)
            model = pp
            pre = {"used": True, "symbolic_shape": True, "seconds": time.perf_counter() - t0}
        except ImportError as e:
            # Symbolic shape inference needs sympy; yolov10n has static shapes, so ONNX's own
            # shape inference and ORT's graph optimization are what matter here.
            t0 = time.perf_counter()
            try:
                quant_pre_process(MODEL, pp, skip_symbolic_shape=True)
                model = pp
                pre = {"used": True, "symbolic_shape": False, "why": str(e).split(".")[0],
                       "seconds": time.perf_counter() - t0}
            except Exception as e2:  # noqa: BLE001
                pre = {"used": False, "error": f"{type(e2).__name__}: {e2}"}
        except Exception as e:  # noqa: BLE001
            pre = {"used": False, "error": f"{type(e).__name__}: {e}"}
        say(f"quant_pre_process: {pre}")

    rows = []
    t0 = time.perf_counter()
    fp32 = evaluate(MODEL, val_inputs, image_ids, cat_ids, instances, args.threads)
    say(f"FP32: {fp32} ({time.perf_counter() - t0:.0f} s)")
    rows.append({"method": "FP32 (no quantization)", "images": None, "seconds": None, "peak_rss_mib": None,
                 "eval": fp32})
    for m in methods:
        q = os.path.join(out_dir, f"yolov10n-qdq-{m}.onnx")
        say(f"quantize_static {METHODS[m]} on {len(calib)} images ...")
        rec = run_quantize(args, model, m, [c[0] for c in calib], q, q + ".log")
        say(f"  {rec}")
        if rec.get("ok"):
            t0 = time.perf_counter()
            try:
                rec["eval"] = evaluate(q, val_inputs, image_ids, cat_ids, instances, args.threads)
            except Exception as e:  # noqa: BLE001
                rec["error"] = f"evaluation failed: {type(e).__name__}: {e}"
            say(f"  eval: {rec.get('eval')} ({time.perf_counter() - t0:.0f} s)")
        rows.append(rec)

    info = {"onnxruntime": ort.__version__, "calibration_images": len(calib), "eval_images": len(val_inputs),
            "threads": args.threads, "quant_pre_process": pre, "rows": rows}
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print_report(info)
    if tmp:
        tmp.cleanup()
    return 0 if all(r.get("eval") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
