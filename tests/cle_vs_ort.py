"""Cross-layer equalized models under ONNX Runtime.

octet's own test (test_cle) checks the CLE models with octet's runtime; this
one checks that another runtime reads them the same way: the Max/Min pairs
that replace a Clip, their [1, C, 1, 1] bounds, the raw_data weights. For a
synthetic Conv -> Clip -> depthwise Conv -> Clip -> Conv model (opset 13,
bounds as inputs; opset 10, bounds as attributes) and, when present,
$OCTET_SHARED/models/mobilenetv2/mobilenetv2-12.onnx: `test_cle --apply`
writes the CLE model, onnx.checker accepts it, and ONNX Runtime's outputs
of the two models agree within relative L2 1e-5.
Prints "N passed, N failed"; exits 1 on a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conv(nodes, inits, rng, name, x, y, cin, cout, k, group):
    # rows and columns spread over e^-3..e^3, so CLE has work to do
    w = rng.uniform(-1, 1, (cout, cin // group, k, k)) * np.exp(rng.uniform(-3, 3, (cout, 1, 1, 1)))
    w *= np.exp(rng.uniform(-3, 3, (1, cin // group, 1, 1)))
    b = rng.uniform(-1, 1, cout) * 3
    inits += [numpy_helper.from_array(w.astype(np.float32), name + "_w"),
              numpy_helper.from_array(b.astype(np.float32), name + "_b")]
    nodes.append(helper.make_node("Conv", [x, name + "_w", name + "_b"], [y], name=name, group=group,
                                  kernel_shape=[k, k], pads=[k // 2] * 4))


def clip(nodes, inits, opset, name, x, y):
    if opset >= 11:
        inits += [numpy_helper.from_array(np.array(0, np.float32), name + "_lo"),
                  numpy_helper.from_array(np.array(6, np.float32), name + "_hi")]
        nodes.append(helper.make_node("Clip", [x, name + "_lo", name + "_hi"], [y], name=name))
    else:
        nodes.append(helper.make_node("Clip", [x], [y], name=name, min=0.0, max=6.0))


def chain_model(path, opset):
    rng = np.random.default_rng(7)
    nodes, inits = [], []
    conv(nodes, inits, rng, "c1", "x", "t1", 4, 8, 1, 1)
    clip(nodes, inits, opset, "k1", "t1", "t2")
    conv(nodes, inits, rng, "dw", "t2", "t3", 8, 8, 3, 8)
    clip(nodes, inits, opset, "k2", "t3", "t4")
    conv(nodes, inits, rng, "c3", "t4", "y", 8, 5, 1, 1)
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 9, 9])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 9, 9])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.save(m, path)


def run(path, x):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test-cle", required=True, help="the test_cle binary")
    a = ap.parse_args()
    shared = os.environ.get("OCTET_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for opset in (13, 10):
            p = os.path.join(tmp, "chain%d.onnx" % opset)
            chain_model(p, opset)
            cases.append(("chain opset %d" % opset, p, (1, 4, 9, 9), 2))
        mb = os.path.join(shared, "models/mobilenetv2/mobilenetv2-12.onnx")
        if os.path.exists(mb):
            cases.append(("mobilenetv2-12", mb, (1, 3, 224, 224), 21))
        else:
            print("SKIP mobilenetv2-12: %s is missing (set OCTET_SHARED)" % mb)
        for what, src, shape, min_pairs in cases:
            dst = os.path.join(tmp, "cle.onnx")
            r = subprocess.run([a.test_cle, "--apply", src, dst], capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                print("FAIL %s: %s" % (what, (r.stdout + r.stderr).strip()))
                continue
            pairs = int(r.stdout.split()[1])
            try:
                onnx.checker.check_model(onnx.load(dst), full_check=True)
                x = np.random.default_rng(1).random(shape, dtype=np.float32)
                ref, got = run(src, x), run(dst, x)
            except Exception as e:  # the checker's or the runtime's complaint is the failure
                failed += 1
                print("FAIL %s: %s" % (what, e))
                continue
            d = max(float(np.linalg.norm(a_ - b_) / np.linalg.norm(a_)) for a_, b_ in zip(ref, got))
            ok = d <= 1e-5 and pairs >= min_pairs
            passed += ok
            failed += not ok
            print("%s %s: %d pairs, ONNX Runtime outputs relative L2 %.3g" % ("ok" if ok else "FAIL", what, pairs, d))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
