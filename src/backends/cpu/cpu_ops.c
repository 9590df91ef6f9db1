/* The list of ops the CPU backend implements (terminated by NULL). */
#include "backends/cpu/cpu_kernels.h"

oct_status oct_cpu_concat_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
oct_status oct_cpu_resize_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);
oct_status oct_cpu_softmax_create(oct_exec *x, int node, oct_kernel **k, oct_error *err);

const oct_cpu_op oct_cpu_ops[] = {
    {"Concat", oct_cpu_concat_create, NULL},
    {"Split", oct_cpu_concat_create, NULL},
    {"Resize", oct_cpu_resize_create, NULL},
    {"Upsample", oct_cpu_resize_create, NULL},
    {"Softmax", oct_cpu_softmax_create, NULL},
    {"DynamicQuantizeLinear", oct_cpu_dynquant_create, NULL},
    {"QLinearAdd", oct_cpu_qlinear_binary_create, "com.microsoft"},
    {"QLinearMul", oct_cpu_qlinear_binary_create, "com.microsoft"},
    /* the backend takes the first entry that names the op: the fused Q/DQ
     * kernel hands the QuantizeLinear nodes it declines to the eltwise one */
    {"QuantizeLinear", oct_cpu_qdq_create, NULL},
/* clang-format off */
#define EW(name) {name, oct_cpu_eltwise_create, NULL},
    EW("Relu") EW("Sigmoid") EW("Tanh") EW("Exp") EW("Log") EW("Sqrt") EW("Neg") EW("Abs") EW("Erf")
    EW("LeakyRelu") EW("HardSigmoid") EW("HardSwish") EW("Elu") EW("Selu") EW("Celu") EW("Softplus")
    EW("Softsign") EW("Mish") EW("Gelu") EW("Reciprocal") EW("Floor") EW("Ceil") EW("Round") EW("Sin")
    EW("Cos") EW("Clip") EW("Add") EW("Sub") EW("Mul") EW("Div") EW("Pow") EW("Max") EW("Min")
    EW("DequantizeLinear")
#undef EW
    /* clang-format on */
    {NULL, NULL, NULL},
};
