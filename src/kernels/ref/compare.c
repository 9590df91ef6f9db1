/* Broadcasting comparisons (Equal Greater Less GreaterOrEqual LessOrEqual):
 * any numeric dtype or bool in, bool out. Integers compare in 64 bits with
 * their own signedness; half types compare as float. */
#include "kernels/ref/ref_elementwise.h"

#define eq_E(x, y) ((x) == (y))
#define gt_E(x, y) ((x) > (y))
#define lt_E(x, y) ((x) < (y))
#define ge_E(x, y) ((x) >= (y))
#define le_E(x, y) ((x) <= (y))
#define TO_BOOL(T, v) ((T)(v))

#define GEN(OP, DT, SFX, T, C, K, LD, ST)                                                          \
    OCT_EW_ROW2(r_##OP##_##SFX, T, C, LD, uint8_t, TO_BOOL, OP##_E)
#define CASE(OP, DT, SFX, T, C, K, LD, ST)                                                         \
    case DT:                                                                                       \
        return r_##OP##_##SFX;
#define CMP_OPS(X) X(eq) X(gt) X(lt) X(ge) X(le)
#define GEN_ALL(OP) OCT_EW_NUM_TYPES(GEN, OP) OCT_EW_BOOL_TYPE(GEN, OP)
CMP_OPS(GEN_ALL)
#define LOOKUP(OP)                                                                                 \
    static oct_ew_row OP##_row(oct_dtype dt) {                                                     \
        switch (dt) {                                                                              \
            OCT_EW_NUM_TYPES(CASE, OP)                                                             \
            OCT_EW_BOOL_TYPE(CASE, OP)                                                             \
        default: return NULL;                                                                      \
        }                                                                                          \
    }
CMP_OPS(LOOKUP)

oct_ew_row oct_ref_compare_row(oct_binary_op op, oct_dtype dt) {
    switch (op) {
    case OCT_BIN_EQUAL: return eq_row(dt);
    case OCT_BIN_GREATER: return gt_row(dt);
    case OCT_BIN_LESS: return lt_row(dt);
    case OCT_BIN_GREATER_EQUAL: return ge_row(dt);
    case OCT_BIN_LESS_EQUAL: return le_row(dt);
    default: return NULL;
    }
}
