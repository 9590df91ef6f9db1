/* Image decoding (stb_image) and preprocessing into network inputs.
 * Resizing is bilinear with half-pixel centres and no antialiasing, the
 * arithmetic of OpenCV's INTER_LINEAR that YOLO and PaddleOCR pipelines use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "octet/octet.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_FAILURE_MESSAGES
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

void oct_preprocess_init(oct_preprocess *p) {
    memset(p, 0, sizeof *p);
    p->mode = OCT_FIT_STRETCH;
    p->scale = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) p->std[c] = 1.0f;
    p->pad_value = 114;
    p->limit = 960;
    p->multiple = 32;
    p->resize_short = 256;
}

oct_status oct_preprocess_preset(const char *name, oct_preprocess *p, oct_error *err) {
    oct_preprocess_init(p);
    static const float im_mean[3] = {0.485f, 0.456f, 0.406f}, im_std[3] = {0.229f, 0.224f, 0.225f};
    if (!name) return oct_fail(err, OCT_E_INVALID_ARG, "no preset name");
    if (!strcmp(name, "yolo")) {
        p->mode = OCT_FIT_LETTERBOX;
        p->width = p->height = 640;
        p->pad_value = 114;
    } else if (!strcmp(name, "imagenet")) {
        p->mode = OCT_FIT_CROP;
        p->width = p->height = 224;
        p->resize_short = 256;
        memcpy(p->mean, im_mean, sizeof im_mean);
        memcpy(p->std, im_std, sizeof im_std);
    } else if (!strcmp(name, "ppocr")) {
        p->mode = OCT_FIT_MULTIPLE;
        p->limit = 960;
        p->multiple = 32;
        p->bgr = 1;
        memcpy(p->mean, im_mean, sizeof im_mean);
        memcpy(p->std, im_std, sizeof im_std);
    } else if (!strcmp(name, "ppocr-rec") || !strcmp(name, "ppocr-cls")) {
        p->mode = OCT_FIT_HEIGHT;
        p->height = 48;
        p->width = name[6] == 'r' ? 320 : 192;
        p->pad_value = 0;
        p->bgr = 1;
        for (int c = 0; c < 3; c++) {
            p->mean[c] = 0.5f;
            p->std[c] = 0.5f;
        }
    } else {
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "unknown preset '%s' (known: yolo, imagenet, ppocr, ppocr-rec, ppocr-cls)", name);
    }
    return OCT_OK;
}

/* Bilinear resize of an RGB8 image into float RGB (0..255). */
static void resize_bilinear(const unsigned char *src, int sw, int sh, float *dst, int dw, int dh) {
    double fx = (double)sw / dw, fy = (double)sh / dh;
    for (int y = 0; y < dh; y++) {
        double sy = (y + 0.5) * fy - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)sy;
        if (y0 > sh - 1) y0 = sh - 1;
        int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        float wy = (float)(sy - y0);
        for (int x = 0; x < dw; x++) {
            double sx = (x + 0.5) * fx - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)sx;
            if (x0 > sw - 1) x0 = sw - 1;
            int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            float wx = (float)(sx - x0);
            for (int c = 0; c < 3; c++) {
                float a = src[((size_t)y0 * sw + x0) * 3 + c], b = src[((size_t)y0 * sw + x1) * 3 + c];
                float d = src[((size_t)y1 * sw + x0) * 3 + c], e = src[((size_t)y1 * sw + x1) * 3 + c];
                float top = a + (b - a) * wx, bot = d + (e - d) * wx;
                dst[((size_t)y * dw + x) * 3 + c] = top + (bot - top) * wy;
            }
        }
    }
}

