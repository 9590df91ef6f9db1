#!/usr/bin/env python3
"""Real models through octet, checked against ONNX Runtime on the same tensors.

For every case: `octet preprocess IMAGE --model MODEL [flags] -o x.npy` makes
the input, ONNX Runtime (CPU) and `octet run MODEL --input x.npy
--outputs-dir DIR` both run it, and every output is compared:
  - relative L2 error ||octet - ort|| / ||ort|| <= 1e-4 for every output;
  - classifiers (mobilenetv2, ppocr cls): the same argmax;
  - yolov10n: the same detections with score >= 0.25 (count, class, boxes
    within 1 px, scores within 1e-3). Its rows come out of a TopK, so rows
    whose scores nearly tie may swap places: the output is compared row by
    row after matching, not as one flat array;
  - yolov5n: the same detections after NMS (confidence 0.25, IoU 0.45).

Models and images come from OCTET_SHARED (default: the `shared` folder beside
the repository). Nothing is written inside the repository. Prints one line
per case and a closing "N passed, N failed, N skipped"; exits 1 on any
failure, 77 when everything was skipped.

--quick (or OCT_SANITIZED=1 in the environment) runs one input per model, for
the sanitizer build.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

REL_TOL = 1e-4
BOX_TOL = 1.0
SCORE_TOL = 1e-3
CONF = 0.25
IOU = 0.45
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: UndefinedBehaviorSanitizer")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def skip_all(why):
    print("SKIPPED: " + why)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)


try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:  # the venv is made by scripts/setup.sh
    skip_all("numpy/onnxruntime not importable (%s); run scripts/setup.sh" % e)


# ---- cases -----------------------------------------------------------------

def cases(shared, quick):
    """(name, model path, image path, preprocess flags, kind, run flags)."""
    m = os.path.join(shared, "models")
    coco = os.path.join(shared, "data", "coco128", "val2017", "images")
    imgs = os.path.join(shared, "data", "images")
    inet = os.path.join(shared, "data", "imagenet500", "images")

    def listdir(d, n, start=0, step=1):
        try:
            names = sorted(f for f in os.listdir(d) if f.lower().endswith((".jpg", ".jpeg", ".png")))
        except OSError:
            return []
        return [os.path.join(d, f) for f in names[start::step][:n]]

    yolo10 = os.path.join(m, "yolov10n", "yolov10n.onnx")
    yolo5 = os.path.join(m, "yolov5n", "yolov5n.onnx")
    mnet = os.path.join(m, "mobilenetv2", "mobilenetv2-12.onnx")
    det = os.path.join(m, "ppocr", "ch_PP-OCRv4_det_infer.onnx")
    rec = os.path.join(m, "ppocr", "ch_PP-OCRv4_rec_infer.onnx")
    cls = os.path.join(m, "ppocr", "ch_ppocr_mobile_v2.0_cls_infer.onnx")
    bus, zidane = os.path.join(imgs, "bus.jpg"), os.path.join(imgs, "zidane.jpg")
    c = listdir(coco, 8)
    inet_imgs = listdir(inet, 8, step=61)  # spread over the classes

    out = []
    y10 = [bus] + c[0:3]
    y5 = [zidane] + c[3:6]
    mn = inet_imgs
    if quick:
        y10, y5, mn = y10[:1], y5[:1], mn[:1]
    for im in y10:
        out.append(("yolov10n", yolo10, im, ["--preset", "yolo"], "yolov10"))
    for im in y5:
        out.append(("yolov5n", yolo5, im, ["--preset", "yolo"], "yolov5"))
    for im in mn:
        out.append(("mobilenetv2", mnet, im, ["--preset", "imagenet"], "classify"))
    # PP-OCR det: the size follows the image (multiples of 32), plus a forced
    # size, so that the dynamic H and W take distinct values. The images show
    # text: on a text-free image every logit is below -15 and the map holds
    # values near 1e-7, where ONNX Runtime's own approximate sigmoid is off by
    # tens of percent (measured: rel L2 0.7 against an exact sigmoid of its own
    # logits, while octet's logits agree with it to 4e-7), so a relative
    # comparison there would measure ONNX Runtime.
    cdir = lambda n: os.path.join(coco, n)
    out.append(("ppocr-det", det, cdir("000000000885.jpg"), ["--preset", "ppocr", "--resize", "--size", "320x224"],
                "plain"))
    if not quick:
        out.append(("ppocr-det", det, cdir("000000001425.jpg"), ["--preset", "ppocr"], "plain"))
        out.append(("ppocr-det", det, cdir("000000000724.jpg"), ["--preset", "ppocr"], "plain"))
    out.append(("ppocr-rec", rec, zidane, ["--preset", "ppocr-rec"], "plain"))
    if not quick:
        out.append(("ppocr-rec", rec, c[1] if len(c) > 1 else bus, ["--preset", "ppocr-rec", "--size", "160x48"],
                    "plain"))
    out.append(("ppocr-cls", cls, bus, ["--preset", "ppocr-cls"], "classify"))
    if not quick:
        out.append(("ppocr-cls", cls, zidane, ["--preset", "ppocr-cls"], "classify"))
    # The first case of every model once more on the reference kernels alone
    # (the oracle the fast kernels are checked against elsewhere).
    out = [case + ([],) for case in out]
    seen = set()
    for case in list(out):
        if case[1] not in seen:
            seen.add(case[1])
            out.append(case[:5] + (["--reference"],))
    return out


# ---- comparisons -----------------------------------------------------------

def rel_l2(a, b):
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    nb = np.linalg.norm(b)
    d = np.linalg.norm(a - b)
    if not np.isfinite(d):
        return float("inf")
    return d / nb if nb > 0 else d


def box_iou(b, boxes):
    x1 = np.maximum(b[0], boxes[:, 0])
    y1 = np.maximum(b[1], boxes[:, 1])
    x2 = np.minimum(b[2], boxes[:, 2])
    y2 = np.minimum(b[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])
    return inter / np.maximum(area(b) + area(boxes) - inter, 1e-9)


def nms(boxes, scores, classes, iou):
    """Class-aware greedy NMS; returns kept indices by descending score."""
    order = np.argsort(-scores, kind="stable")
    off = boxes + (classes[:, None] * 8192.0)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        ious = box_iou(off[i], off[order[1:]])
        order = order[1:][ious <= iou]
    return np.array(keep, dtype=np.int64)


def yolov5_dets(out):
    p = out[0].astype(np.float64)  # 25200 x 85: cx cy w h obj cls...
    obj = p[:, 4]
    cls_scores = p[:, 5:] * obj[:, None]
    cls = cls_scores.argmax(1)
    conf = cls_scores[np.arange(len(p)), cls]
    # A little below the threshold so that boxes right at it are matched
    # against the other side's list instead of counted as missing.
    m = conf >= CONF - SCORE_TOL
    xy, wh = p[m, 0:2], p[m, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1)
    k = nms(boxes, conf[m], cls[m].astype(np.float64), IOU)
    return np.concatenate([boxes[k], conf[m][k, None], cls[m][k, None]], 1)


def yolov10_dets(out):
    d = out[0].astype(np.float64)  # 300 x 6: x1 y1 x2 y2 score class
    d = d[d[:, 4] >= CONF - SCORE_TOL]
    d[:, 5] = np.rint(d[:, 5])
    return d


def match_dets(got, ref):
    """Pairs detections of the same class by IoU. Returns (ok, message,
    pairs). Detections within SCORE_TOL of the threshold may be unmatched."""
    used = np.zeros(len(got), bool)
    pairs, problems = [], []
    for i in np.argsort(-ref[:, 4], kind="stable"):
        r = ref[i]
        cand = [j for j in range(len(got)) if not used[j] and got[j, 5] == r[5]]
        if cand:
            ious = box_iou(r[:4], got[cand, :4])
            j = cand[int(np.argmax(ious))]
            if ious.max() > 0.5:
                used[j] = True
                pairs.append((j, i))
                continue
        if r[4] >= CONF + SCORE_TOL:
            problems.append("missing class %d score %.4f at [%.1f %.1f %.1f %.1f]" % (r[5], r[4], *r[:4]))
    for j in np.where(~used)[0]:
        if got[j, 4] >= CONF + SCORE_TOL:
            problems.append("extra class %d score %.4f at [%.1f %.1f %.1f %.1f]" % (got[j, 5], got[j, 4],
                                                                                 *got[j, :4]))
    box_err = max([np.abs(got[j, :4] - ref[i, :4]).max() for j, i in pairs], default=0.0)
    score_err = max([abs(got[j, 4] - ref[i, 4]) for j, i in pairs], default=0.0)
    if box_err > BOX_TOL:
        problems.append("box differs by %.3f px" % box_err)
    if score_err > SCORE_TOL:
        problems.append("score differs by %.2e" % score_err)
    n_ref = int((ref[:, 4] >= CONF).sum())
    n_got = int((got[:, 4] >= CONF).sum())
    msg = "dets %d/%d (box err %.3f px, score err %.1e)" % (n_got, n_ref, box_err, score_err)
    return not problems, msg + ("; " + "; ".join(problems[:3]) if problems else ""), pairs


def compare_yolov10(got, ref):
    """Rows of yolov10's output are the TopK of the scores: compare the score
    column as sorted lists and the boxes of the detections pairwise."""
    g, r = got[0].astype(np.float64), ref[0].astype(np.float64)
    raw = rel_l2(g, r)
    e_scores = rel_l2(np.sort(g[:, 4]), np.sort(r[:, 4]))
    ok, msg, pairs = match_dets(yolov10_dets(got), yolov10_dets(ref))
    if raw <= REL_TOL:
        return ok, raw, msg
    # Rows were reordered (near-equal scores): accept when the sorted scores
    # and the matched detections agree.
    gd, rd = yolov10_dets(got), yolov10_dets(ref)
    e_rows = rel_l2(np.array([gd[j] for j, _ in pairs]), np.array([rd[i] for _, i in pairs])) if pairs else 0.0
    worst = max(e_scores, e_rows)
    note = "; rows reordered: raw rel L2 %.2e, sorted scores %.2e, matched rows %.2e" % (raw, e_scores, e_rows)
    return ok and worst <= REL_TOL, worst, msg + note


# ---- running ---------------------------------------------------------------

def run(cmd, timeout):
    t = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p, time.time() - t


def sanitizer_report(text):
    return any(m in text for m in SANITIZER_MARKS)


def first_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    for l in lines:  # the sanitizer's summary line says the most
        if l.startswith("SUMMARY:"):
            return l
    return lines[0] if lines else "(no message)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--octet", required=True, help="the octet binary")
    ap.add_argument("--shared", default=os.environ.get("OCTET_SHARED") or os.path.join(os.path.dirname(REPO),
                                                                                       "shared"))
    ap.add_argument("--quick", action="store_true", help="one input per model (sanitizer builds)")
    ap.add_argument("--filter", help="only cases whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and print it")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per octet command")
    a = ap.parse_args()
    quick = a.quick or os.environ.get("OCT_SANITIZED") == "1"

    if not os.path.isdir(a.shared):
        skip_all("OCTET_SHARED folder %s is absent (models and images live there)" % a.shared)
    if not os.access(a.octet, os.X_OK):
        print("FAIL  octet binary %s is not executable" % a.octet)
        print("0 passed, 1 failed")
        return 1

    passed = failed = skipped = 0
    sessions = {}
    tmp = tempfile.mkdtemp(prefix="octet-real-")
    t_start = time.time()
    for n, (name, model, image, flags, kind, run_flags) in enumerate(cases(a.shared, quick)):
        if a.filter and a.filter not in name:
            continue
        label = "%-12s %-32s %s" % (name, os.path.basename(image), " ".join(flags[2:] + run_flags))
        missing = [p for p in (model, image) if not os.path.exists(p)]
        if missing:
            print("SKIP  %s: %s is missing" % (label, missing[0]))
            skipped += 1
            continue
        d = os.path.join(tmp, "case%02d" % n)
        os.makedirs(d)
        x = os.path.join(d, "x.npy")

        def fail(why):
            nonlocal failed
            print("FAIL  %s: %s" % (label, why))
            failed += 1

        try:
            p, _ = run([a.octet, "preprocess", image, "--model", model] + flags + ["-o", x], a.timeout)
            if p.returncode or sanitizer_report(p.stderr):
                fail("octet preprocess exit %d: %s" % (p.returncode, first_line(p.stderr)))
                continue
            feed = np.load(x)
            shape = "x".join(map(str, feed.shape))
            label += " [%s]" % shape
            p, secs = run([a.octet, "run", model, "--input", x, "--outputs-dir", d] + run_flags, a.timeout)
        except subprocess.TimeoutExpired:
            fail("octet timed out after %.0f s" % a.timeout)
            continue
        if p.returncode or sanitizer_report(p.stderr):
            fail("octet run exit %d: %s" % (p.returncode, first_line(p.stderr)))
            continue

        if model not in sessions:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.intra_op_num_threads = 2
            so.log_severity_level = 3
            sessions[model] = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        sess = sessions[model]
        ref = sess.run(None, {sess.get_inputs()[0].name: feed})
        out_names = [o.name for o in sess.get_outputs()]

        got, problems, worst = [], [], 0.0
        for oname, r in zip(out_names, ref):
            f = os.path.join(d, oname.replace("/", "_").replace("\\", "_") + ".npy")
            if not os.path.exists(f):
                problems.append("octet wrote no output '%s'" % oname)
                got.append(None)
                continue
            g = np.load(f)
            got.append(g)
            if g.shape != r.shape:
                problems.append("output '%s' shape %s, ONNX Runtime %s" % (oname, g.shape, r.shape))
            elif g.dtype != r.dtype:
                problems.append("output '%s' dtype %s, ONNX Runtime %s" % (oname, g.dtype, r.dtype))
        detail = ""
        if not problems:
            if kind == "yolov10":
                ok, worst, detail = compare_yolov10(got[0], ref[0])
                if not ok:
                    problems.append(detail)
            else:
                for oname, g, r in zip(out_names, got, ref):
                    e = rel_l2(g, r)
                    worst = max(worst, e)
                    if not e <= REL_TOL:
                        problems.append("output '%s' rel L2 %.3e > %.0e" % (oname, e, REL_TOL))
                if kind == "classify":
                    ga, ra = int(np.argmax(got[0].ravel())), int(np.argmax(ref[0].ravel()))
                    detail = "argmax %d/%d" % (ga, ra)
                    if ga != ra:
                        problems.append("argmax %d, ONNX Runtime %d" % (ga, ra))
                elif kind == "yolov5":
                    ok, detail, _ = match_dets(yolov5_dets(got[0]), yolov5_dets(ref[0]))
                    if not ok:
                        problems.append(detail)
        line = "rel L2 %.2e  %s  (octet %.1f s)" % (worst, detail, secs)
        if problems:
            extra = [q for q in problems if q != detail]
            fail(line + (" -- " + "; ".join(extra) if extra else ""))
        else:
            print("PASS  %s: %s" % (label, line))
            passed += 1
        sys.stdout.flush()

    if a.keep:
        print("kept " + tmp)
    else:
        subprocess.run(["rm", "-rf", tmp])
    print("total %.0f s" % (time.time() - t_start))
    if passed == 0 and failed == 0:
        print("SKIPPED: no case could run (assets missing)")
        print("0 passed, 0 failed, %d skipped" % skipped)
        return 77
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
