/* Tensor files: ONNX TensorProto (.pb) and NumPy (.npy). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tensor.h"
#include "onnx/onnx_import.h"

void oct_free(void *p) { free(p); }

static void to_view(oct_tensor *t, oct_tensor_view *out) {
    out->dtype = t->dtype;
    out->ndim = t->ndim;
    memcpy(out->dims, t->dims, sizeof out->dims);
    out->data = t->data; /* ownership moves to the caller */
}

oct_status oct_tensor_read_pb(const char *path, oct_tensor_view *out, char **name, oct_error *err) {
    if (!path || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_tensor_read_pb: NULL argument");
    memset(out, 0, sizeof *out);
    oct_mapped_file f;
    OCT_TRY(oct_map_file(path, &f, err));
    oct_tensor t;
    oct_status st = oct_onnx_parse_tensor(f.data ? f.data : "", f.size, &t, name, err);
    oct_unmap_file(&f);
    if (st) {
        oct_error_prefix(err, "%s: ", path);
        return st;
    }
    to_view(&t, out);
    return OCT_OK;
}

static const struct {
    const char *code;
    oct_dtype dt;
} npy_types[] = {{"f4", OCT_FLOAT}, {"f8", OCT_DOUBLE}, {"f2", OCT_FLOAT16}, {"i1", OCT_INT8},
                 {"u1", OCT_UINT8}, {"i2", OCT_INT16},  {"u2", OCT_UINT16},  {"i4", OCT_INT32},
                 {"u4", OCT_UINT32}, {"i8", OCT_INT64}, {"u8", OCT_UINT64},  {"b1", OCT_BOOL}};

oct_status oct_tensor_read_npy(const char *path, oct_tensor_view *out, oct_error *err) {
    if (!path || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_tensor_read_npy: NULL argument");
    memset(out, 0, sizeof *out);
    oct_mapped_file f;
    OCT_TRY(oct_map_file(path, &f, err));
    const unsigned char *p = f.data;
    oct_status st = OCT_OK;
    oct_tensor t;
    memset(&t, 0, sizeof t);
    if (f.size < 10 || memcmp(p, "\x93NUMPY", 6)) {
        st = oct_fail(err, OCT_E_PARSE, "%s: not a .npy file", path);
        goto done;
    }
    size_t hlen, off;
    if (p[6] == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        off = 10;
    } else {
        if (f.size < 12) {
            st = oct_fail(err, OCT_E_PARSE, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        off = 12;
    }
    if (hlen > 65536 || off + hlen > f.size) {
        st = oct_fail(err, OCT_E_PARSE, "%s: truncated .npy header", path);
        goto done;
    }
    char hdr[65537];
    memcpy(hdr, p + off, hlen);
    hdr[hlen] = 0;
    char *d = strstr(hdr, "'descr'");
    char *fo = strstr(hdr, "'fortran_order'");
    char *sh = strstr(hdr, "'shape'");
    if (!d || !fo || !sh) {
        st = oct_fail(err, OCT_E_PARSE, "%s: malformed .npy header", path);
        goto done;
    }
    char *q = strchr(d + 7, '\'');
    if (!q || strlen(q) < 4) {
        st = oct_fail(err, OCT_E_PARSE, "%s: malformed dtype in .npy header", path);
        goto done;
    }
    if (q[1] == '>' && !(q[2] == 'i' && q[3] == '1') && !(q[2] == 'u' && q[3] == '1') && q[2] != 'b') {
        st = oct_fail(err, OCT_E_UNSUPPORTED, "%s: big-endian .npy data is not supported", path);
        goto done;
    }
    t.dtype = OCT_UNDEFINED;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (!strncmp(q + 2, npy_types[i].code, 2) && q[4] == '\'') t.dtype = npy_types[i].dt;
    if (t.dtype == OCT_UNDEFINED) {
        st = oct_fail(err, OCT_E_UNSUPPORTED, "%s: unsupported .npy dtype", path);
        goto done;
    }
    fo += strlen("'fortran_order'");
    while (*fo == ' ' || *fo == ':') fo++;
    if (!strncmp(fo, "True", 4)) {
        st = oct_fail(err, OCT_E_UNSUPPORTED, "%s: Fortran-order .npy data is not supported", path);
        goto done;
    }
    char *lp = strchr(sh, '('), *rp = lp ? strchr(lp, ')') : NULL;
    if (!lp || !rp) {
        st = oct_fail(err, OCT_E_PARSE, "%s: malformed shape in .npy header", path);
        goto done;
    }
    for (char *s = lp + 1; s < rp;) {
        while (s < rp && (*s == ' ' || *s == ',')) s++;
        if (s >= rp) break;
        char *e;
        errno = 0;
        long long v = strtoll(s, &e, 10);
        if (e == s || v < 0 || errno || t.ndim >= OCT_MAX_DIMS) {
            st = oct_fail(err, OCT_E_PARSE, "%s: malformed shape in .npy header", path);
            goto done;
        }
        t.dims[t.ndim++] = v;
        s = e;
    }
    if (oct_tensor_alloc(&t)) {
        st = oct_fail(err, OCT_E_NOMEM, "%s: tensor too large", path);
        goto done;
    }
    size_t nb = oct_nbytes(&t);
    if (f.size - off - hlen < nb) {
        oct_tensor_release(&t);
        st = oct_fail(err, OCT_E_PARSE, "%s: .npy data is truncated (%zu of %zu bytes)", path,
                      f.size - off - hlen, nb);
        goto done;
    }
    if (nb) memcpy(t.data, p + off + hlen, nb);
    to_view(&t, out);
done:
    oct_unmap_file(&f);
    return st;
}

oct_status oct_tensor_write_npy(const char *path, const oct_tensor_view *t, oct_error *err) {
    if (!path || !t) return oct_fail(err, OCT_E_INVALID_ARG, "oct_tensor_write_npy: NULL argument");
    const char *code = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dt == t->dtype) code = npy_types[i].code;
    if (!code) return oct_fail(err, OCT_E_UNSUPPORTED, "%s: dtype %s cannot be written to .npy", path,
                               oct_dtype_name(t->dtype));
    char shape[256] = "";
    size_t k = 0;
    for (int i = 0; i < t->ndim; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, "%lld,%s", (long long)t->dims[i],
                              i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) shape[k - 1] = 0; /* (a, b) not (a, b,) */
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (%s), }",
                     code[1] == '1' ? '|' : '<', code, shape);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return oct_fail(err, OCT_E_IO, "cannot write '%s': %s", path, strerror(errno));
    unsigned hl = (unsigned)(n + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff),
                             (unsigned char)(hl >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, (size_t)n, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    size_t nb = (size_t)oct_shape_numel(t->ndim, t->dims) * oct_dtype_size(t->dtype);
    size_t w = nb ? fwrite(t->data, 1, nb, f) : 0;
    int bad = fclose(f) != 0 || w != nb;
    if (bad) return oct_fail(err, OCT_E_IO, "cannot write '%s'", path);
    return OCT_OK;
}
