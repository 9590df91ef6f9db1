#!/usr/bin/env python3
"""INT8 benchmark (issue 5): octet FP32, octet INT8, octet BF16 and ONNX
Runtime running octet's exported Q/DQ model of the same plan, at 2 threads.

What it measures, per model (yolov10n and yolov5n at 640x640, mobilenetv2-12
at 224x224):

- octet fp32: `octet bench MODEL --input IMAGE --json`;
- octet int8, scheme `compute` and scheme `all` (8-bit weights), and
  `compute` with 7-bit weights: the same with `--plan PLAN`
  (the real INT8 kernels, not the simulation); the plans come from
  `octet calibrate --method entropy --count 8` on the first 8 images of the
  model's calibration folder (coco128 train2017 for the detectors,
  imagenet500 for the classifier) and are cached in --plans-dir; the "ran"
  column gives what octet reports it ran (how many kernels were INT8);
- octet bf16: `octet bench --precision bf16`, tried once per model; where
  octet refuses it (oneDNN 2.6 has no bf16 convolution for AVX2 CPUs) the
  table says so and gives octet's reason instead of a time;
- ORT fp32: ONNX Runtime (CPU EP, 2 intra-op threads, 1 inter-op thread,
  graph optimization level "all", as bench/ort_bench.py) on the original
  model;
- ORT on octet's Q/DQ export of each plan (`octet export MODEL --plan PLAN
  --qdq OUT.onnx`, cached next to the plans): the same quantization, run
  by ORT's own INT8 kernels; the column "octet / ORT, same model" compares
  octet int8 with it (below 1: octet is faster);
- one extra group, "yolov10n Q/DQ (ORT quantizer)": ONNX Runtime's own
  quantization of yolov10n (models/yolov10n/yolov10n-qdq-ort.onnx) run by
  octet (`octet bench` on the Q/DQ model) and by ORT, next to FP32
  yolov10n of both.

Every configuration runs in a fresh process on one real image (the same
tensor for octet and ORT: `octet preprocess` writes what octet's --input
makes of the image, and ORT reads that .npy), because random inputs drive
some models into float denormals (mobilenetv2's FP32 run: 428 ms instead of
6.5 ms in octet). Each run does 3 warm-up and --iters timed runs and
reports its median and its peak resident memory (octet: `octet bench`'s
getrusage; ORT: the worker's, as bench/ort_bench.py does).

Why interleaving: the machine is shared, and load moves absolute times by
up to 10x between minutes. Configurations therefore run round by round
(round 1: every configuration of every model once, in table order; then
round 2, ...), so that a burst of load hits all of them alike instead of
one configuration; the table gives the median of the per-round medians,
the fastest single run (on a loaded machine the figure closest to an idle
one), and the largest peak memory over the rounds.

Prints a header (date, machine, CPU flags, oneDNN and ORT versions, the
exact command) and a Markdown table for docs/benchmarks.md on stdout;
progress goes to stderr.

    .venv/bin/python bench/int8_bench.py --octet build/octet [--threads 2] [--rounds 3] [--iters 10]
        [--models yolov10n,yolov5n,mobilenetv2-12,yolov10n-qdq-ort] [--plans-dir DIR] [--skip-ort]
"""
import argparse
import ctypes
import datetime
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_bench import SHARED, cpu_flags, cpu_model  # noqa: E402

WARMUP = 3

