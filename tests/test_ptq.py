#!/usr/bin/env python3
"""`octet calibrate --ptq` end to end (bias correction, AdaRound, CLE).

Synthetic (always): one Conv layer (8 -> 16 channels, 3x3) on inputs with a
positive mean, 4-bit weights, 32 calibration samples and 32 held out:
 - bias correction removes the mean output shift that round-to-nearest
   weights cause (per channel, against FP32), on the calibration samples
   and on the held-out ones;
 - AdaRound lowers the layer's reconstruction MSE below round to nearest
   (the plan's log) and the held-out output error too;
 - the plan names the optimised model (sha256, path) and logs what was done,
   which `octet analyze` shows (console and HTML report);
 - `octet export --qdq` of the optimised model: ONNX Runtime's outputs agree
   with octet's simulation, and the stored int8 weights are AdaRound's codes;
 - --ptq cle on Conv -> Relu -> Conv leaves the FP32 outputs unchanged;
 - ConvTranspose (stride 2, groups 1 and 2): AdaRound and bias correction
   lower the layer's error as for Conv.
Real models (--real; slow): AdaRound at 4 bits on mobilenetv2-12 and yolov5n
lowers every optimised layer's reconstruction MSE below round to nearest,
on most layers; ONNX Runtime runs mobilenetv2's optimised Q/DQ export much
closer to octet's simulation of it than to the round-to-nearest plan's.

Usage: test_ptq.py --octet PATH [--real]. Prints one line per check and
"N passed, N failed"; exits 1 on failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("OCTET_SHARED", os.path.join(HERE, "..", "..", "shared"))
N_PASS = N_FAIL = 0


def check(ok, what):
    global N_PASS, N_FAIL
    N_PASS += bool(ok)
    N_FAIL += not ok
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def octet(*args, env=None):
    r = subprocess.run([ARGS.octet] + [str(a) for a in args], capture_output=True, text=True,
                       env=dict(os.environ, **env) if env else None)
    if r.returncode:
        raise RuntimeError("octet %s: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
    return r.stdout


def conv_model(path, w, b):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, w.shape[1], 12, 12])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1])
    g = helper.make_graph([node], "g", [x], [y], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def deconv_model(path, w, b, group):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="deconv", strides=[2, 2], pads=[1, 1, 1, 1],
                            output_padding=[1, 1], group=group)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def deconv(tmp, rng, calib, held):
    """ConvTranspose (stride 2, output padding, groups 1 and 2): AdaRound and
    bias correction through the transposed geometry, checked as for Conv."""
    data = os.path.dirname(calib[0])
    for group in (1, 2):
        w = (rng.standard_normal((8, 6 // group, 3, 3)) * 0.2 + 0.05).astype(np.float32)
        model = os.path.join(tmp, "deconv%d.onnx" % group)
        deconv_model(model, w, np.zeros(6, np.float32), group)
        common = ["--data", data, "--weight-bits", "4", "--method", "minmax", "-q"]
        rtn, opt = os.path.join(tmp, "dc_rtn%d.json" % group), os.path.join(tmp, "dc_opt%d.json" % group)
        octet("calibrate", model, *common, "-o", rtn)
        octet("calibrate", model, *common, "--ptq", "adaround,bias-correction", "--ptq-images", "32",
              "--adaround-iters", "1000", "-o", opt)
        pj = json.load(open(opt))
        L = pj["ptq"]["layers"][0]
        check(L["op"] == "ConvTranspose" and L["adaround"] and L["bias_corrected"] and L["mse_after"] < 0.8 * L["mse_rtn"],
              "ConvTranspose group %d: AdaRound reconstruction MSE %.5f -> %.5f" % (group, L["mse_rtn"], L["mse_after"]))
        yf = run_all(tmp, model, held[:8])
        yr = run_all(tmp, model, held[:8], rtn)
        yo = run_all(tmp, pj["model"]["path"], held[:8], opt)
        er, eo = float(((yr - yf) ** 2).mean()), float(((yo - yf) ** 2).mean())
        sr, so = shift(yr, yf), shift(yo, yf)
        check(eo < er and so < 0.5 * sr, "ConvTranspose group %d, held-out: output MSE %.5f -> %.5f, mean shift %.4f -> "
              "%.4f" % (group, er, eo, sr, so))


def chain_model(path, rng):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w1 = (rng.standard_normal((16, 8, 3, 3)) * np.exp(rng.standard_normal((16, 1, 1, 1)))).astype(np.float32)
    w2 = (rng.standard_normal((8, 16, 1, 1)) * 0.3).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b1"),
             numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(np.zeros(8, np.float32), "b2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2", "b2"], ["y"], name="c2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def run_all(tmp, model, files, plan=None, env=None):
    outs = []
    for i, f in enumerate(files):
        o = os.path.join(tmp, "out_%d.npy" % i)
        octet("run", model, "--input", f, "-o", o, *(["--plan", plan, "--simulate"] if plan else []), env=env)
        outs.append(np.load(o))
    return np.concatenate(outs)


def shift(yq, yf):
    return np.abs((yq - yf).mean(axis=(0, 2, 3))).mean()


def synthetic(tmp):
    rng = np.random.default_rng(7)
    w = (rng.standard_normal((16, 8, 3, 3)) * 0.2 + 0.05).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32) * 0.1
    model = os.path.join(tmp, "conv.onnx")
    conv_model(model, w, b)
    data = os.path.join(tmp, "calib")
    os.makedirs(data)
    files = []
    for i in range(64):
        x = (rng.random((1, 8, 12, 12)) * 2 + 0.5 + rng.random((1, 8, 1, 1))).astype(np.float32)
        f = os.path.join(data if i < 32 else tmp, "x%02d.npy" % i)
        np.save(f, x)
        files.append(f)
    calib, held = files[:32], files[32:]
    common = ["--data", data, "--weight-bits", "4", "--method", "minmax", "-q"]
    p = {k: os.path.join(tmp, k + ".json") for k in ("rtn", "bc", "ada")}
    octet("calibrate", model, *common, "-o", p["rtn"])
    octet("calibrate", model, *common, "--ptq", "bias-correction", "--ptq-images", "32", "-o", p["bc"])
    octet("calibrate", model, *common, "--ptq", "adaround", "--ptq-images", "32", "--adaround-iters", "2000",
          "-o", p["ada"])
    plans = {k: json.load(open(v)) for k, v in p.items()}
    for k in ("bc", "ada"):
        check(plans[k]["model"]["path"] == os.path.join(tmp, k + ".onnx") and os.path.exists(plans[k]["model"]["path"]),
              "%s: the plan names the optimised model %s" % (k, plans[k]["model"]["path"]))
        check("ptq" in plans[k] and len(plans[k]["ptq"]["layers"]) == 1, "%s: the plan logs the layer" % k)
    for name, fs in (("calibration", calib), ("held-out", held)):
        yf = run_all(tmp, model, fs)
        yr = run_all(tmp, model, fs, p["rtn"])
        yb = run_all(tmp, os.path.join(tmp, "bc.onnx"), fs, p["bc"])
        ya = run_all(tmp, os.path.join(tmp, "ada.onnx"), fs, p["ada"])
        sr, sb = shift(yr, yf), shift(yb, yf)
        check(sr > 0.05 and sb < 0.2 * sr,
              "bias correction, %s samples: mean |output shift| per channel %.4f -> %.4f" % (name, sr, sb))
        er, ea = float(((yr - yf) ** 2).mean()), float(((ya - yf) ** 2).mean())
        check(ea < er, "AdaRound, %s samples: output MSE vs FP32 %.5f -> %.5f" % (name, er, ea))
    L = plans["ada"]["ptq"]["layers"][0]
    check(L["adaround"] and L["mse_after"] < 0.8 * L["mse_rtn"],
          "AdaRound: reconstruction MSE %.5f -> %.5f (the plan's log)" % (L["mse_rtn"], L["mse_after"]))
    b_bc = plans["bc"]["ptq"]["layers"][0]
    check(b_bc["bias_corrected"] and b_bc["bias_shift"] > 0, "bias correction logged: mean |shift| %.4f" % b_bc["bias_shift"])
    html = os.path.join(tmp, "ada.html")
    out = octet("analyze", os.path.join(tmp, "ada.onnx"), "--data", data, "--count", "4", "--plan", p["ada"],
                "--report", html)
    page = open(html).read()
    check("weights optimised by adaround (4-bit): 1 layers, AdaRound on 1" in out and "Weight optimisation" in page
          and "conv" in page, "octet analyze shows the per-layer PTQ log (console and report)")
    qdq(tmp, os.path.join(tmp, "ada.onnx"), p["ada"], held[:4], w)
    cle_cli(tmp, rng, calib)
    deconv(tmp, rng, calib, held)


def qdq(tmp, model, plan, files, w):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    out = os.path.join(tmp, "ada_qdq.onnx")
    octet("export", model, "--plan", plan, "--qdq", out)
    m = onnx.load(out)
    ints = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    codes = [v for v in ints.values() if v.dtype == np.int8 and v.size == w.size]
    opt = {i.name: numpy_helper.to_array(i) for i in onnx.load(model).graph.initializer}["w"]
    s = np.abs(opt).reshape(16, -1).max(1) / 7
    want = np.clip(np.round(opt / s[:, None, None, None]), -7, 7).astype(np.int8)
    check(len(codes) == 1 and np.array_equal(codes[0].reshape(want.shape), want),
          "Q/DQ export: the int8 weights are the optimised codes (within +-7)")
    rtn = np.clip(np.round(w / (np.abs(w).reshape(16, -1).max(1) / 7)[:, None, None, None]), -7, 7)
    check(int((want != rtn).sum()) > 0, "Q/DQ export: %d of %d codes differ from round to nearest"
          % (int((want != rtn).sum()), want.size))
    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    yo = np.concatenate([sess.run(None, {"x": np.load(f)})[0] for f in files])
    ys = run_all(tmp, model, files, plan)
    rel = float(np.linalg.norm(yo - ys) / np.linalg.norm(ys))
    check(rel < 1e-5, "ONNX Runtime on the exported Q/DQ model vs octet's simulation: relative L2 %.2e" % rel)


def cle_cli(tmp, rng, calib):
    model = os.path.join(tmp, "chain.onnx")
    chain_model(model, rng)
    plan = os.path.join(tmp, "cle.json")
    out = octet("calibrate", model, "--data", os.path.dirname(calib[0]), "--ptq", "cle", "-o", plan)
    pj = json.load(open(plan))
    check("1 Conv pairs equalized" in out and pj["ptq"]["cle_pairs"] == 1, "--ptq cle: one pair equalized")
    y0 = run_all(tmp, model, calib[:4])
    y1 = run_all(tmp, pj["model"]["path"], calib[:4])
    rel = float(np.linalg.norm(y1 - y0) / np.linalg.norm(y0))
    check(rel < 1e-5, "--ptq cle: FP32 outputs unchanged (relative L2 %.1e)" % rel)


def real(tmp):
    cases = [("mobilenetv2-12", "models/mobilenetv2/mobilenetv2-12.onnx", "data/imagenet500/images",
              ["--preset", "imagenet", "--shape", "input=1x3x224x224"]),
             ("yolov5n", "models/yolov5n/yolov5n.onnx", "data/coco128/train2017/images", ["--preset", "yolo"])]
    for name, model, data, pre in cases:
        model, data = os.path.join(SHARED, model), os.path.join(SHARED, data)
        if not os.path.exists(model) or not os.path.isdir(data):
            print("SKIP %s: %s or %s is missing" % (name, model, data))
            continue
        plan = os.path.join(tmp, name + ".json")
        octet("calibrate", model, "--data", data, "--count", "8", "--method", "minmax", "--weight-bits", "4",
              "--ptq", "adaround", "--ptq-images", "8", "--adaround-iters", "300", "--adaround-batch", "256",
              "-q", "-o", plan, *pre)
        pj = json.load(open(plan))
        layers = pj["ptq"]["layers"]
        if name == "mobilenetv2-12":
            real_qdq(tmp, pj["model"]["path"], plan, data, pre, model)
        ran = [l for l in layers if l["columns"] > 0 and l["mse_rtn"] > 0]
        won = [l for l in ran if l["adaround"]]
        check(all(l["mse_after"] < l["mse_rtn"] for l in won) and len(won) >= 0.8 * len(ran) and len(ran) > 40,
              "%s: AdaRound lowered the reconstruction MSE of %d of %d layers (the rest kept round to nearest), "
              "summed %.3f -> %.3f" % (name, len(won), len(ran), sum(l["mse_rtn"] for l in ran),
                                       sum(l["mse_after"] if l["adaround"] else l["mse_rtn"] for l in ran)))


def real_qdq(tmp, model, plan, data, pre, orig):
    """The Q/DQ export of a real optimised model under ONNX Runtime against
    octet's simulation. ONNX Runtime runs the graph as ONNX defines it
    (optimisations off): with them on it fuses Q/DQ into integer kernels
    whose AVX2 u8*s8 products saturate (tests/sim_vs_ort.py). A 4-bit
    mobilenetv2 is chaotic: float rounding differences between two correct
    implementations flip int8 codes that grow downstream (octet's own
    reference and oneDNN kernels differ by 0.1 to 0.4 relative L2 on single
    images, and ONNX Runtime by a little more). So the check discriminates
    instead: on 8 images, ONNX Runtime on the export must be much closer to
    octet's simulation of the optimised plan than to its simulation of the
    round-to-nearest plan (what an export that lost AdaRound's codes would
    compute), and agree on the top-1 class on most images."""
    import onnxruntime as ort
    out = os.path.join(tmp, "mb_qdq.onnx")
    octet("export", model, "--plan", plan, "--qdq", out)
    rtn = os.path.join(tmp, "mb_rtn.json")
    octet("calibrate", orig, "--data", data, "--count", "8", "--method", "minmax", "--weight-bits", "4", "-q",
          "-o", rtn, *pre)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
    imgs = sorted(os.listdir(data))[100:108]
    right, wrong, top1 = [], [], 0
    for i, im in enumerate(imgs):
        x = os.path.join(tmp, "img%d.npy" % i)
        octet("preprocess", os.path.join(data, im), "--model", model, *pre, "-o", x)
        yo = sess.run(None, {sess.get_inputs()[0].name: np.load(x)})[0]
        ys = run_all(tmp, model, [x], plan)
        yw = run_all(tmp, orig, [x], rtn)
        right.append(float(np.linalg.norm(yo - ys) / np.linalg.norm(ys)))
        wrong.append(float(np.linalg.norm(yo - yw) / np.linalg.norm(yw)))
        top1 += int(np.argmax(yo) == np.argmax(ys))
    mr, mw = float(np.mean(right)), float(np.mean(wrong))
    check(mr < 0.5 * mw and 2 * top1 >= len(imgs),
          "mobilenetv2-12 AdaRound 4-bit Q/DQ export under ONNX Runtime, %d images: mean relative L2 to octet's "
          "simulation of the optimised plan %.3f (top-1 equal on %d), to the round-to-nearest plan's %.3f"
          % (len(imgs), mr, top1, mw))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--real", action="store_true")
    ARGS = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="octet-ptq-") as tmp:
        try:
            synthetic(tmp)
            if ARGS.real:
                real(tmp)
        except RuntimeError as e:
            check(False, str(e))
    print("%d passed, %d failed" % (N_PASS, N_FAIL))
    sys.exit(1 if N_FAIL else 0)


if __name__ == "__main__":
    main()
