#!/usr/bin/env python3
"""Explicit quantization import: generated Q/DQ models through octet, against
ONNX Runtime running the graph as defined (optimisations off).

octet folds DequantizeLinear(int8, zero point 0) activations and int8
DequantizeLinear weights (per tensor or per output channel) around Conv,
MatMul and Gemm into its real INT8 kernels (src/quant/qdq_int8.c); any other
Q/DQ pattern (uint8 or non-zero zero points, a weight quantized along the
wrong axis) runs the float graph. Each case checks both:
  - how many nodes ran on a "dnnl:int8" kernel (from `octet run -v`), so a
    silent fallback to float cannot pass, and a pattern the INT8 kernels
    cannot run exactly is not taken;
  - the output against ONNX Runtime: relative L2 <= 1e-5 (the INT8 kernels
    accumulate exactly in int32, the float graph in float: they differ by
    float rounding only), and, where the case ends in QuantizeLinear, the
    int8 codes identical on >= 99.9% of elements and never more than 1 apart.
Prints one line per case and "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print("SKIPPED: numpy/onnx/onnxruntime missing (%s); run scripts/setup.sh" % e)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)

rng = np.random.default_rng(11)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def wq(shape, axis, per_channel=True):
    """Int8 weight codes and their scales (symmetric, max-abs / 127)."""
    w = rng.standard_normal(shape).astype(np.float32)
    red = tuple(d for d in range(len(shape)) if d != axis)
    amax = np.abs(w).max(axis=red) if per_channel else np.abs(w).max()
    s = (np.maximum(amax, 1e-8) / 127.0).astype(np.float32)
    bs = s.reshape([-1 if d == axis else 1 for d in range(len(shape))]) if per_channel else s
    q = np.clip(np.round(w / bs), -127, 127).astype(np.int8)
    return q, s


def qdq_model(op, x_shape, w_shape, w_axis, attrs=None, act="int8", act_zp=0, per_channel=True,
              dq_axis=None, tail_q=True, relu_between=False, second=None):
    """x -> Q(act) -> DQ -> OP(DQ(W)) [-> Relu] -> Q -> DQ (-> y) ..."""
    inits, nodes = [], []
    adt = np.int8 if act == "int8" else np.uint8
    inits += [const("xs", np.float32(0.05)), const("xz", adt(act_zp))]
    nodes += [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
              helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])]
    q, s = wq(w_shape, w_axis, per_channel)
    inits += [const("wq", q), const("ws", s), const("wz", np.zeros(s.shape, np.int8))]
    ax = {} if not per_channel else {"axis": w_axis if dq_axis is None else dq_axis}
    nodes.append(helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], **ax))
    ins = ["xd", "wd"]
    if op in ("Conv", "Gemm", "ConvTranspose"):
        oc = w_shape[0] if op == "Conv" or (attrs or {}).get("transB") else w_shape[1]
        inits.append(const("b", rng.standard_normal(oc).astype(np.float32)))
        ins.append("b")
    nodes.append(helper.make_node(op, ins, ["y0"], **(attrs or {})))
    cur = "y0"
    if relu_between:
        nodes.append(helper.make_node("Relu", [cur], ["r0"]))
        cur = "r0"
    outs_t = TensorProto.FLOAT
    if tail_q:
        inits += [const("ys", np.float32(0.08)), const("yz", np.int8(0))]
        nodes.append(helper.make_node("QuantizeLinear", [cur, "ys", "yz"], ["yq"]))
        cur = "yq"
        outs_t = TensorProto.INT8
        if second:  # DQ -> a second quantized Conv -> Q
            q2, s2 = wq(second, 0)
            inits += [const("w2q", q2), const("w2s", s2), const("w2z", np.zeros(s2.shape, np.int8))]
            nodes += [helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["yd"]),
                      helper.make_node("DequantizeLinear", ["w2q", "w2s", "w2z"], ["w2d"], axis=0),
                      helper.make_node("Conv", ["yd", "w2d"], ["y1"], pads=[1, 1, 1, 1]),
                      helper.make_node("QuantizeLinear", ["y1", "ys", "yz"], ["yq2"])]
            cur = "yq2"
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info(cur, outs_t, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def cases():
    c = []
    conv3 = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    c.append(("conv 13->7 per-channel", qdq_model("Conv", [1, 13, 9, 11], [7, 13, 3, 3], 0, conv3), 1))
    c.append(("conv 3->16 stride 2 per-tensor weights",
              qdq_model("Conv", [1, 3, 17, 17], [16, 3, 3, 3], 0, dict(conv3, strides=[2, 2]), per_channel=False), 1))
    c.append(("conv 1->1 float output", qdq_model("Conv", [1, 1, 5, 5], [1, 1, 3, 3], 0, conv3, tail_q=False), 1))
    c.append(("depthwise 127", qdq_model("Conv", [1, 127, 6, 7], [127, 1, 3, 3], 0, dict(conv3, group=127)), 1))
    c.append(("grouped 12/3", qdq_model("Conv", [1, 12, 7, 7], [9, 4, 3, 3], 0, dict(conv3, group=3)), 1))
    c.append(("conv + relu, then a second int8 conv",
              qdq_model("Conv", [1, 8, 10, 10], [16, 8, 1, 1], 0, dict(kernel_shape=[1, 1]), relu_between=True,
                        second=[5, 16, 3, 3]), 2))
    c.append(("conv-transpose 2x2 stride 2, 13->6", qdq_model("ConvTranspose", [1, 13, 5, 7], [13, 6, 2, 2], 1,
                                                             dict(kernel_shape=[2, 2], strides=[2, 2])), 1))
    c.append(("matmul 2-D per-column", qdq_model("MatMul", [3, 13], [13, 7], 1), 1))
    c.append(("gemm transB per-row", qdq_model("Gemm", [2, 33], [5, 33], 0, dict(transB=1)), 1))
    # not taken: the INT8 kernels take symmetric int8 activations only
    c.append(("uint8 activation zp 128 (float path)",
              qdq_model("Conv", [1, 3, 8, 8], [4, 3, 3, 3], 0, conv3, act="uint8", act_zp=128), 0))
    c.append(("int8 activation zp 3 (float path)",
              qdq_model("Conv", [1, 3, 8, 8], [4, 3, 3, 3], 0, conv3, act_zp=3), 0))
    c.append(("weight scales along input channels (float path)",
              qdq_model("Conv", [1, 4, 8, 8], [4, 4, 3, 3], 1, conv3), 0))
    return c


def octet_run(octet, path, xp, tmp, out_name):
    od = tempfile.mkdtemp(dir=tmp)
    p = subprocess.run([octet, "run", path, "--input", xp, "--outputs-dir", od, "-v", "--threads", "2"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode:
        raise RuntimeError("octet run exit %d: %s" % (p.returncode, p.stderr.strip()[-400:]))
    n8 = len(re.findall(r"dnnl:int8", p.stderr))
    return np.load(os.path.join(od, out_name + ".npy")), n8


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--octet", required=True)
    a = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, m, want8 in cases():
            path = os.path.join(tmp, "m.onnx")
            onnx.save(m, path)
            shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
            x = (rng.standard_normal(shape) * 3).astype(np.float32)
            xp = os.path.join(tmp, "x.npy")
            np.save(xp, x)
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            ref = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
            try:
                got, n8 = octet_run(a.octet, path, xp, tmp, m.graph.output[0].name)
            except RuntimeError as e:
                print("FAIL  %s: %s" % (name, e))
                failed += 1
                continue
            why = []
            if n8 != want8:
                why.append("%d dnnl:int8 kernels, expected %d" % (n8, want8))
            if got.shape != ref.shape or got.dtype != ref.dtype:
                why.append("output %s %s, ONNX Runtime %s %s" % (got.shape, got.dtype, ref.shape, ref.dtype))
                info = ""
            elif ref.dtype == np.float32:
                rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
                info = "rel L2 %.2e" % rel
                if rel > 1e-5:
                    why.append(info)
            else:
                d = np.abs(got.astype(np.int32) - ref.astype(np.int32))
                same = float((d == 0).mean())
                info = "codes identical %.4f%%, max diff %d" % (100 * same, d.max())
                if same < 0.999 or d.max() > 1:
                    why.append(info)
            if why:
                print("FAIL  %s: %s" % (name, "; ".join(why)))
                failed += 1
            else:
                print("PASS  %s: %d INT8 kernels, %s" % (name, n8, info))
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
