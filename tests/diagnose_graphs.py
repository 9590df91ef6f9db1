#!/usr/bin/env python3
"""The diagnosis rules end to end on small synthetic graphs: each graph is
built here with onnx.helper (nothing binary is committed) together with
folders of .npy inputs, calibrated with `octet calibrate`, analysed with
`octet analyze --json`, and the document's "diagnoses" are checked: the rule
the graph was built to trigger fires (on the expected tensor, with the
expected nodes), and stays silent on a control graph.

Graphs
- shared-scale + output-collapse: box-like values in [0, 800] (4 channels)
  and sigmoid scores in [0, 1] (16 channels) joined by a Concat, then a
  Transpose to the output; scheme "all", minmax. The scores get 1/6.3 of a
  level; the Transpose inherits the scale; the output's scores are all 0.
  Control: the same graph with the boxes in [0, 1].
- outliers: y = 2x on N(0, 1) data with one value of 100 in 524288; minmax
  covers it. Control: no outlier.
- input-mismatch: calibrated on raw 0..255 values, analysed on x / 255.
  Control: analysed on the calibration folder.
- weight-spread: a Conv whose output channels' weights differ 1000x in
  range, calibrated with --per-tensor-weights. Control: per-channel weights.
- calibration-data: 4 images, the 4th 8x wider than the first 3 (minmax
  thresholds move 8x between 3/4 and all of the images). Control: 4 alike.
- saturation: calibrated on uniform [-1, 1], analysed on uniform [-1.5, 1.5]
  (a third of the values beyond the thresholds). Control: analysed on the
  calibration folder.
- yolov10n, when the shared assets are there (OCTET_SHARED, default
  ../shared beside the repository): scheme "all", minmax, 4 coco128 images;
  shared-scale on /model.23/Concat_3 and output-collapse starting there.

Usage: diagnose_graphs.py --octet PATH [--keep DIR]
Prints one line per check and "N passed, N failed"; exits 1 on a failure,
77 ("SKIPPED: ...") when `octet analyze` does not exist yet.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def skip(self, name, why):
        self.skipped += 1
        print("SKIP %s: %s" % (name, why))

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("PASS %s" % name)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + detail) if detail else ""))


def run(cmd, timeout=600):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            raise RuntimeError("%s reported %r:\n%s" % (" ".join(cmd), mark, err[-3000:]))
    return p.returncode, out, err


def analyze_available(octet):
    rc, out, err = run([octet, "analyze"])
    return "unknown command" not in (out + err)


# ---------------------------------------------------------------- building

def save_model(path, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, os.path.basename(path), inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return path


def const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def i64(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.int64), name)


def vinfo(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def write_npys(folder, arrays):
    os.makedirs(folder, exist_ok=True)
    for i, a in enumerate(arrays):
        np.save(os.path.join(folder, "%03d.npy" % i), np.ascontiguousarray(a, dtype=np.float32))
    return folder


def model_box_score(path, box_scale):
    """x [1,20,64] in [0,1]: channels 0-3 * box_scale (boxes), 4-19 through
    a sigmoid (scores), Concat on axis 1, Transpose to [1,64,20]."""
    nodes = [
        helper.make_node("Slice", ["x", "s0", "s4", "ax1"], ["xb"], name="slice_boxes"),
        helper.make_node("Slice", ["x", "s4", "s20", "ax1"], ["xs"], name="slice_scores"),
        helper.make_node("Mul", ["xb", "k_box"], ["boxes"], name="box_mul"),
        helper.make_node("Mul", ["xs", "k12"], ["z0"], name="score_mul"),
        helper.make_node("Sub", ["z0", "k6"], ["z"], name="score_sub"),
        helper.make_node("Sigmoid", ["z"], ["scores"], name="sig"),
        helper.make_node("Concat", ["boxes", "scores"], ["cat_out"], name="cat", axis=1),
        helper.make_node("Transpose", ["cat_out"], ["out"], name="tr", perm=[0, 2, 1]),
    ]
    inits = [i64("s0", [0]), i64("s4", [4]), i64("s20", [20]), i64("ax1", [1]),
             const("k_box", box_scale), const("k12", 12.0), const("k6", 6.0)]
    return save_model(path, nodes, [vinfo("x", [1, 20, 64])], [vinfo("out", [1, 64, 20])], inits)


def model_scale_relu(path, shape):
    """y = 2x, out = relu(y)."""
    nodes = [helper.make_node("Mul", ["x", "k2"], ["y"], name="mul"),
             helper.make_node("Relu", ["y"], ["out"], name="relu")]
    return save_model(path, nodes, [vinfo("x", shape)], [vinfo("out", shape)], [const("k2", 2.0)])


def model_conv(path, channel_scales, rng):
    """A 3x3 Conv, 3 -> len(channel_scales) channels, each output channel's
    weights scaled by its entry, then a Relu."""
    co = len(channel_scales)
    w = rng.standard_normal((co, 3, 3, 3)).astype(np.float32)
    w *= np.asarray(channel_scales, dtype=np.float32).reshape(co, 1, 1, 1)
    b = np.zeros(co, dtype=np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["y"], ["out"], name="relu")]
    return save_model(path, nodes, [vinfo("x", [1, 3, 16, 16])], [vinfo("out", [1, co, 16, 16])],
                      [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])


# ---------------------------------------------------------------- octet

class Octet:
    def __init__(self, exe, tmp):
        self.exe = exe
        self.tmp = tmp

    def calibrate(self, model, data, plan, *extra, timeout=600):
        cmd = [self.exe, "calibrate", model, "--data", data, "-o", plan, "--quiet"] + list(extra)
        rc, out, err = run(cmd, timeout=timeout)
        if rc != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), rc, err.strip()[-2000:]))
        return plan

    def analyze(self, model, plan, data, name, *extra):
        out_json = os.path.join(self.tmp, name + ".analysis.json")
        cmd = [self.exe, "analyze", model, "--plan", plan, "--data", data, "--json", "-o", out_json] + list(extra)
        rc, out, err = run(cmd, timeout=900)
        if rc != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), rc, err.strip()[-2000:]))
        if os.path.exists(out_json):
            with open(out_json) as f:
                return json.load(f)
        return json.loads(out)


def diagnoses(doc, rule=None, tensor=None):
    ds = doc.get("diagnoses")
    if not isinstance(ds, list):
        raise RuntimeError("the analysis document has no 'diagnoses' array (is oct_diagnose called?)")
    return [d for d in ds if (rule is None or d.get("rule") == rule) and
            (tensor is None or d.get("tensor") == tensor)]


def brief(ds):
    return "; ".join("%s/%s %s: %s" % (d.get("rule"), d.get("severity"), d.get("tensor"),
                                       (d.get("message") or "")[:160]) for d in ds) or "none"


# ---------------------------------------------------------------- cases

def case_shared_scale(R, o, tmp, rng):
    data = write_npys(os.path.join(tmp, "box_data"), [rng.uniform(0, 1, (1, 20, 64)) for _ in range(8)])
    for label, box_scale in (("trigger", 800.0), ("control", 1.0)):
        model = model_box_score(os.path.join(tmp, "box_score_%s.onnx" % label), box_scale)
        plan = o.calibrate(model, data, os.path.join(tmp, "box_%s.plan.json" % label),
                           "--scheme", "all", "--method", "minmax")
        doc = o.analyze(model, plan, data, "box_" + label)
        shared = diagnoses(doc, "shared-scale")
        collapse = diagnoses(doc, "output-collapse")
        if label == "trigger":
            d = next((x for x in shared if x.get("tensor") == "cat_out"), None)
            R.check("shared-scale fires on the box/score Concat", d is not None, brief(diagnoses(doc)))
            if d:
                R.check("shared-scale: error (scores get < 1 level)", d.get("severity") == "error",
                        str(d.get("severity")))
                R.check("shared-scale: nodes = the Concat", d.get("nodes") == ["cat"], str(d.get("nodes")))
                fb = d.get("fallback") or []
                R.check("shared-scale: fallback holds the Concat and the Transpose that inherits its scale",
                        "cat" in fb and "tr" in fb and "sig" not in fb and "box_mul" not in fb, str(fb))
                lv = (d.get("numbers") or {}).get("levels_small_part")
                R.check("shared-scale: the scores get about 1/6.3 of a level",
                        isinstance(lv, (int, float)) and 0.1 < lv < 0.2, str(lv))
                msg = d.get("message") or ""
                R.check("shared-scale: message names both parts and the Concat",
                        "'boxes'" in msg and "'scores'" in msg and "'cat'" in msg, msg)
            c = next((x for x in collapse if x.get("tensor") == "out"), None)
            R.check("output-collapse fires on the output", c is not None, brief(diagnoses(doc)))
            if c:
                R.check("output-collapse: the collapse starts at the Concat",
                        "'cat_out'" in (c.get("message") or "") and "cat" in (c.get("nodes") or []),
                        c.get("message", ""))
                R.check("output-collapse: fallback from the Concat to the output",
                        set(["cat", "tr"]) <= set(c.get("fallback") or []), str(c.get("fallback")))
        else:
            R.check("shared-scale silent on the control Concat (boxes in [0, 1])", not shared, brief(shared))
            R.check("output-collapse silent on the control", not collapse, brief(collapse))
            errors = [d for d in diagnoses(doc) if d.get("severity") == "error"]
            R.check("control: no error at all", not errors, brief(errors))


def case_outliers(R, o, tmp, rng):
    shape = [1, 1, 256, 256]
    for label in ("trigger", "control"):
        arrays = [rng.standard_normal(shape) for _ in range(8)]
        if label == "trigger":
            # 1 value in 524288, 25x the 99.99th percentile (3.9); small enough
            # that its energy (1e4) stays below the other values' (5e5), so a
            # clipping threshold has the lower quantization error
            arrays[0][0, 0, 7, 9] = 100.0
        data = write_npys(os.path.join(tmp, "outlier_data_" + label), arrays)
        model = model_scale_relu(os.path.join(tmp, "outliers_%s.onnx" % label), shape)
        plan = o.calibrate(model, data, os.path.join(tmp, "outliers_%s.plan.json" % label),
                           "--scheme", "all", "--method", "minmax")
        doc = o.analyze(model, plan, data, "outliers_" + label)
        found = diagnoses(doc, "outliers")
        if label == "trigger":
            d = next((x for x in found if x.get("tensor") == "y"), None)
            R.check("outliers fires on y = 2x", d is not None, brief(diagnoses(doc)))
            if d:
                R.check("outliers: minmax covers them (warning)",
                        d.get("severity") == "warning" and "covers" in (d.get("message") or ""),
                        d.get("message", ""))
                n = d.get("numbers") or {}
                R.check("outliers: ratio absmax / p9999 >= 10",
                        isinstance(n.get("outlier_ratio"), (int, float)) and n["outlier_ratio"] >= 10, str(n))
                R.check("outliers: recommends a calibrator other than minmax",
                        "--method" in (d.get("fix") or "") and "--method minmax" not in d.get("fix", ""),
                        d.get("fix", ""))
        else:
            R.check("outliers silent without outliers", not found, brief(found))


def case_input_mismatch(R, o, tmp, rng):
    shape = [1, 3, 16, 16]
    raw = [np.floor(rng.uniform(0, 256, shape)) for _ in range(6)]
    calib = write_npys(os.path.join(tmp, "pixels_raw"), raw)
    scaled = write_npys(os.path.join(tmp, "pixels_scaled"), [a / 255.0 for a in raw])
    model = model_scale_relu(os.path.join(tmp, "mismatch.onnx"), shape)
    plan = o.calibrate(model, calib, os.path.join(tmp, "mismatch.plan.json"), "--scheme", "all", "--method", "minmax")
    doc = o.analyze(model, plan, scaled, "mismatch_trigger")
    d = next((x for x in diagnoses(doc, "input-mismatch") if x.get("tensor") == "x"), None)
    R.check("input-mismatch fires (calibrated on 0..255, analysed on 0..1)", d is not None, brief(diagnoses(doc)))
    if d:
        R.check("input-mismatch: error with the /255 hint",
                d.get("severity") == "error" and "255" in (d.get("message") or ""), d.get("message", ""))
        R.check("input-mismatch: nodes = the input's consumer", "mul" in (d.get("nodes") or []), str(d.get("nodes")))
    doc = o.analyze(model, plan, calib, "mismatch_control")
    found = diagnoses(doc, "input-mismatch")
    R.check("input-mismatch silent on the calibration data", not found, brief(found))


def case_saturation(R, o, tmp, rng):
    shape = [1, 1, 64, 64]
    model = model_scale_relu(os.path.join(tmp, "sat.onnx"), shape)
    narrow = write_npys(os.path.join(tmp, "sat_narrow"), [rng.uniform(-1, 1, shape) for _ in range(6)])
    wide = write_npys(os.path.join(tmp, "sat_wide"), [rng.uniform(-1.5, 1.5, shape) for _ in range(6)])
    plan = o.calibrate(model, narrow, os.path.join(tmp, "sat.plan.json"), "--scheme", "all", "--method", "minmax")
    doc = o.analyze(model, plan, wide, "sat_trigger")
    d = next((x for x in diagnoses(doc, "saturation") if x.get("tensor") == "y"), None)
    R.check("saturation fires on y (a third of the values beyond the threshold)", d is not None, brief(diagnoses(doc)))
    if d:
        rate = (d.get("numbers") or {}).get("saturation_rate")
        R.check("saturation: rate about 1/3", isinstance(rate, (int, float)) and 0.25 < rate < 0.42, str(rate))
        R.check("saturation: error (own SQNR under 20 dB)", d.get("severity") == "error", "%s: %s" % (
            d.get("severity"), d.get("message")))
        R.check("saturation: fallback = the producer", d.get("fallback") == ["mul"], str(d.get("fallback")))
    doc = o.analyze(model, plan, narrow, "sat_control")
    found = diagnoses(doc, "saturation")
    R.check("saturation silent on the calibration data", not found, brief(found))


def case_weight_spread(R, o, tmp, rng):
    model = model_conv(os.path.join(tmp, "conv_spread.onnx"), [1.0, 0.5, 0.002, 0.001], rng)
    data = write_npys(os.path.join(tmp, "conv_data"), [rng.uniform(-1, 1, (1, 3, 16, 16)) for _ in range(6)])
    for label, extra in (("trigger", ["--per-tensor-weights"]), ("control", [])):
        plan = o.calibrate(model, data, os.path.join(tmp, "conv_%s.plan.json" % label), "--method", "minmax", *extra)
        doc = o.analyze(model, plan, data, "conv_" + label)
        found = diagnoses(doc, "weight-spread")
        if label == "trigger":
            d = next((x for x in found if "conv" in (x.get("nodes") or [])), None)
            R.check("weight-spread fires on the per-tensor Conv", d is not None, brief(diagnoses(doc)))
            if d:
                n = d.get("numbers") or {}
                R.check("weight-spread: spread about 1000x",
                        isinstance(n.get("spread"), (int, float)) and 200 < n["spread"] < 5000, str(n))
                R.check("weight-spread: fix = per-channel weights", "per channel" in (d.get("fix") or ""),
                        d.get("fix", ""))
        else:
            R.check("weight-spread silent with per-channel weights", not found, brief(found))


def case_calibration_data(R, o, tmp, rng):
    shape = [1, 1, 64, 64]
    model = model_scale_relu(os.path.join(tmp, "drift.onnx"), shape)
    for label in ("trigger", "control"):
        arrays = [rng.uniform(-1, 1, shape) for _ in range(4)]
        if label == "trigger":
            arrays[3] = arrays[3] * 8.0  # the last quarter of the images is 8x wider
        data = write_npys(os.path.join(tmp, "drift_" + label), arrays)
        plan = o.calibrate(model, data, os.path.join(tmp, "drift_%s.plan.json" % label),
                           "--scheme", "all", "--method", "minmax", "--count", "4")
        doc = o.analyze(model, plan, data, "drift_" + label)
        found = diagnoses(doc, "calibration-data")
        if label == "trigger":
            R.check("calibration-data fires (thresholds move 8x with the 4th image)", len(found) == 1,
                    brief(diagnoses(doc)))
            if found:
                n = found[0].get("numbers") or {}
                R.check("calibration-data: most int8 tensors move",
                        isinstance(n.get("share_moving"), (int, float)) and n["share_moving"] >= 0.5, str(n))
                R.check("calibration-data: fix = more images", "more images" in (found[0].get("fix") or ""),
                        found[0].get("fix", ""))
        else:
            R.check("calibration-data silent on 4 alike images", not found, brief(found))


def case_yolov10n(R, o, tmp, rng):
    shared = os.environ.get("OCTET_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
    model = os.path.join(shared, "models", "yolov10n", "yolov10n.onnx")
    calib = os.path.join(shared, "data", "coco128", "train2017", "images")
    val = os.path.join(shared, "data", "coco128", "val2017", "images")
    for p in (model, calib, val):
        if not os.path.exists(p):
            R.skip("yolov10n", "%s is missing (set OCTET_SHARED)" % p)
            return
    pre = ["--preset", "yolo", "--count", "4", "--threads", "2"]
    plan = o.calibrate(model, calib, os.path.join(tmp, "yolov10n_all.plan.json"),
                       "--scheme", "all", "--method", "minmax", *pre, timeout=1800)
    doc = o.analyze(model, plan, val, "yolov10n_all", *pre)
    cat = "/model.23/Concat_3"
    d = next((x for x in diagnoses(doc, "shared-scale") if x.get("tensor") == cat + "_output_0"), None)
    R.check("yolov10n: shared-scale on the box/score Concat", d is not None, brief(diagnoses(doc)))
    if d:
        lv = (d.get("numbers") or {}).get("levels_small_part")
        R.check("yolov10n: the class scores get less than one level",
                d.get("severity") == "error" and isinstance(lv, (int, float)) and lv < 1, "%s %s" % (d.get("severity"), lv))
        R.check("yolov10n: nodes = the Concat, fallback from it", d.get("nodes") == [cat] and cat in (d.get("fallback") or []),
                "%s %s" % (d.get("nodes"), d.get("fallback")))
    c = next((x for x in diagnoses(doc, "output-collapse") if x.get("tensor") == "output0"), None)
    R.check("yolov10n: output-collapse on output0, starting at the Concat",
            c is not None and "'%s_output_0'" % cat in (c.get("message") or ""), brief(diagnoses(doc, "output-collapse")))
    first = (diagnoses(doc) or [{}])[0]
    R.check("yolov10n: errors first", first.get("severity") == "error", brief(diagnoses(doc)[:1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--keep", help="keep the models, data and documents in this folder")
    a = ap.parse_args()
    if not analyze_available(a.octet):
        print("SKIPPED: octet analyze not available")
        print("0 passed, 0 failed")
        sys.exit(77)
    tmp = a.keep or tempfile.mkdtemp(prefix="octet_diag_")
    os.makedirs(tmp, exist_ok=True)
    R = Results()
    o = Octet(a.octet, tmp)
    rng = np.random.default_rng(20261128)
    cases = [case_shared_scale, case_outliers, case_input_mismatch, case_saturation, case_weight_spread,
             case_calibration_data, case_yolov10n]
    try:
        for case in cases:
            try:
                case(R, o, tmp, rng)
            except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                R.check(case.__name__, False, str(e))
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed%s" % (R.passed, R.failed, ", %d skipped" % R.skipped if R.skipped else ""))
    sys.exit(1 if R.failed else 0)


if __name__ == "__main__":
    main()
