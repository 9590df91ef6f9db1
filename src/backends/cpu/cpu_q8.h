/* INT8 tensors kept as int8 codes (OCT_LAYOUT_NHWC_Q8, runtime/backend.h)
 * across consecutive INT8 nodes: who may write a value as codes, and who
 * reads codes. The q8 backend (backends/cpu/cpu_q8.c) runs MaxPool, Concat,
 * Split, nearest Resize and Add on codes; the INT8 Conv
 * (backends/dnnl/dnnl_conv_int8.c) reads and writes them too. */
#ifndef OCT_BACKENDS_CPU_Q8_H
#define OCT_BACKENDS_CPU_Q8_H

#include "runtime/backend.h"

/* 1 when INT8 value v (4-D, float, not a graph output) has readers and
 * every one of them takes it as int8 codes (oct_q8_reads_codes), so its
 * producer may write it as codes. Decided when kernels are created. */
int oct_q8_output(const oct_exec *x, int v);
/* 1 when node `node` will read value v as int8 codes if v arrives as codes:
 * an INT8 Conv reading it as its data input, or a node the q8 backend
 * takes with v among its INT8 inputs. */
int oct_q8_reads_codes(const oct_exec *x, int node, int v);
#ifdef OCT_HAVE_DNNL
/* The INT8 Conv's side of oct_q8_reads_codes (dnnl_int8_q8.c). */
int oct_dnnl_int8_conv_reader(const oct_exec *x, int node, int v);
#endif

#endif
