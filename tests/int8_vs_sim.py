#!/usr/bin/env python3
"""Whole models: real INT8 kernels against the simulation of the same plan.

For yolov10n and yolov5n (640x640) and mobilenetv2-12 (224x224), makes an
entropy `compute` plan with `octet calibrate` (8 images: coco128 train2017
for the detectors, imagenet500 for the classifier), then runs every test
image through `octet run --plan` (INT8 kernels, the default) and
`octet run --plan --simulate`, and checks per image and output:
  - relative L2 of INT8 against the simulation <= 1e-2. Where that is not
    met, the test measures the simulation's own spread: the same simulation
    on the reference kernels (OCTET_REFERENCE=1) against the one on the fast
    FP32 kernels. Both are exact implementations of the plan up to float
    summation order, as is the INT8 path, and on some models that order
    alone moves a few values across a rounding tie in the first INT8 tensors
    (one step each, see tests/test_int8_conv.c), which later layers amplify.
    The INT8 result is then accepted when it is no further from the
    simulation than 2x that spread, and the line says so ("NOTE: 1e-2 not
    met"), with both numbers;
  - mobilenetv2: the same top-1 class; where not, the simulation's
    preference for its class (logit difference) must be within 2x its own
    logit spread between its FP32 and reference kernels (a near tie);
  - detectors: the same detections with score >= 0.25 (yolov5n after a
    class-aware NMS at IoU 0.45; yolov10n's output is final), matched by
    class and IoU >= 0.8. yolov10n's output is its top 300 candidates sorted
    by score, so a tiny score change reorders rows and its relative L2 says
    nothing; the test compares yolov10n's raw head instead (the
    [1, 84, 8400] Concat before TopK, exposed as an extra graph output
    through an Identity) and prints output0's for information. A detection whose score is within 0.01 of the
    threshold on one side may fall under it on the other: it must then be
    matched with a threshold of 0.2 (reported as a threshold tie).
It also checks, from the verbose log, that INT8 kernels really ran (so a
silent fallback to the simulation cannot pass), that `octet bench --plan`
reports that count ("int8 (plan, N int8 kernels)") and that `--simulate` runs
no INT8 kernel, and prints the numbers.
Test images: /work/shared/data/images (bus, zidane) plus two coco128 val2017
images for the detectors; 20 imagenet500 images not used for calibration
for the classifier. Assets come from $OCTET_SHARED (default ../shared next
to the repository); missing ones skip (exit 77). Prints "N passed, N failed".
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:
    print("SKIPPED: numpy missing (%s); run scripts/setup.sh" % e)
    print("0 passed, 0 failed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("OCTET_SHARED", os.path.join(HERE, "..", "..", "shared"))

n_pass = n_fail = 0


def check(cond, msg):
    global n_pass, n_fail
    if cond:
        n_pass += 1
    else:
        n_fail += 1
        print("FAIL " + msg)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-2000:]))
    return r


def rel_l2(a, b):
    d = np.linalg.norm(b.astype(np.float64))
    return float(np.linalg.norm(a.astype(np.float64) - b) / (d if d > 0 else 1.0))


def iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def nms(dets, thr=0.45):
    dets = sorted(dets, key=lambda d: -d[4])
    keep = []
    for d in dets:
        if all(k[5] != d[5] or iou(k, d) <= thr for k in keep):
            keep.append(d)
    return keep


def detections(name, out, thr):
    """[(x1, y1, x2, y2, score, class)] with score >= thr."""
    if name == "yolov10n":  # [1, 300, 6]: x1 y1 x2 y2 score class
        o = out.reshape(-1, 6)
        return [tuple(float(v) for v in r[:5]) + (int(r[5]),) for r in o if r[4] >= thr]
    o = out.reshape(-1, out.shape[-1])  # yolov5: cx cy w h obj cls...
    cls = o[:, 5:].argmax(1)
    score = o[:, 4] * o[np.arange(len(o)), 5 + cls]
    dets = []
    for i in np.nonzero(score >= thr)[0]:
        cx, cy, w, h = (float(v) for v in o[i, :4])
        dets.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, float(score[i]), int(cls[i])))
    return nms(dets)


def match(a, b, thr, lo_thr):
    """Detections of a (>= thr) without a partner in b; a partner under the
    threshold is accepted for a score within 0.01 of it (a tie)."""
    missing, ties = [], 0
    for d in a:
        if d[4] < thr:
            continue
        ok = any(e[5] == d[5] and e[4] >= thr and iou(d, e) >= 0.8 for e in b)
        if not ok and d[4] < thr + 0.01 and any(e[5] == d[5] and e[4] >= lo_thr and iou(d, e) >= 0.8 for e in b):
            ties += 1
            ok = True
        if not ok:
            missing.append(d)
    return missing, ties


def run(octet, model, image, preset, plan, simulate, outdir, threads, verbose=False, reference=False):
    os.makedirs(outdir, exist_ok=True)
    cmd = [octet, "run", model, "--input", image, "--preset", preset, "--plan", plan, "--threads", str(threads),
           "--outputs-dir", outdir]
    if simulate:
        cmd.append("--simulate")
    if verbose:
        cmd.append("-v")
    env = dict(os.environ)
    if reference:
        env["OCTET_REFERENCE"] = "1"
    r = sh(cmd, env=env)
    outs = {}
    for f in sorted(os.listdir(outdir)):
        if f.endswith(".npy"):
            outs[f[:-4]] = np.load(os.path.join(outdir, f))
    return outs, r.stderr


YOLOV10_HEAD = "/model.23/Concat_3_output_0"


def with_head_output(model, path, tensor):
    """A copy of the model with `tensor` also a graph output ("raw_head")."""
    import onnx
    from onnx import TensorProto, helper
    m = onnx.load(model)
    m.graph.node.append(helper.make_node("Identity", [tensor], ["raw_head"], name="raw_head_tap"))
    m.graph.output.append(helper.make_tensor_value_info("raw_head", TensorProto.FLOAT, None))
    onnx.save(m, path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="yolov10n,yolov5n,mobilenetv2")
    args = ap.parse_args()
    octet = os.path.abspath(args.octet)
    coco = os.path.join(SHARED, "data", "coco128")
    specs = {
        "yolov10n": ("yolov10n/yolov10n.onnx", "yolo", os.path.join(coco, "train2017", "images")),
        "yolov5n": ("yolov5n/yolov5n.onnx", "yolo", os.path.join(coco, "train2017", "images")),
        "mobilenetv2": ("mobilenetv2/mobilenetv2-12.onnx", "imagenet",
                        os.path.join(SHARED, "data", "imagenet500", "images")),
    }
    need = [os.path.join(SHARED, "models", specs[m][0]) for m in args.models.split(",")]
    need += [specs[m][2] for m in args.models.split(",")]
    need += [os.path.join(SHARED, "data", "images"), os.path.join(coco, "val2017", "images")]
    missing = [p for p in need if not os.path.exists(p)]
    if missing:
        print("SKIPPED: missing %s (set OCTET_SHARED)" % ", ".join(missing))
        print("0 passed, 0 failed")
        return 77
    det_images = sorted(os.path.join(SHARED, "data", "images", f) for f in os.listdir(os.path.join(SHARED, "data", "images")))
    val = sorted(os.listdir(os.path.join(coco, "val2017", "images")))
    det_images += [os.path.join(coco, "val2017", "images", f) for f in val[:2]]
    with tempfile.TemporaryDirectory(prefix="octet_int8_") as tmp:
        for name in args.models.split(","):
            rel, preset, calib_src = specs[name]
            model = os.path.join(SHARED, "models", rel)
            if name == "yolov10n":
                model = with_head_output(model, os.path.join(tmp, "yolov10n_head.onnx"), YOLOV10_HEAD)
            files = sorted(f for f in os.listdir(calib_src) if f.lower().endswith((".jpg", ".jpeg", ".png")))
            calib = os.path.join(tmp, name + "_calib")
            os.makedirs(calib)
            for f in files[:8]:
                os.symlink(os.path.join(calib_src, f), os.path.join(calib, f))
            plan = os.path.join(tmp, name + ".json")
            sh([octet, "calibrate", model, "--data", calib, "--preset", preset, "--count", "8", "--method", "entropy",
                "--scheme", "compute", "--threads", str(args.threads), "-o", plan])
            if name == "mobilenetv2":
                images = [os.path.join(calib_src, f) for f in files[8::25][:20]]
            else:
                images = det_images
            worst = 0.0
            n_dets = 0
            for k, img in enumerate(images):
                qi, log = run(octet, model, img, preset, plan, False, os.path.join(tmp, "%s_%d_int8" % (name, k)),
                              args.threads, verbose=(k == 0))
                si, _ = run(octet, model, img, preset, plan, True, os.path.join(tmp, "%s_%d_sim" % (name, k)),
                            args.threads)
                if k == 0:
                    n_int8 = len(re.findall(r"-> dnnl:int8:", log))
                    n_conv = len(re.findall(r"\(Conv\) -> ", log))
                    conv_int8 = len(re.findall(r"\(Conv\) -> dnnl:int8:", log))
                    conv_pn = len(re.findall(r"\(Conv\) -> dnnl:int8:\S+:pn", log))
                    n_mm = len(re.findall(r"\((?:MatMul|Gemm)\) -> ", log))
                    mm_int8 = len(re.findall(r"\((?:MatMul|Gemm)\) -> dnnl:int8:", log))
                    print("%s: %d of %d Conv kernels ran INT8 (%d one-pass u8, %d two-pass signed), "
                          "%d of %d MatMul/Gemm" % (name, conv_int8, n_conv, conv_int8 - conv_pn, conv_pn, mm_int8,
                                                   n_mm))
                    check(conv_int8 > 0, "%s: no Conv ran as an INT8 kernel" % name)
                    # The CLI says what ran: `bench --plan` the INT8 count,
                    # `--simulate` no INT8 kernel at all.
                    bj = json.loads(sh([octet, "bench", model, "--input", img, "--preset", preset, "--plan", plan,
                                        "--iters", "1", "--warmup", "0", "--threads", str(args.threads),
                                        "--json"]).stdout.strip().splitlines()[-1])
                    want = "int8 (plan, %d int8 kernels)" % n_int8
                    check(bj["precision"] == want, "%s: bench --plan says precision %r, expected %r" %
                          (name, bj["precision"], want))
                    _, slog = run(octet, model, img, preset, plan, True, os.path.join(tmp, "%s_sim_v" % name),
                                  args.threads, verbose=True)
                    check("dnnl:int8" not in slog, "%s: --simulate ran INT8 kernels" % name)
                check(sorted(qi) == sorted(si) and qi, "%s: outputs differ: %s vs %s" % (name, sorted(qi), sorted(si)))
                ref = None
                for out in sorted(si):
                    r = rel_l2(qi[out], si[out])
                    base = os.path.basename(img)
                    if name == "yolov10n" and out != "raw_head":
                        print("  %s %s %s: relL2 int8 vs sim %.3e (rows ordered by score: not checked)" %
                              (name, base, out, r))
                        continue
                    worst = max(worst, r)
                    if r <= 1e-2:
                        print("  %s %s %s: relL2 int8 vs sim %.3e" % (name, base, out, r))
                        check(True, "")
                        continue
                    if ref is None:
                        ref, _ = run(octet, model, img, preset, plan, True, os.path.join(tmp, "%s_%d_ref" % (name, k)),
                                     args.threads, reference=True)
                    spread = rel_l2(si[out], ref[out])
                    print("  %s %s %s: relL2 int8 vs sim %.3e; NOTE: 1e-2 not met; the simulation's own spread "
                          "(fast vs reference kernels) is %.3e, int8 vs reference simulation %.3e" %
                          (name, base, out, r, spread, rel_l2(qi[out], ref[out])))
                    check(r <= 2 * spread, "%s %s %s: relative L2 %.3e > 1e-2 and > 2x the simulation's own spread "
                          "%.3e" % (name, base, out, r, spread))
                main_out = "output0" if "output0" in si else sorted(si)[0]
                a, b = qi[main_out], si[main_out]
                if name == "mobilenetv2":
                    ta, tb = int(a.reshape(-1).argmax()), int(b.reshape(-1).argmax())
                    if ta != tb:
                        # As for relL2: is the simulation itself undecided
                        # between its FP32 and reference kernels?
                        if ref is None:
                            ref, _ = run(octet, model, img, preset, plan, True,
                                         os.path.join(tmp, "%s_%d_ref" % (name, k)), args.threads, reference=True)
                        rb = ref[main_out].reshape(-1)
                        tr = int(rb.argmax())
                        bb = b.reshape(-1)
                        margin = float(bb[tb] - bb[ta])  # how much the simulation prefers its class
                        noise = float(np.abs(bb - rb).max())  # its own logit spread
                        print("  %s %s: NOTE: top-1 %d (int8) vs %d (sim), %d on the reference kernels; the "
                              "simulation prefers %d by %.3f, its logits move by up to %.3f between its FP32 and "
                              "reference kernels" % (name, os.path.basename(img), ta, tb, tr, tb, margin, noise))
                        check(margin <= 2 * noise, "%s %s: top-1 %d (int8) vs %d (sim), a margin of %.3f, more "
                              "than 2x the simulation's own spread %.3f" % (name, os.path.basename(img), ta, tb,
                                                                            margin, noise))
                    else:
                        check(True, "")
                else:
                    da, db = detections(name, a, 0.2), detections(name, b, 0.2)
                    m1, t1 = match(db, da, 0.25, 0.2)
                    m2, t2 = match(da, db, 0.25, 0.2)
                    n_sim = sum(1 for d in db if d[4] >= 0.25)
                    n_dets += n_sim
                    print("  %s %s: %d detections >= 0.25 (sim), %d unmatched, %d threshold ties" %
                          (name, os.path.basename(img), n_sim, len(m1) + len(m2), t1 + t2))
                    check(not m1, "%s %s: simulation detections missing in INT8: %s" % (name, os.path.basename(img), m1))
                    check(not m2, "%s %s: INT8 detections missing in the simulation: %s" % (name, os.path.basename(img), m2))
            print("%s: worst relL2 %.3e over %d images" % (name, worst, len(images)))
            if name != "mobilenetv2" and not n_dets:
                # Not a failure of the INT8 path, but the detection check
                # compared nothing: say so.
                print("%s: NOTE: the simulated plan detects nothing >= 0.25 on any test image (the plan loses "
                      "the model's accuracy), so the detection check was vacuous here" % name)
    print("%d passed, %d failed" % (n_pass, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
