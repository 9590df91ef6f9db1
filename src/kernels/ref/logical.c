/* Broadcasting logic on bool tensors (And Or Xor); any non-zero byte counts
 * as true. Not is a unary op (unary.c). */
#include "kernels/ref/ref_elementwise.h"

#define and_E(x, y) ((x) != 0 && (y) != 0)
#define or_E(x, y) ((x) != 0 || (y) != 0)
#define xor_E(x, y) (((x) != 0) != ((y) != 0))
#define TO_BOOL(T, v) ((T)(v))

OCT_EW_ROW2(r_and, uint8_t, uint8_t, OCT_EW_LD, uint8_t, TO_BOOL, and_E)
OCT_EW_ROW2(r_or, uint8_t, uint8_t, OCT_EW_LD, uint8_t, TO_BOOL, or_E)
OCT_EW_ROW2(r_xor, uint8_t, uint8_t, OCT_EW_LD, uint8_t, TO_BOOL, xor_E)

oct_ew_row oct_ref_logical_row(oct_binary_op op) {
    switch (op) {
    case OCT_BIN_AND: return r_and;
    case OCT_BIN_OR: return r_or;
    case OCT_BIN_XOR: return r_xor;
    default: return NULL;
    }
}
