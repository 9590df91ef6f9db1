/* The op registry. Every op known to octet is listed here once; the
 * definitions live in one file per op (src/ops/<op>.c). A listed op whose
 * file is not built yet is a weak NULL symbol and counts as unsupported. */
#include <string.h>

#include "ops/op.h"

#define OCT_WEAK_OP(Name) extern const oct_op_def oct_op_##Name __attribute__((weak));
#define OCT_OP_LIST(X)                                                                          \
    X(Abs) X(Acos) X(Acosh) X(Add) X(And) X(ArgMax) X(ArgMin) X(Asin) X(Asinh) X(Atan) X(Atanh)  \
    X(AveragePool) X(BatchNormalization) X(Cast) X(CastLike) X(Ceil) X(Celu) X(Clip) X(Concat)  \
    X(Constant) X(ConstantOfShape) X(Conv) X(ConvInteger) X(ConvTranspose) X(Cos) X(Cosh)        \
    X(CumSum) X(DepthToSpace) X(DequantizeLinear) X(Div) X(Dropout) X(DynamicQuantizeLinear) X(Einsum)  \
    X(Elu) X(Equal) X(Erf) X(Exp) X(Expand) X(EyeLike) X(Flatten) X(Floor) X(Gather)             \
    X(GatherElements) X(GatherND) X(Gelu) X(Gemm) X(GlobalAveragePool) X(GlobalMaxPool)          \
    X(Greater) X(GreaterOrEqual) X(HardSigmoid) X(HardSwish) X(Hardmax) X(Identity)              \
    X(InstanceNormalization) X(IsInf) X(IsNaN) X(LRN) X(LayerNormalization) X(LeakyRelu) X(Less) \
    X(LessOrEqual) X(Log) X(LogSoftmax) X(MatMul) X(MatMulInteger) X(Max) X(MaxPool) X(Mean)     \
    X(Min) X(Mish) X(Mod) X(Mul) X(Neg) X(NonZero) X(Not) X(OneHot) X(Or) X(PRelu) X(Pad)        \
    X(Pow) X(QLinearAdd) X(QLinearAveragePool) X(QLinearConv) X(QLinearGlobalAveragePool)        \
    X(QLinearMatMul) X(QLinearMul) X(QuantizeLinear) X(Range) X(Reciprocal) X(ReduceL1)         \
    X(ReduceL2) X(ReduceLogSum) X(ReduceLogSumExp) X(ReduceMax) X(ReduceMean) X(ReduceMin)       \
    X(ReduceProd) X(ReduceSum) X(ReduceSumSquare) X(Relu) X(Reshape) X(Resize) X(Round)          \
    X(Scatter) X(ScatterElements) X(ScatterND) X(Selu) X(Shape) X(Shrink) X(Sigmoid) X(Sign) X(Sin) X(Sinh) \
    X(Size) X(Slice) X(Softmax) X(Softplus) X(Softsign) X(SpaceToDepth) X(Split) X(Sqrt)         \
    X(Squeeze) X(Sub) X(Sum) X(Tan) X(Tanh) X(ThresholdedRelu) X(Tile) X(TopK) X(Transpose)     \
    X(Trilu) X(Unsqueeze) X(Upsample) X(Where) X(Xor)

OCT_OP_LIST(OCT_WEAK_OP)

#define OCT_OP_ADDR(Name) &oct_op_##Name,
static const oct_op_def *const all_ops[] = {OCT_OP_LIST(OCT_OP_ADDR)};

/* Ops that ONNX Runtime defines in its com.microsoft domain and that models
 * quantized by it carry (QLinearAdd, QLinearGlobalAveragePool, ...). */
static int domain_matches(const char *want, const char *have) {
    if (!have || !*have || !strcmp(have, "ai.onnx")) have = "";
    if (!want || !*want) want = "";
    return !strcmp(want, have);
}

const oct_op_def *oct_op_lookup(const char *domain, const char *op_type) {
    if (!op_type) return NULL;
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++) {
        const oct_op_def *d = all_ops[i];
        if (!d || strcmp(d->op_type, op_type)) continue;
        if (domain_matches(d->domain, domain)) return d;
        /* The com.microsoft QLinear* ops share the default-domain kernels'
         * definitions when an op file declares domain "com.microsoft". */
    }
    return NULL;
}

int oct_op_supported(const char *domain, const char *op_type) {
    return oct_op_lookup(domain, op_type) != NULL;
}
