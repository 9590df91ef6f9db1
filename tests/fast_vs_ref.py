#!/usr/bin/env python3
"""Every fast-path kernel against the reference kernels on random data.

Builds small ONNX graphs (onnx.helper) around each node kind the oneDNN and
CPU backends take: Conv (1, 3, 13, 127 channels; spatial 1, 7, 33; stride 2;
dilation; groups and depthwise; padding and auto_pad) with every fused tail
(bias, Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, SiLU,
residual Add), pooling, MatMul, Gemm, element-wise ops, Concat/Split,
nearest Resize and Softmax, QLinearConv and ConvInteger (uint8/int8, zero
points, per-channel scales, bias, groups; exact, and declined where the
float sums could be inexact). Each graph runs through `octet run` on the fast
path and with OCTET_REFERENCE=1 on the same random input (never zeros);
outputs must agree to relative L2 1e-5, and the verbose log must show that
the node really ran on the expected fast implementation (so a fallback to
the reference cannot pass vacuously). Prints "N passed, N failed".
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print("SKIPPED: numpy/onnx missing (%s); run scripts/setup.sh" % e)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)

rng = np.random.default_rng(7)


def model(nodes, inputs, outputs, inits, opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def init(name, arr):
    return numpy_helper.from_array(arr.astype(np.float32), name)


def conv_case(c_in, c_out, hw, k, stride=1, dil=1, group=1, pad=None, auto_pad=None, bias=True, tail=None):
    w = rng.standard_normal((c_out, c_in // group, k, k)).astype(np.float32) / np.sqrt(c_in * k * k / group)
    inits = [init("W", w)]
    ins = ["X", "W"]
    if bias:
        inits.append(init("B", rng.standard_normal(c_out)))
        ins.append("B")
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride], dilations=[dil, dil], group=group)
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    elif pad is not None:
        attrs["pads"] = [pad, pad, pad, pad]
    nodes = [helper.make_node("Conv", ins, ["C"], name="conv", **attrs)]
    last = "C"
    extra_in = []
    for t in tail or []:
        out = last + "_" + t
        if t == "silu":
            nodes += [helper.make_node("Sigmoid", [last], [last + "_s"]), helper.make_node("Mul", [last, last + "_s"], [out])]
        elif t == "clip":
            inits += [init("lo", np.array(0.0)), init("hi", np.array(6.0))]
            nodes.append(helper.make_node("Clip", [last, "lo", "hi"], [out]))
        elif t == "leaky":
            nodes.append(helper.make_node("LeakyRelu", [last], [out], alpha=0.1))
        elif t == "hardsigmoid":
            nodes.append(helper.make_node("HardSigmoid", [last], [out], alpha=0.2, beta=0.5))
        elif t == "add":
            extra_in.append("R")
            nodes.append(helper.make_node("Add", [last, "R"], [out]))
        else:
            nodes.append(helper.make_node({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "HardSwish"}[t], [last], [out]))
        last = out
    inputs = [vi("X", [1, c_in, hw, hw])]
    m = model(nodes, inputs, [helper.make_tensor_value_info(last, TensorProto.FLOAT, None)], inits)
    return m, extra_in


def run(octet, path, xs, tmp, env_extra):
    d = tempfile.mkdtemp(dir=tmp)
    cmd = [octet, "run", path, "--outputs-dir", d, "-v"]
    for x in xs:
        cmd += ["--input", x]
    env = dict(os.environ, **env_extra)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(r.stderr.strip()[-300:])
    outs = sorted(os.listdir(d))
    return {os.path.splitext(o)[0]: np.load(os.path.join(d, o)) for o in outs}, r.stderr


def check(octet, tmp, name, m, extra_in, expect_impl, exact=False, step=None, inputs=None):
    """Fast against reference. exact: bit-identical outputs. step: outputs
    are multiples of this quantization step and may differ by one step on a
    few elements (the reference's double Sigmoid against the fast float
    one). inputs: a function of a shape giving the input array."""
    path = os.path.join(tmp, name.replace(" ", "_").replace("/", "_") + ".onnx")
    if extra_in:
        # the residual input: an extra graph input of the Conv's output shape,
        # produced before the Conv runs (a graph input always is)
        from onnx import shape_inference
        inf = shape_inference.infer_shapes(m)
        shp = None
        for v in list(inf.graph.value_info) + list(inf.graph.output):
            if v.name == "C":
                shp = [d.dim_value for d in v.type.tensor_type.shape.dim]
        m.graph.input.append(vi("R", shp))
    onnx.save(m, path)
    xs = []
    for i, inp in enumerate(m.graph.input):
        shp = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        x = inputs(shp) if inputs else rng.standard_normal(shp).astype(np.float32)
        x[x == 0] = 0.5
        p = os.path.join(tmp, "in%d.npy" % i)
        np.save(p, x)
        xs.append(p)
    fast, log = run(octet, path, xs, tmp, {})
    ref, _ = run(octet, path, xs, tmp, {"OCTET_REFERENCE": "1"})
    if expect_impl and expect_impl not in log:
        raise AssertionError("expected the fast implementation '%s'; log: %s" % (expect_impl, log.strip()[-200:]))
    if sorted(fast) != sorted(ref):
        raise AssertionError("outputs differ: %s vs %s" % (sorted(fast), sorted(ref)))
    if exact:
        for k in fast:
            a, b = fast[k], ref[k]
            if a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b, equal_nan=True):
                d = np.abs(a.astype(np.float64) - b) if a.shape == b.shape else np.inf
                raise AssertionError("%s: not bit-exact, %d elements differ, max abs diff %g" % (
                    k, int(np.sum(a != b)) if a.shape == b.shape else -1, np.nanmax(d)))
        return "bit-exact"
    if step:
        worst_frac = 0.0
        for k in fast:
            a, b = fast[k].astype(np.float64), ref[k].astype(np.float64)
            d = np.abs(a - b)
            if d.max() > step * (1 + 1e-5):
                raise AssertionError("%s: max abs diff %g > one step %g" % (k, d.max(), step))
            frac = float(np.mean(d > 0))
            worst_frac = max(worst_frac, frac)
        if worst_frac > 0.01:
            raise AssertionError("%.3g%% of the elements differ by a step (limit 1%%)" % (100 * worst_frac))
        return "%.4f%% elements one step off" % (100 * worst_frac)
    worst = 0.0
    for k in fast:
        a, b = fast[k], ref[k]
        rel = float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))
        worst = max(worst, rel)
    if worst > 1e-5:
        raise AssertionError("relative L2 %.3g > 1e-5" % worst)
    return "relative L2 %.2e" % worst


def check_same_fast(octet, tmp, name, m_fused, m_unfused, expect_fused, expect_unfused, inputs=None):
    """Two graphs with the same output Y on the fast path: Y must be
    bit-identical (a fused kernel against the unfused fast kernels)."""
    outs = []
    x = None
    for tag, m, expect in (("fused", m_fused, expect_fused), ("unfused", m_unfused, expect_unfused)):
        path = os.path.join(tmp, "%s_%s.onnx" % (name.replace(" ", "_").replace("/", "_"), tag))
        onnx.save(m, path)
        if x is None:
            shp = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
            x = inputs(shp) if inputs else rng.standard_normal(shp).astype(np.float32)
            np.save(os.path.join(tmp, "in0.npy"), x)
        fast, log = run(octet, path, [os.path.join(tmp, "in0.npy")], tmp, {})
        if expect not in log:
            raise AssertionError("%s: expected '%s'; log: %s" % (tag, expect, log.strip()[-300:]))
        if tag == "unfused" and expect_fused in log:
            raise AssertionError("unfused graph still ran '%s'" % expect_fused)
        outs.append(fast["Y"])
    if not np.array_equal(outs[0], outs[1], equal_nan=True):
        raise AssertionError("fused and unfused fast paths differ on %d elements" % int(np.sum(outs[0] != outs[1])))
    return "bit-exact with the unfused fast path"


def cases():
    out = []
    for c in (1, 3, 13, 127):
        for hw in (1, 7, 33):
            out.append(("conv c%d hw%d k3" % (c, hw), conv_case(c, 16, hw, 3, pad=1), "dnnl:"))
    out.append(("conv stride2", conv_case(13, 24, 33, 3, stride=2, pad=1), "dnnl:"))
    out.append(("conv dilation2", conv_case(13, 8, 33, 3, dil=2, pad=2), "dnnl:"))
    out.append(("conv groups", conv_case(12, 24, 33, 3, group=3, pad=1), "dnnl:"))
    out.append(("conv depthwise", conv_case(127, 127, 33, 3, group=127, pad=1), "dnnl:"))
    out.append(("conv 1x1 no bias", conv_case(127, 13, 7, 1, bias=False), "dnnl:"))
    out.append(("conv SAME_UPPER s2", conv_case(3, 13, 33, 3, stride=2, auto_pad="SAME_UPPER"), "dnnl:"))
    out.append(("conv SAME_LOWER s2", conv_case(3, 13, 33, 4, stride=2, auto_pad="SAME_LOWER"), "dnnl:"))
    out.append(("conv 5x5 pad0", conv_case(13, 13, 33, 5, pad=0), "dnnl:"))
    for t in ("relu", "clip", "leaky", "hardsigmoid", "hardswish", "sigmoid", "tanh", "silu"):
        out.append(("conv+%s" % t, conv_case(13, 16, 33, 3, pad=1, tail=[t]), "+"))
    out.append(("conv+silu+add", conv_case(16, 16, 33, 3, pad=1, tail=["silu", "add"]), "+Add"))
    out.append(("conv+add+relu", conv_case(16, 16, 7, 3, pad=1, tail=["add", "relu"]), "+Add"))
    # transposed convolutions (weights [C_in, C_out/group, k, k])
    for (cin, cout, g, k, st, pads, opad, hw) in ((16, 8, 1, 2, 2, [0, 0, 0, 0], None, 33),
                                                 (13, 3, 1, 3, 2, [1, 1, 1, 1], [1, 1], 7),
                                                 (12, 6, 3, 4, 2, [1, 1, 1, 1], None, 7),
                                                 (3, 127, 1, 3, 1, [0, 0, 0, 0], None, 1)):
        w = init("W", rng.standard_normal((cin, cout // g, k, k)) / np.sqrt(cin * k * k))
        b = init("B", rng.standard_normal(cout))
        attrs = dict(kernel_shape=[k, k], strides=[st, st], pads=pads, group=g)
        if opad:
            attrs["output_padding"] = opad
        m = model([helper.make_node("ConvTranspose", ["X", "W", "B"], ["Y"], **attrs)], [vi("X", [1, cin, hw, hw])],
                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [w, b])
        out.append(("ConvTranspose c%d->%d g%d k%d s%d" % (cin, cout, g, k, st), (m, []), "dnnl:"))
    # kernel == stride, no padding: the sgemm + scatter kernel, on plain input
    # (a graph input) and on channels-last input (behind a conv), odd sizes
    for (cin, cout, k, hw, bias) in ((13, 7, 2, 7, True), (3, 5, 3, 1, False), (24, 24, 2, 33, True)):
        w = init("W", rng.standard_normal((cin, cout, k, k)) / np.sqrt(cin))
        ins = ["X", "W", "B"] if bias else ["X", "W"]
        inits = [w, init("B", rng.standard_normal(cout))] if bias else [w]
        m = model([helper.make_node("ConvTranspose", ins, ["Y"], kernel_shape=[k, k], strides=[k, k])],
                  [vi("X", [1, cin, hw, hw])], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
        out.append(("ConvTranspose k=s=%d c%d->%d plain" % (k, cin, cout), (m, []), "dnnl:gemm-deconv"))
        wc = init("Wc", rng.standard_normal((cin, 3, 3, 3)) / 5)
        m = model([helper.make_node("Conv", ["X", "Wc"], ["C"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                   helper.make_node("ConvTranspose", ["C"] + ins[1:], ["Y"], kernel_shape=[k, k], strides=[k, k])],
                  [vi("X", [1, 3, hw, hw])], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits + [wc])
        out.append(("ConvTranspose k=s=%d c%d->%d after conv" % (k, cin, cout), (m, []), "dnnl:gemm-deconv"))
    # pooling
    for op, attrs in (("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
                      ("MaxPool", dict(kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])),
                      ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
                      ("AveragePool", dict(kernel_shape=[2, 2], strides=[2, 2], count_include_pad=1)),
                      ("GlobalAveragePool", {}), ("GlobalMaxPool", {})):
        for c in (3, 13):
            m = model([helper.make_node(op, ["X"], ["Y"], **attrs)], [vi("X", [1, c, 33, 33])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [])
            out.append(("%s c%d %s" % (op, c, attrs.get("kernel_shape", "")), (m, []), "dnnl:"))
    # matrix products
    for (mm, k, n) in ((1, 127, 13), (7, 33, 1), (33, 13, 127)):
        w = init("B", rng.standard_normal((k, n)))
        m = model([helper.make_node("MatMul", ["A", "B"], ["Y"])], [vi("A", [mm, k])],
                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [w])
        out.append(("MatMul %dx%dx%d" % (mm, k, n), (m, []), "dnnl:"))
        w = init("B", rng.standard_normal((n, k)))
        c = init("C", rng.standard_normal(n))
        m = model([helper.make_node("Gemm", ["A", "B", "C"], ["Y"], transB=1)], [vi("A", [mm, k])],
                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [w, c])
        out.append(("Gemm %dx%dx%d" % (mm, k, n), (m, []), "dnnl:"))
    m = model([helper.make_node("MatMul", ["A", "B"], ["Y"])], [vi("A", [2, 3, 7, 13]), vi("B", [2, 3, 13, 5])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [])
    out.append(("MatMul batched activations", (m, []), "dnnl:"))
    # CPU kernels behind a conv (so their inputs are channels-last)
    def after_conv(op_nodes, c=16, hw=33, extra_inits=None, expect="cpu:eltwise"):
        w = init("W", rng.standard_normal((c, 3, 3, 3)) / 5)
        nodes = [helper.make_node("Conv", ["X", "W"], ["C"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])] + op_nodes
        m = model(nodes, [vi("X", [1, 3, hw, hw])], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                  [w] + (extra_inits or []))
        return (m, []), expect
    for op in ("Erf", "Exp", "Abs", "Neg"):  # (Sigmoid would fuse into the Conv)
        out.append(("%s after conv" % op, *after_conv([helper.make_node(op, ["C"], ["Y"])])))
    out.append(("Mul per-channel const", *after_conv([helper.make_node("Mul", ["C", "S"], ["Y"])], extra_inits=[
        init("S", rng.standard_normal((1, 16, 1, 1)))])))
    out.append(("Add scalar const", *after_conv([helper.make_node("Add", ["C", "S"], ["Y"])], extra_inits=[
        init("S", np.array(0.25))])))
    # Q/DQ on channels-last data after a Conv: qdq_cases() (its Convs are
    # exact, so the pair is compared bit for bit; a Conv whose oneDNN and
    # reference sums differ in the last bit would move values sitting on a
    # rounding tie by a whole step, which no float tolerance covers)
    out += qdq_cases()
    out += qconv_cases()
    out += qlinear_cases()
    out.append(("Split+Concat nhwc", *after_conv([
        helper.make_node("Split", ["C", "sp"], ["a", "b"], axis=1),
        helper.make_node("Sigmoid", ["b"], ["bs"]),
        helper.make_node("Concat", ["bs", "a", "C"], ["Y"], axis=1)], extra_inits=[
        numpy_helper.from_array(np.array([5, 11], dtype=np.int64), "sp")], expect="cpu:concat")))
    out.append(("Resize nearest 2x", *after_conv([
        helper.make_node("Resize", ["C", "", "sc"], ["Y"], mode="nearest", coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor")], extra_inits=[init("sc", np.array([1, 1, 2, 2]))], expect="cpu:resize")))
    out.append(("Resize nearest half_pixel 3x", *after_conv([
        helper.make_node("Resize", ["C", "", "sc"], ["Y"], mode="nearest")], hw=7,
        extra_inits=[init("sc", np.array([1, 1, 3, 3]))], expect="cpu:resize")))
    # the vectorized float Sigmoid (arith.h) against the reference's double
    # exp: odd length, and values scaled into both saturated tails
    for scale in (1.0, 40.0):
        m = model([helper.make_node("Mul", ["X", "k"], ["Z"]), helper.make_node("Sigmoid", ["Z"], ["Y"])],
                  [vi("X", [1, 13, 7, 33])], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                  [init("k", np.array(scale))])
        out.append(("Sigmoid standalone x%g" % scale, (m, []), "cpu:eltwise"))
    for axis in (1, -1):
        m = model([helper.make_node("Softmax", ["X"], ["Y"], axis=axis)], [vi("X", [2, 13, 7, 33])],
                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [])
        out.append(("Softmax axis %d" % axis, (m, []), "cpu:softmax"))
    return out


def qdq_inputs(scale):
    """Normal values spread over the codes and past them (saturation), plus
    values at half steps (round-half-even ties) and a few NaN and inf."""
    def make(shp):
        n = int(np.prod(shp))
        x = (rng.standard_normal(n) * 100 * scale).astype(np.float32)
        k = rng.integers(-300, 300, n)
        ties = rng.random(n) < 0.25
        x[ties] = ((k[ties] + 0.5) * np.float32(scale)).astype(np.float32)
        if n >= 16:
            x[:3] = [np.nan, np.inf, -np.inf]
        return x.reshape(shp)
    return make


def qdq_nodes(src, dst, s, qt, zp, tag, shared=True):
    """src -> QuantizeLinear -> DequantizeLinear -> dst with scale s and zero
    point zp (None: absent); the DQ has its own, equal constants unless
    shared."""
    qs, qz = tag + "_s", tag + "_z"
    inits = [init(qs, np.array(s))]
    if zp is not None:
        inits.append(helper.make_tensor(qz, qt, [], [zp]))
    dqs, dqz = qs, qz
    if not shared:
        dqs, dqz = qs + "d", qz + "d"
        inits.append(init(dqs, np.array(s)))
        if zp is not None:
            inits.append(helper.make_tensor(dqz, qt, [], [zp]))
    qin = [src, qs] + ([qz] if zp is not None else [])
    dqin = [tag + "_q", dqs] + ([dqz] if zp is not None else [])
    return [helper.make_node("QuantizeLinear", qin, [tag + "_q"]),
            helper.make_node("DequantizeLinear", dqin, [dst])], inits


def diag_conv(c, hw):
    """A 1x1 Conv that multiplies each channel by a power of two: exact on
    oneDNN and in the reference alike, and its output is channels-last."""
    w = np.zeros((c, c, 1, 1), np.float32)
    w[np.arange(c), np.arange(c), 0, 0] = 2.0 ** rng.integers(-2, 3, c)
    return [helper.make_node("Conv", ["X", "Wd"], ["C"], kernel_shape=[1, 1])], [init("Wd", w)]


SILU_ABSORBED = " +DequantizeLinear +Sigmoid +QuantizeLinear +DequantizeLinear +Mul +QuantizeLinear +DequantizeLinear"


def silu_graph(c, hw, nhwc, p1, p2, p3, mul_swapped=False, extra_out=None):
    """The Q/DQ SiLU of ONNX Runtime's quantized YOLO: A = QDQ(x),
    Y = QDQ(A * QDQ(Sigmoid(A))). p1..p3: (scale, qtype, zero point)."""
    nodes, inits = diag_conv(c, hw) if nhwc else ([], [])
    src = "C" if nhwc else "X"
    for tag, a, b, p in (("p1", src, "A", p1), ("p2", "Sg", "S", p2), ("p3", "M", "Y", p3)):
        if tag == "p2":
            nodes.append(helper.make_node("Sigmoid", ["A"], ["Sg"]))
        if tag == "p3":
            nodes.append(helper.make_node("Mul", ["S", "A"] if mul_swapped else ["A", "S"], ["M"]))
        n, i = qdq_nodes(a, b, p[0], p[1], p[2], tag)
        nodes += n
        inits += i
    outs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)]
    if extra_out:
        outs.append(helper.make_tensor_value_info(extra_out, TensorProto.FLOAT, None))
    return model(nodes, [vi("X", [1, c, hw[0], hw[1]])], outs, inits)


def qlabel(qt, zp):
    if zp is None:  # the codes are then uint8
        return "uint8 no zp"
    return "%s zp %d" % ("int8" if qt == TensorProto.INT8 else "uint8", zp)


def qdq_cases():
    """Fused QuantizeLinear -> DequantizeLinear (cpu:qdq) and the Q/DQ SiLU
    (cpu:qdq-silu): bit-exact with the reference for the pair, int8 and
    uint8, zero points 0 and not, saturating scales, odd sizes, plain and
    channels-last; and the QuantizeLinear nodes the kernel must decline."""
    out = []
    i8, u8 = TensorProto.INT8, TensorProto.UINT8
    params = ((i8, 0, 0.0173), (i8, -3, 0.004), (u8, 0, 0.02), (u8, 133, 0.0031), (i8, None, 0.05))
    sizes = ((1, (1, 1)), (3, (5, 7)), (13, (9, 11)), (127, (3, 5)))
    for ci, (c, hw) in enumerate(sizes):
        for nhwc in (False, True):
            qt, zp, s = params[(2 * ci + nhwc) % len(params)]  # each layout sees four of the five
            nodes, inits = diag_conv(c, hw) if nhwc else ([], [])
            n, i = qdq_nodes("C" if nhwc else "X", "Y", s, qt, zp, "p", shared=c % 2 == 0)
            m = model(nodes + n, [vi("X", [1, c] + list(hw))], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                      inits + i)
            name = "Q/DQ pair c%d %dx%d %s %s" % (c, hw[0], hw[1], "nhwc" if nhwc else "plain", qlabel(qt, zp))
            expect = "cpu:qdq +DequantizeLinear [%s]" % ("nhwc" if nhwc else "plain")
            out.append((name, (m, []), expect, dict(exact=True, inputs=qdq_inputs(s))))
    # every parameter set on plain data of other ranks and odd flat sizes
    for shp in ([127], [3, 13], [2, 3, 5, 7, 3]):
        for qt, zp, s in params:
            n, i = qdq_nodes("X", "Y", s, qt, zp, "p", shared=False)
            m = model(n, [vi("X", shp)], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], i)
            name = "Q/DQ pair %s %s" % ("x".join(map(str, shp)), qlabel(qt, zp))
            out.append((name, (m, []), "cpu:qdq", dict(exact=True, inputs=qdq_inputs(s))))
    # declined: the code has two readers, or the DQ's scale differs
    n1, i1 = qdq_nodes("X", "Y", 0.02, i8, 0, "p")
    m = model(n1 + [helper.make_node("DequantizeLinear", ["p_q", "p_s", "p_z"], ["Y2"])], [vi("X", [1, 13, 9, 11])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
               helper.make_tensor_value_info("Y2", TensorProto.FLOAT, None)], i1)
    out.append(("Q/DQ declined: two readers", (m, []), "(QuantizeLinear) -> cpu:eltwise",
                dict(exact=True, inputs=qdq_inputs(0.02))))
    m = model([helper.make_node("QuantizeLinear", ["X", "a", "z"], ["q"]),
               helper.make_node("DequantizeLinear", ["q", "b", "z"], ["Y"])], [vi("X", [1, 13, 9, 11])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
              [init("a", np.array(0.02)), init("b", np.array(0.04)), helper.make_tensor("z", u8, [], [7])])
    out.append(("Q/DQ declined: scales differ", (m, []), "(QuantizeLinear) -> cpu:eltwise",
                dict(exact=True, inputs=qdq_inputs(0.02))))
    # the SiLU block, as ONNX Runtime quantizes it (uint8 with zero points,
    # sigmoid on 1/255) and symmetric int8; against the reference within one
    # step of the output pair (the reference's Sigmoid is double)
    silu_params = (((0.05, u8, 40), (1 / 255.0, u8, 0), (0.03, u8, 11)),
                   ((0.03, i8, 0), (1 / 127.0, i8, 0), (0.025, i8, -3)),
                   ((0.2, i8, 0), (1 / 255.0, u8, 0), (0.1, u8, 2)))  # saturating
    for k, (c, hw) in enumerate(((13, (9, 11)), (1, (1, 1)), (127, (3, 5)), (3, (33, 33)))):
        for nhwc in (False, True):
            p1, p2, p3 = silu_params[(k + nhwc) % len(silu_params)]
            m = silu_graph(c, hw, nhwc, p1, p2, p3, mul_swapped=k % 2 == 1)
            name = "Q/DQ SiLU c%d %dx%d %s" % (c, hw[0], hw[1], "nhwc" if nhwc else "plain")
            expect = "cpu:qdq-silu" + SILU_ABSORBED + " [%s]" % ("nhwc" if nhwc else "plain")
            out.append((name, (m, []), expect, dict(step=p3[0], inputs=qdq_inputs(p1[0]))))
    return out


def qconv_inputs(dt, zp):
    """Codes over the whole range of dt (uint8 or int8), a quarter of them at
    the zero point (exact zeros of x - x_zp, as after a Relu)."""
    lo, hi = (0, 255) if dt == np.uint8 else (-128, 127)
    def make(shp):
        x = rng.integers(lo, hi + 1, shp)
        x[rng.random(shp) < 0.25] = zp
        return x.astype(dt)
    return make


def qconv_case(op, c_in, c_out, hw, k, stride=1, dil=1, group=1, pad=0, auto_pad=None, per_channel=True,
               bias=True, x_dt=np.uint8, w_dt=np.int8, y_dt=None, x_zp=131, w_zp=0, y_zp=117, w_fill=None):
    """One QLinearConv (uint8/int8 output) or ConvInteger (int32 output)
    node; w_zp is a number (per tensor) or "chan" (a per-channel zero point
    array); w_fill: every weight this value (the 2^24 bound cases)."""
    tp = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}
    wlo, whi = (-127, 127) if w_dt == np.int8 else (0, 255)
    shape = (c_out, c_in // group, k, k)
    w = np.full(shape, w_fill) if w_fill is not None else rng.integers(wlo, whi + 1, shape)
    if w_zp == "chan":
        wz = rng.integers(wlo, whi + 1, c_out) if per_channel else rng.integers(wlo, whi + 1, 1)
    else:
        wz = np.full(c_out if per_channel else 1, w_zp)
    wz = wz.astype(w_dt)
    if not per_channel:
        wz = wz.reshape(())
    inits = [numpy_helper.from_array(w.astype(w_dt), "W"), numpy_helper.from_array(wz, "wz"),
             numpy_helper.from_array(np.array(x_zp, x_dt), "xz")]
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride], dilations=[dil, dil], group=group)
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = [pad] * 4
    if op == "ConvInteger":
        node = helper.make_node("ConvInteger", ["X", "W", "xz", "wz"], ["Y"], **attrs)
        y_tp = TensorProto.INT32
    else:
        y_dt = y_dt or x_dt
        xs = np.float32(0.0173)
        ws = (rng.random(c_out if per_channel else 1) * 0.008 + 0.002).astype(np.float32)
        # y_scale so that the outputs spread over the codes (some saturate)
        spread = np.sqrt((c_in // group) * k * k) * 70.0 * 70.0 / 50.0
        ys = np.float32(xs * float(np.mean(ws)) * spread)
        inits += [init("xs", np.array(xs)), init("ws", ws if per_channel else ws.reshape(())),
                  init("ys", np.array(ys)), numpy_helper.from_array(np.array(y_zp, y_dt), "yz")]
        ins = ["X", "xs", "xz", "W", "ws", "wz", "ys", "yz"]
        if bias:
            inits.append(numpy_helper.from_array(rng.integers(-60000, 60000, c_out).astype(np.int32), "B"))
            ins.append("B")
        node = helper.make_node("QLinearConv", ins, ["Y"], **attrs)
        y_tp = tp[y_dt]
    m = model([node], [helper.make_tensor_value_info("X", tp[x_dt], [1, c_in, hw, hw])],
              [helper.make_tensor_value_info("Y", y_tp, None)], inits)
    return m, []


def qconv_cases():
    """QLinearConv and ConvInteger on oneDNN's f32 convolution of integer
    values (dnnl_qconv.c): bit-exact with the reference, and declined where
    a partial sum could reach 2^24."""
    out = []
    q, ci = "dnnl:qlinearconv-f32exact", "dnnl:convinteger-f32exact"

    def add(name, impl, x_dt=np.uint8, x_zp=131, inputs=None, **kw):
        m = qconv_case(name.split()[0], x_dt=x_dt, x_zp=x_zp, **kw)
        out.append((name, m, impl, dict(exact=True, inputs=inputs or qconv_inputs(x_dt, x_zp))))

    def near_max(shp):  # codes 250..255: sums within 2% of the bound, odd ones
        return rng.integers(250, 256, shp).astype(np.uint8)

    for i, c in enumerate((1, 3, 13, 127)):
        for hw in (1, 7, 33):
            pc, b = (i + hw) % 2 == 0, hw != 7
            add("QLinearConv c%d hw%d k3 %s%s" % (c, hw, "per-channel" if pc else "per-tensor", " bias" if b else ""),
                q, c_in=c, c_out=16, hw=hw, k=3, pad=1, per_channel=pc, bias=b)
    add("QLinearConv stride2 pads", q, c_in=13, c_out=24, hw=33, k=3, stride=2, pad=1)
    add("QLinearConv stride2 per-tensor", q, c_in=13, c_out=24, hw=33, k=3, stride=2, pad=1, per_channel=False,
        bias=False)
    add("QLinearConv dilation2", q, c_in=13, c_out=8, hw=33, k=3, dil=2, pad=2)
    add("QLinearConv groups", q, c_in=12, c_out=24, hw=33, k=3, group=3, pad=1)
    add("QLinearConv depthwise", q, c_in=127, c_out=127, hw=33, k=3, group=127, pad=1)
    add("QLinearConv depthwise s2 per-tensor", q, c_in=13, c_out=13, hw=33, k=3, group=13, stride=2, pad=1,
        per_channel=False)
    add("QLinearConv 1x1 127->13 no bias", q, c_in=127, c_out=13, hw=7, k=1, bias=False)
    # the output size rounds down: the last window ends before the input
    add("QLinearConv k4 s2 rounding down", q, c_in=3, c_out=16, hw=33, k=4, stride=2)
    add("ConvInteger k4 s3 rounding down", ci, c_in=3, c_out=16, hw=11, k=4, stride=3)
    add("QLinearConv SAME_UPPER s2", q, c_in=3, c_out=13, hw=33, k=3, stride=2, auto_pad="SAME_UPPER")
    add("QLinearConv w zp per-channel", q, c_in=13, c_out=16, hw=7, k=3, pad=1, w_zp="chan")
    add("QLinearConv uint8 w zp", q, c_in=13, c_out=16, hw=7, k=3, pad=1, w_dt=np.uint8, w_zp=128,
        per_channel=False)
    add("QLinearConv int8 x int8 y", q, x_dt=np.int8, x_zp=-5, c_in=13, c_out=16, hw=7, k=3, pad=1, y_zp=3)
    add("QLinearConv uint8 x int8 y", q, c_in=13, c_out=16, hw=7, k=3, pad=1, y_dt=np.int8, y_zp=-7)
    add("ConvInteger int8 w", ci, c_in=13, c_out=16, hw=33, k=3, pad=1)
    add("ConvInteger int8 w zp per-channel", ci, c_in=13, c_out=16, hw=7, k=3, pad=1, w_zp="chan")
    add("ConvInteger uint8 w zp", ci, c_in=13, c_out=16, hw=7, k=3, pad=1, w_dt=np.uint8, w_zp=119,
        per_channel=False)
    add("ConvInteger depthwise s2", ci, c_in=127, c_out=127, hw=33, k=3, group=127, stride=2, pad=1)
    add("ConvInteger 1x1 127->3", ci, c_in=127, c_out=3, hw=7, k=1)
    # the 2^24 bound: 512 * 127 * 255 < 2^24 runs fast (its sums reach
    # 1.6e7, where a float has no bit to spare); 4096 * 127 * 255 does not,
    # so the reference runs it
    add("ConvInteger bound just below 2^24", ci, x_zp=0, c_in=512, c_out=4, hw=3, k=1, w_fill=127, inputs=near_max)
    add("QLinearConv bound just below 2^24", q, x_zp=0, c_in=512, c_out=4, hw=3, k=1, w_fill=-127, inputs=near_max)
    add("ConvInteger bound over 2^24", "(ConvInteger) -> ref", x_zp=0, c_in=4096, c_out=4, hw=3, k=1,
        w_fill=127, inputs=near_max)
    add("QLinearConv bound over 2^24", "(QLinearConv) -> ref", x_zp=0, c_in=4096, c_out=4, hw=3, k=1,
        w_fill=127, inputs=near_max)
    return out


def qlinear_cases():
    """DynamicQuantizeLinear (cpu:dynquant) and com.microsoft QLinearAdd /
    QLinearMul (cpu:qlinearadd / cpu:qlinearmul): bit-exact with the
    reference on odd sizes, one-signed and constant inputs, NaN and inf,
    uint8 and int8 codes with zero points and saturating sums."""
    out = []
    T = TensorProto
    dq_outs = [helper.make_tensor_value_info("Y", T.UINT8, None), helper.make_tensor_value_info("S", T.FLOAT, None),
               helper.make_tensor_value_info("Z", T.UINT8, None)]

    def dq(n, kind):
        def make(shp):
            x = (rng.standard_normal(shp) * 3).astype(np.float32)
            if kind == "pos":
                x = np.abs(x) + 0.25
            elif kind == "neg":
                x = -np.abs(x) - 0.25
            elif kind == "const":
                x[:] = 1.75
            elif kind == "naninf" and x.size >= 8:
                x.flat[:4] = [np.nan, 1.5, np.nan, -2.0]
            elif kind == "inf":
                x.flat[0] = np.inf
            return x
        m = model([helper.make_node("DynamicQuantizeLinear", ["X"], ["Y", "S", "Z"])], [vi("X", [n])], dq_outs, [])
        out.append(("DynQuant n%d %s" % (n, kind), (m, []), "cpu:dynquant", dict(exact=True, inputs=make)))
    for n in (1, 3, 13, 127, 1000003):
        dq(n, "mixed")
    for kind in ("pos", "neg", "const", "naninf", "inf"):
        dq(1000003 if kind != "inf" else 127, kind)

    def qbin(op, dt, n, p, b_shape=None):
        npdt, tdt = (np.uint8, T.UINT8) if dt == "u8" else (np.int8, T.INT8)
        (sa, za), (sb, zb), (sc, zc) = p
        inits = [numpy_helper.from_array(np.array(sa, np.float32), "sa"), numpy_helper.from_array(np.array(za, npdt), "za"),
                 numpy_helper.from_array(np.array(sb, np.float32), "sb"), numpy_helper.from_array(np.array(zb, npdt), "zb"),
                 numpy_helper.from_array(np.array(sc, np.float32), "sc"), numpy_helper.from_array(np.array(zc, npdt), "zc")]
        node = helper.make_node(op, ["A", "sa", "za", "B", "sb", "zb", "sc", "zc"], ["C"], domain="com.microsoft")
        shp = [1, 3, n]
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info("A", tdt, shp),
                                            helper.make_tensor_value_info("B", tdt, b_shape or shp)],
                              [helper.make_tensor_value_info("C", tdt, None)], initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        m.ir_version = 8
        info = np.iinfo(npdt)

        def make(s):
            return rng.integers(info.min, info.max + 1, s).astype(npdt)
        impl = "cpu:qlinearadd" if op == "QLinearAdd" else "cpu:qlinearmul"
        name = "%s %s n%d%s" % (op, dt, n, " B scalar" if b_shape else "")
        out.append((name, (m, []), impl, dict(exact=True, inputs=make)))
    pu8 = ((0.05, 131), (0.031, 7), (0.04, 120))
    pu8_sat = ((0.2, 128), (0.3, 100), (0.01, 128))  # sums far past the codes
    pi8 = ((0.02, -3), (0.017, 11), (0.03, 0))
    pi8_sat = ((0.1, 0), (0.12, -20), (0.005, 5))
    for n in (1, 13, 1001):
        qbin("QLinearAdd", "u8", n, pu8)
        qbin("QLinearAdd", "i8", n, pi8)
    qbin("QLinearAdd", "u8", 127, pu8_sat)
    qbin("QLinearAdd", "i8", 127, pi8_sat)
    qbin("QLinearAdd", "u8", 333, pu8, b_shape=[1])
    qbin("QLinearAdd", "i8", 333, pi8_sat, b_shape=[1])
    qbin("QLinearMul", "u8", 1001, pu8)
    qbin("QLinearMul", "i8", 127, pi8_sat)
    return out


def same_fast_cases():
    """The fused SiLU against the same graph with S also a graph output
    (so the block is not fused: three cpu:qdq pairs, Sigmoid and Mul on
    cpu:eltwise): Y must be bit-identical."""
    out = []
    p = ((0.05, TensorProto.UINT8, 40), (1 / 255.0, TensorProto.UINT8, 0), (0.03, TensorProto.UINT8, 11))
    for c, hw, nhwc in ((13, (9, 11), False), (16, (33, 33), True), (127, (3, 5), True)):
        rng_state = rng.bit_generator.state
        fused = silu_graph(c, hw, nhwc, *p)
        rng.bit_generator.state = rng_state  # the same Conv weights
        unfused = silu_graph(c, hw, nhwc, *p, extra_out="S")
        name = "Q/DQ SiLU c%d %s fused = unfused" % (c, "nhwc" if nhwc else "plain")
        out.append((name, fused, unfused, qdq_inputs(p[0][0])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    a = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (m, extra), impl, *opts in cases():
            try:
                msg = check(a.octet, tmp, name, m, extra, impl, **(opts[0] if opts else {}))
                print("PASS %-34s %s" % (name, msg))
                passed += 1
            except (RuntimeError, AssertionError) as e:
                print("FAIL %-34s %s" % (name, e))
                failed += 1
        for name, fused, unfused, inputs in same_fast_cases():
            try:
                msg = check_same_fast(a.octet, tmp, name, fused, unfused, "cpu:qdq-silu", "cpu:qdq", inputs)
                print("PASS %-34s %s" % (name, msg))
                passed += 1
            except (RuntimeError, AssertionError) as e:
                print("FAIL %-34s %s" % (name, e))
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