oct_status oct_image_load(const char *path, const oct_preprocess *p, oct_tensor_view *out,
                          oct_image_info *info, oct_error *err) {
    if (!path || !p || !out) return oct_fail(err, OCT_E_INVALID_ARG, "oct_image_load: NULL argument");
    memset(out, 0, sizeof *out);
    int w, h, n;
    unsigned char *img = stbi_load(path, &w, &h, &n, 3);
    if (!img) {
        FILE *f = fopen(path, "rb");
        if (!f) return oct_fail(err, OCT_E_IO, "cannot open image '%s'", path);
        fclose(f);
        return oct_fail(err, OCT_E_PARSE, "cannot decode image '%s': %s", path, stbi_failure_reason());
    }
    oct_image_info ii;
    memset(&ii, 0, sizeof ii);
    ii.orig_width = w;
    ii.orig_height = h;
    int tw = p->width, th = p->height; /* tensor size */
    int rw = tw, rh = th;              /* resized image size */
    int ox = 0, oy = 0;                /* where the resized image lands (negative: cropped) */
    switch (p->mode) {
    case OCT_FIT_STRETCH: break;
    case OCT_FIT_LETTERBOX: {
        double r = fmin((double)tw / w, (double)th / h);
        rw = (int)lround(w * r);
        rh = (int)lround(h * r);
        if (p->center) {
            ox = (tw - rw) / 2;
            oy = (th - rh) / 2;
        }
        break;
    }
    case OCT_FIT_CROP: {
        int s = p->resize_short > 0 ? p->resize_short : 256;
        if (w <= h) {
            rw = s;
            rh = (int)((long)s * h / w);
        } else {
            rh = s;
            rw = (int)((long)s * w / h);
        }
        ox = -(int)lround((rw - tw) / 2.0);
        oy = -(int)lround((rh - th) / 2.0);
        break;
    }
    case OCT_FIT_MULTIPLE: {
        int m = p->multiple > 0 ? p->multiple : 32, lim = p->limit > 0 ? p->limit : 960;
        double r = (w > h ? w : h) > lim ? (double)lim / (w > h ? w : h) : 1.0;
        rw = (int)lround(w * r / m) * m;
        rh = (int)lround(h * r / m) * m;
        if (rw < m) rw = m;
        if (rh < m) rh = m;
        tw = rw;
        th = rh;
        break;
    }
    case OCT_FIT_HEIGHT: {
        rh = th;
        rw = (int)ceil((double)th * w / h);
        if (rw > tw) rw = tw;
        if (rw < 1) rw = 1;
        break;
    }
    }
    if (tw <= 0 || th <= 0 || rw <= 0 || rh <= 0 || (size_t)tw * th > ((size_t)1 << 28)) {
        stbi_image_free(img);
        return oct_fail(err, OCT_E_INVALID_ARG, "image '%s': target size %dx%d is not usable", path, tw, th);
    }
    float *rs = malloc(sizeof(float) * 3 * (size_t)rw * rh);
    float *t = malloc(sizeof(float) * 3 * (size_t)tw * th);
    if (!rs || !t) {
        free(rs);
        free(t);
        stbi_image_free(img);
        return oct_fail(err, OCT_E_NOMEM, "image '%s': out of memory", path);
    }
    resize_bilinear(img, w, h, rs, rw, rh);
    stbi_image_free(img);
    size_t plane = (size_t)tw * th;
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++) {
            int sx = x - ox, sy = y - oy;
            int inside = sx >= 0 && sy >= 0 && sx < rw && sy < rh;
            for (int c = 0; c < 3; c++) {
                int sc = p->bgr ? 2 - c : c;
                float v = inside ? rs[((size_t)sy * rw + sx) * 3 + sc] : (float)p->pad_value;
                /* Round like an 8-bit resize would, so the tensor equals what
                 * uint8 pipelines (OpenCV) feed the network. */
                v = floorf(v + 0.5f);
                v = (v * p->scale - p->mean[c]) / p->std[c];
                if (p->nhwc) t[((size_t)y * tw + x) * 3 + c] = v;
                else t[c * plane + (size_t)y * tw + x] = v;
            }
        }
    free(rs);
    out->dtype = OCT_FLOAT;
    out->ndim = 4;
    out->dims[0] = 1;
    if (p->nhwc) {
        out->dims[1] = th;
        out->dims[2] = tw;
        out->dims[3] = 3;
    } else {
        out->dims[1] = 3;
        out->dims[2] = th;
        out->dims[3] = tw;
    }
    out->data = t;
    ii.width = tw;
    ii.height = th;
    ii.scale_x = (float)rw / w;
    ii.scale_y = (float)rh / h;
    ii.pad_x = (float)ox;
    ii.pad_y = (float)oy;
    if (info) *info = ii;
    return OCT_OK;
}