# name, model, input name=shape, preset, calibration folder, benchmark image
MODELS = [
    ("yolov10n", "yolov10n/yolov10n.onnx", "images=1x3x640x640", "yolo", "coco128/train2017/images",
     "images/bus.jpg"),
    ("yolov5n", "yolov5n/yolov5n.onnx", "images=1x3x640x640", "yolo", "coco128/train2017/images", "images/bus.jpg"),
    ("mobilenetv2-12", "mobilenetv2/mobilenetv2-12.onnx", "input=1x3x224x224", "imagenet", "imagenet500/images",
     "imagenet500/images/n04465501_tractor.JPEG"),
]
# ONNX Runtime's own Q/DQ quantization of yolov10n, next to FP32 yolov10n.
ORT_QDQ = ("yolov10n-qdq-ort", "yolov10n Q/DQ (ORT quantizer)", "yolov10n/yolov10n-qdq-ort.onnx", "yolov10n")
# (scheme, weight bits): 7-bit weights let a CPU without VNNI run a signed
# INT8 input in one pass instead of two (src/backends/dnnl/dnnl_conv_int8.c)
SCHEMES = (("compute", 8), ("all", 8), ("compute", 7))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def run(cmd, env=None):
    """(stdout, None) or (None, error text) - a failure never stops the benchmark."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except OSError as e:
        return None, str(e)
    if r.returncode:
        msg = (r.stderr.strip() or r.stdout.strip() or "exit code %d" % r.returncode).splitlines()
        msg = " ".join(x.strip() for x in msg[-3:])
        if msg.startswith("octet: "):
            msg = msg[len("octet: "):]
        return None, msg
    return r.stdout, None


# ---------------------------------------------------------------- ORT worker
def ort_worker(argv):
    """ONNX Runtime on one .npy input: bench/ort_bench.py's session options
    and protocol (warm-up, timed runs, median, peak RSS of the process), but
    with a real input instead of random numbers."""
    ap = argparse.ArgumentParser(prog="int8_bench.py --ort-worker")
    ap.add_argument("model")
    ap.add_argument("--input", required=True, help=".npy tensor (octet preprocess)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=WARMUP)
    a = ap.parse_args(argv)
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    feeds = {s.get_inputs()[0].name: np.load(a.input)}
    for _ in range(a.warmup):
        s.run(None, feeds)
    t = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        s.run(None, feeds)
        t.append((time.perf_counter() - t0) * 1e3)
    t.sort()
    print(json.dumps({"median_ms": float(np.median(t)), "min_ms": t[0],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "precision": "ORT %s CPU EP" % ort.__version__}))
    return 0


# ---------------------------------------------------------------- machine
def has_flags():
    fl = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    fl = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    amx = sorted(x for x in fl if x.startswith("amx"))
    return "avx512f %s, avx512_vnni %s, amx %s" % (
        "yes" if "avx512f" in fl else "no", "yes" if "avx512_vnni" in fl else "no",
        "yes (%s)" % " ".join(amx) if amx else "no")


def onednn_version(octet):
    """The version of the libdnnl the octet binary loads (ldd, then dnnl_version())."""
    out, _ = run(["ldd", octet])
    path = None
    for line in (out or "").splitlines():
        if "libdnnl" in line and "=>" in line:
            path = line.split("=>", 1)[1].split("(")[0].strip()
    if not path:
        return "not linked"

    class V(ctypes.Structure):
        _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int),
                    ("hash", ctypes.c_char_p), ("cpu_runtime", ctypes.c_uint), ("gpu_runtime", ctypes.c_uint)]
    try:
        lib = ctypes.CDLL(path)
        lib.dnnl_version.restype = ctypes.POINTER(V)
        v = lib.dnnl_version().contents
        return "%d.%d.%d" % (v.major, v.minor, v.patch)
    except (OSError, AttributeError):
        return "? (%s)" % os.path.basename(path)


def ort_version():
    try:
        import onnxruntime
        return onnxruntime.__version__
    except ImportError:
        return "not installed"


# ---------------------------------------------------------------- benchmark
class Config:
    """One timed configuration: a command run once per round."""

    def __init__(self, key, cmd, error=None):
        self.key, self.cmd, self.error = key, cmd, error
        self.med, self.mins, self.mem, self.ran = [], [], 0.0, ""


def md(s):
    return str(s).replace("|", "\\|")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-worker":
        return ort_worker(sys.argv[2:])
    all_names = [m[0] for m in MODELS] + [ORT_QDQ[0]]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--octet", required=True, help="the octet binary")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10, help="timed runs per process (after %d warm-up)" % WARMUP)
    ap.add_argument("--models", "--only", default=None,
                    help="comma list, from: " + ",".join(all_names) + " (default: all)")
    ap.add_argument("--plans-dir", help="reuse/keep plans and Q/DQ exports here (default: a temporary folder)")
    ap.add_argument("--skip-ort", action="store_true", help="octet rows only")
    a = ap.parse_args()
    octet = os.path.abspath(a.octet)
    want = a.models.split(",") if a.models else all_names
    for w in want:
        if w not in all_names:
            ap.error("unknown model '%s' (known: %s)" % (w, ", ".join(all_names)))
    command = " ".join(shlex.quote(x) for x in
                       ([".venv/bin/python"] if sys.executable.endswith(".venv/bin/python") else [sys.executable])
                       + [os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:])
    if os.environ.get("OMP_WAIT_POLICY"):
        command = "OMP_WAIT_POLICY=%s %s" % (os.environ["OMP_WAIT_POLICY"], command)
    tmp = tempfile.TemporaryDirectory(prefix="octet_int8_bench_")
    plans = os.path.abspath(a.plans_dir or tmp.name)
    os.makedirs(plans, exist_ok=True)
    t_start = time.time()
    started = datetime.datetime.now(datetime.timezone.utc)

    configs = {}   # key -> Config, in first-use order (the order of a round)
    groups = []    # (label, input shape, [(row label, key, octet fp32 key, same-model octet key)])
    thr = ["--threads", str(a.threads)]
    timing = ["--iters", str(a.iters), "--warmup", str(WARMUP)]

    def add(key, cmd, error=None):
        if key not in configs:
            configs[key] = Config(key, cmd, error)
        return key

    def octet_cmd(model, image, preset, extra):
        return [octet, "bench", model, "--input", image, "--preset", preset] + thr + timing + ["--json"] + extra

    def ort_cmd(model, npy):
        return [sys.executable, os.path.abspath(__file__), "--ort-worker", model, "--input", npy] + thr + timing

    def prepare(name):
        """Configurations of one model (FP32, plans, exports), built once."""
        for mname, rel, shape, preset, calib_rel, image_rel in MODELS:
            if mname == name:
                break
        model = os.path.join(SHARED, "models", rel)
        image = os.path.join(SHARED, "data", image_rel)
        if not os.path.exists(model) or not os.path.exists(image):
            return None
        npy = os.path.join(tmp.name, name + ".npy")
        npy_err = None
        if not a.skip_ort and not os.path.exists(npy):
            _, npy_err = run([octet, "preprocess", image, "-o", npy, "--preset", preset, "--model", model])
        k = {"model": model, "shape": shape, "preset": preset, "image": image, "npy": npy}
        k["fp32"] = add((name, "octet fp32"), octet_cmd(model, image, preset, []))
        if not a.skip_ort:
            k["ort fp32"] = add((name, "ORT fp32"), ort_cmd(model, npy), npy_err)
        k["npy_err"] = npy_err
        return k

    prepared = {}
    for name, rel, shape, preset, calib_rel, image_rel in MODELS:
        need = name in want or (name == ORT_QDQ[3] and ORT_QDQ[0] in want)
        if not need:
            continue
        k = prepare(name)
        if k is None:
            log("skip %s: model or image missing under %s" % (name, SHARED))
            continue
        prepared[name] = k
        if name not in want:
            continue
        model, image = k["model"], k["image"]
        rows = [("octet fp32", k["fp32"], k["fp32"], None)]
        ort_rows = []
        if not a.skip_ort:
            ort_rows.append(("ORT fp32", k["ort fp32"], k["fp32"], k["fp32"]))
        calib = None
        for scheme, bits in SCHEMES:
            tag = scheme if bits == 8 else "%s-w%d" % (scheme, bits)
            plan = os.path.join(plans, "%s-entropy-%s.json" % (name, tag))
            err = None
            if not os.path.exists(plan):
                if calib is None:
                    src = os.path.join(SHARED, "data", calib_rel)
                    calib = os.path.join(tmp.name, name + "_calib")
                    os.makedirs(calib, exist_ok=True)
                    for f in sorted(os.listdir(src))[:8]:
                        os.symlink(os.path.join(src, f), os.path.join(calib, f))
                log("%s: calibrating (entropy, scheme %s, 8 images) -> %s" % (name, scheme, plan))
                t0 = time.time()
                _, err = run([octet, "calibrate", model, "--data", calib, "--preset", preset, "--shape", shape,
                              "--count", "8", "--method", "entropy", "--scheme", scheme, "--weight-bits", str(bits),
                              "--quiet"] + thr
                             + ["-o", plan + ".tmp"])
                if err:
                    log("%s: calibrate failed: %s" % (name, err))
                else:
                    os.replace(plan + ".tmp", plan)
                    log("%s: calibrated in %.0f s" % (name, time.time() - t0))
            label = "octet int8 (entropy, %s%s)" % (scheme, "" if bits == 8 else ", %d-bit weights" % bits)
            ki = add((name, label), octet_cmd(model, image, preset, ["--plan", plan]),
                     "calibrate failed: " + err if err else None)
            rows.append((label, ki, k["fp32"], None))
            if a.skip_ort:
                continue
            qdq = os.path.join(plans, "%s-entropy-%s.qdq.onnx" % (name, tag))
            xerr = "no plan (calibrate failed)" if err else None
            if not xerr and not os.path.exists(qdq):
                log("%s: exporting Q/DQ -> %s" % (name, qdq))
                _, xerr = run([octet, "export", model, "--plan", plan, "--qdq", qdq + ".tmp.onnx", "--shape", shape])
                if xerr:
                    log("%s: export failed: %s" % (name, xerr))
                    xerr = "export failed: " + xerr
                else:
                    os.replace(qdq + ".tmp.onnx", qdq)
            kq = add((name, "ORT qdq " + tag), ort_cmd(qdq, k["npy"]), xerr or k["npy_err"])
            ort_rows.append(("ORT on octet's Q/DQ export (%s)" % label[len("octet int8 ("):-1], kq, k["fp32"], ki))
        # bf16: tried once; timed in the rounds only if octet accepts it
        out, err = run([octet, "bench", model, "--input", image, "--preset", preset, "--precision", "bf16",
                        "--iters", "1", "--warmup", "0", "--json"] + thr)
        kb = add((name, "octet bf16"), octet_cmd(model, image, preset, ["--precision", "bf16"]),
                 "refused: " + err.split("; ")[0] if err else None)
        rows.append(("octet bf16", kb, k["fp32"], None))
        groups.append((name, shape.split("=")[1], rows + ort_rows))

    if ORT_QDQ[0] in want and ORT_QDQ[3] in prepared:
        name, label, rel, base = ORT_QDQ
        k = prepared[base]
        model = os.path.join(SHARED, "models", rel)
        if os.path.exists(model):
            rows = [("octet fp32 (%s)" % base, k["fp32"], k["fp32"], None)]
            ko = add((name, "octet"), octet_cmd(model, k["image"], k["preset"], []))
            rows.append(("octet on the ORT-quantized Q/DQ model", ko, k["fp32"], None))
            if not a.skip_ort:
                rows.append(("ORT fp32 (%s)" % base, k["ort fp32"], k["fp32"], k["fp32"]))
                kr = add((name, "ORT"), ort_cmd(model, k["npy"]), k["npy_err"])
                rows.append(("ORT on the ORT-quantized Q/DQ model", kr, k["fp32"], ko))
            groups.append((label, k["shape"].split("=")[1], rows))
        else:
            log("skip %s: %s is missing" % (name, model))

    # ---- interleaved rounds
    for r in range(a.rounds):
        for c in configs.values():
            if c.error:
                continue
            out, err = run(c.cmd)
            if err:
                c.error = "failed: " + err
                log("%s / %s: %s" % (c.key[0], c.key[1], c.error))
                continue
            try:
                j = last_json(out)
            except ValueError:
                c.error = "failed: no JSON in the output"
                continue
            c.med.append(j["median_ms"])
            c.mins.append(j["min_ms"])
            c.mem = max(c.mem, j["peak_rss_mb"])
            c.ran = j.get("precision", "")
            # whatever else octet says about INT8 (e.g. folded Q/DQ pairs), if its JSON has it
            extra = ["%s %s" % (k, v) for k, v in j.items() if k != "precision"
                     and any(w in k for w in ("int8", "qdq", "fold")) and str(v) not in c.ran]
            if extra:
                c.ran += " (%s)" % ", ".join(extra)
            log("round %d/%d  %-16s %-34s %8.1f ms  %s" % (r + 1, a.rounds, c.key[0], c.key[1], j["median_ms"],
                                                             c.ran))

    def median(key):
        c = configs[key]
        return statistics.median(c.med) if c.med and not c.error else None

    # ---- output
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print("%s, %.0f s; machine: %s, %d cores; %s; flags: %s; oneDNN %s, ONNX Runtime %s; load average %s at the "
          "end" % (started.strftime("%Y-%m-%d %H:%M UTC"), time.time() - t_start, cpu_model(), os.cpu_count(),
                   has_flags(), cpu_flags(), onednn_version(octet), ort_version() if not a.skip_ort else "(skipped)",
                   " ".join("%.1f" % x for x in load)))
    print("command: `%s`" % command)
    print("%d threads, %d interleaved rounds x %d timed runs (%d warm-up) per configuration, one real image; median "
          "of the per-round medians; peak = largest peak RSS over the rounds\n" % (a.threads, a.rounds, a.iters,
                                                                                  WARMUP))
    print("| model | input | configuration | median ms | / octet fp32 | octet / ORT, same model | fastest ms "
          "| peak MiB | ran |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for label, shape, rows in groups:
        for row, key, fp32_key, same_key in rows:
            c = configs[key]
            m, f = median(key), median(fp32_key)
            if m is None:
                print("| %s | %s | %s | %s | | | | | %s |" % (
                    label, shape, row, "refused" if c.error and c.error.startswith("refused") else "-",
                    md(c.error or "not run")))
                continue
            ratio = "%.2f" % (m / f) if f and key != fp32_key else ""
            same = ""
            if same_key is not None:
                o = median(same_key)
                same = "%.2f" % (o / m) if o else "-"
            print("| %s | %s | %s | %.1f | %s | %s | %.1f | %.0f | %s |" % (
                label, shape, row, m, ratio, same, min(c.mins), c.mem, md(c.ran)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
