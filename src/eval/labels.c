/* Ground truth readers: YOLO label files, COCO instances JSON, line lists
 * (class names, synsets) and image folders. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "eval/eval_internal.h"

/* Reads a whole file; *size excludes the terminating NUL added. */
static char *read_file(const char *path, size_t *size, oct_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        oct_fail(err, OCT_E_IO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *g = realloc(buf, cap *= 2);
        if (!g) free(buf);
        buf = g;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        oct_fail(err, OCT_E_NOMEM, "'%s': out of memory", path);
        return NULL;
    }
    if (bad) {
        free(buf);
        oct_fail(err, OCT_E_IO, "cannot read '%s'", path);
        return NULL;
    }
    buf[n] = 0;
    if (size) *size = n;
    return buf;
}

void oct_eval_free_lines(char **lines, int n) {
    if (!lines) return;
    for (int i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

oct_status oct_eval_read_lines(const char *path, char ***lines, int *n, oct_error *err) {
    *lines = NULL;
    *n = 0;
    size_t size;
    char *buf = read_file(path, &size, err);
    if (!buf) return err ? err->status : OCT_E_IO;
    int cap = 0, cnt = 0;
    char **v = NULL;
    for (char *p = buf; *p;) {
        char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 256;
            char **g = realloc(v, sizeof *v * (size_t)cap);
            if (!g) goto oom;
            v = g;
        }
        if (!(v[cnt] = malloc(len + 1))) goto oom;
        memcpy(v[cnt], p, len);
        v[cnt++][len] = 0;
        p = e ? e + 1 : p + strlen(p);
    }
    while (cnt && !v[cnt - 1][0])
        free(v[--cnt]);
    free(buf);
    *lines = v;
    *n = cnt;
    return OCT_OK;
oom:
    oct_eval_free_lines(v, cnt);
    free(buf);
    return oct_fail(err, OCT_E_NOMEM, "'%s': out of memory", path);
}

oct_status oct_eval_read_yolo_labels(const char *path, int width, int height, int n_classes,
                                     oct_gt_box **out, int *n, int *missing, oct_error *err) {
    *out = NULL;
    *n = 0;
    *missing = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        if (errno == ENOENT) {
            *missing = 1;
            return OCT_OK;
        }
        return oct_fail(err, OCT_E_IO, "cannot open label file '%s': %s", path, strerror(errno));
    }
    fclose(probe);
    char *buf = read_file(path, NULL, err);
    if (!buf) return err ? err->status : OCT_E_IO;
    int cap = 0, cnt = 0, line = 0;
    oct_gt_box *v = NULL;
    oct_status st = OCT_OK;
    for (char *p = buf; *p && !st; line++) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        char *q = p;
        p = e ? e + 1 : p + strlen(p);
        while (isspace((unsigned char)*q))
            q++;
        if (!*q) continue;
        double f[6];
        int k = 0;
        char *end = q;
        while (k < 6) {
            while (isspace((unsigned char)*end))
                end++;
            if (!*end) break;
            char *s = end;
            f[k] = strtod(s, &end);
            if (end == s || !isfinite(f[k]) || (*end && !isspace((unsigned char)*end))) {
                st = oct_fail(err, OCT_E_PARSE, "%s:%d: '%s' is not a number", path, line + 1, s);
                break;
            }
            k++;
        }
        if (st) break;
        if (k != 5) {
            st =
                oct_fail(err, OCT_E_PARSE, "%s:%d: expected 5 fields 'class cx cy w h', found %s%d",
                         path, line + 1, k > 5 ? "more than " : "", k > 5 ? 5 : k);
            break;
        }
        if (f[0] != floor(f[0]) || f[0] < 0 || (n_classes > 0 && f[0] >= n_classes) || f[0] > 1e6) {
            st = n_classes > 0
                     ? oct_fail(err, OCT_E_PARSE, "%s:%d: class %g is not an integer in 0..%d",
                                path, line + 1, f[0], n_classes - 1)
                     : oct_fail(err, OCT_E_PARSE, "%s:%d: class %g is not a non-negative integer",
                                path, line + 1, f[0]);
            break;
        }
        /* Normalised coordinates; a small overshoot is common in exports. */
        for (int i = 1; i < 5 && !st; i++)
            if (f[i] < -0.01 || f[i] > 1.01)
                st = oct_fail(err, OCT_E_PARSE, "%s:%d: %s = %g is outside 0..1 (normalised)", path,
                              line + 1, (const char *[]){"", "cx", "cy", "w", "h"}[i], f[i]);
        if (st) break;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            oct_gt_box *g = realloc(v, sizeof *v * (size_t)cap);
            if (!g) {
                st = oct_fail(err, OCT_E_NOMEM, "'%s': out of memory", path);
                break;
            }
            v = g;
        }
        oct_gt_box *b = &v[cnt++];
        b->x = (f[1] - f[3] / 2) * width;
        b->y = (f[2] - f[4] / 2) * height;
        b->w = f[3] * width;
        b->h = f[4] * height;
        b->area = b->w * b->h;
        b->class_id = (int)f[0];
        b->iscrowd = 0;
    }
    free(buf);
    if (st) {
        free(v);
        return st;
    }
    *out = v;
    *n = cnt;
    return OCT_OK;
}

/* ---- COCO instances JSON ----------------------------------------------- */
static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_image_name(const void *a, const void *b) {
    return strcmp(((const oct_coco_image *)a)->file_name, ((const oct_coco_image *)b)->file_name);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int get_num(const cJSON *o, const char *key, double *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x)) return -1;
    *v = x->valuedouble;
    return 0;
}

static int64_t find_cat(const oct_coco_data *d, int64_t id) {
    const int64_t *p = bsearch(&id, d->cat_ids, (size_t)d->n_cats, sizeof id, cmp_i64);
    return p ? p - d->cat_ids : -1;
}

static oct_status coco_parse(const char *path, const cJSON *root, oct_coco_data *d,
                             oct_error *err) {
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
    if (!cJSON_IsArray(imgs) || !cJSON_IsArray(anns) || !cJSON_IsArray(cats))
        return oct_fail(
            err, OCT_E_PARSE,
            "%s: a COCO instances file needs the arrays images, annotations and categories", path);
    int nc = cJSON_GetArraySize(cats), ni = cJSON_GetArraySize(imgs);
    d->cat_ids = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
    d->cat_names = calloc((size_t)(nc ? nc : 1), sizeof(char *));
    d->images = calloc((size_t)(ni ? ni : 1), sizeof *d->images);
    if (!d->cat_ids || !d->cat_names || !d->images)
        return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    const cJSON *it;
    int k = 0;
    cJSON_ArrayForEach(it, cats) {
        double id;
        if (get_num(it, "id", &id))
            return oct_fail(err, OCT_E_PARSE, "%s: categories[%d] has no numeric id", path, k);
        d->cat_ids[k++] = (int64_t)id;
    }
    d->n_cats = nc;
    qsort(d->cat_ids, (size_t)nc, sizeof(int64_t), cmp_i64);
    for (int i = 1; i < nc; i++)
        if (d->cat_ids[i] == d->cat_ids[i - 1])
            return oct_fail(err, OCT_E_PARSE, "%s: category id %lld appears twice", path,
                            (long long)d->cat_ids[i]);
    cJSON_ArrayForEach(it, cats) {
        double id = 0;
        get_num(it, "id", &id);
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        int64_t c = find_cat(d, (int64_t)id);
        if (!(d->cat_names[c] = strdup(name ? name : "")))
            return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    }
    k = 0;
    cJSON_ArrayForEach(it, imgs) {
        double id, w = 0, h = 0;
        const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "file_name"));
        if (get_num(it, "id", &id) || !fn)
            return oct_fail(err, OCT_E_PARSE, "%s: images[%d] needs a numeric id and a file_name",
                            path, k);
        get_num(it, "width", &w);
        get_num(it, "height", &h);
        oct_coco_image *im = &d->images[k++];
        im->id = (int64_t)id;
        im->width = (int)w;
        im->height = (int)h;
        if (!(im->file_name = strdup(base_name(fn))))
            return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
        d->n_images = k;
    }
    /* Annotations go to their image: look images up by id. */
    int64_t(*by_id)[2] = malloc(sizeof *by_id * (size_t)(ni ? ni : 1));
    if (!by_id) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < ni; i++) {
        by_id[i][0] = d->images[i].id;
        by_id[i][1] = i;
    }
    qsort(by_id, (size_t)ni, sizeof *by_id, cmp_i64);
    oct_status st = OCT_OK;
    k = 0;
    cJSON_ArrayForEach(it, anns) {
        double iid, cid, area = -1, crowd = 0, bb[4];
        const cJSON *box = cJSON_GetObjectItemCaseSensitive(it, "bbox");
        int ok = !get_num(it, "image_id", &iid) && !get_num(it, "category_id", &cid) &&
                 cJSON_IsArray(box) && cJSON_GetArraySize(box) == 4;
        for (int j = 0; ok && j < 4; j++) {
            const cJSON *x = cJSON_GetArrayItem(box, j);
            ok = cJSON_IsNumber(x);
            if (ok) bb[j] = x->valuedouble;
        }
        if (!ok) {
            st = oct_fail(err, OCT_E_PARSE,
                          "%s: annotations[%d] needs image_id, category_id and bbox [x,y,w,h]",
                          path, k);
            break;
        }
        get_num(it, "area", &area);
        get_num(it, "iscrowd", &crowd);
        int64_t key = (int64_t)iid;
        int64_t(*hit)[2] = bsearch(&key, by_id, (size_t)ni, sizeof *by_id, cmp_i64);
        int64_t c = find_cat(d, (int64_t)cid);
        if (!hit || c < 0) {
            st = oct_fail(err, OCT_E_PARSE,
                          "%s: annotations[%d] refers to %s %lld, which is not listed", path, k,
                          hit ? "category" : "image", hit ? (long long)cid : (long long)iid);
            break;
        }
        oct_coco_image *im = &d->images[(*hit)[1]];
        oct_gt_box *g = realloc(im->gt, sizeof *g * (size_t)(im->n_gt + 1));
        if (!g) {
            st = oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
            break;
        }
        im->gt = g;
        g[im->n_gt++] = (oct_gt_box){bb[0], bb[1], bb[2], bb[3], area, (int)c, crowd != 0};
        k++;
    }
    free(by_id);
    if (st) return st;
    qsort(d->images, (size_t)ni, sizeof *d->images, cmp_image_name);
    return OCT_OK;
}

oct_status oct_eval_coco_load(const char *path, oct_coco_data *out, oct_error *err) {
    memset(out, 0, sizeof *out);
    size_t size;
    char *buf = read_file(path, &size, err);
    if (!buf) return err ? err->status : OCT_E_IO;
    cJSON *root = cJSON_ParseWithLength(buf, size);
    free(buf);
    if (!root) return oct_fail(err, OCT_E_PARSE, "%s: not valid JSON", path);
    oct_status st = coco_parse(path, root, out, err);
    cJSON_Delete(root);
    if (st) oct_eval_coco_free(out);
    return st;
}

const oct_coco_image *oct_eval_coco_find(const oct_coco_data *d, const char *name) {
    oct_coco_image key;
    memset(&key, 0, sizeof key);
    key.file_name = (char *)base_name(name);
    return bsearch(&key, d->images, (size_t)d->n_images, sizeof key, cmp_image_name);
}

void oct_eval_coco_free(oct_coco_data *d) {
    if (!d) return;
    for (int i = 0; i < d->n_images; i++) {
        free(d->images[i].file_name);
        free(d->images[i].gt);
    }
    free(d->images);
    if (d->cat_names)
        for (int i = 0; i < d->n_cats; i++)
            free(d->cat_names[i]);
    free(d->cat_names);
    free(d->cat_ids);
    memset(d, 0, sizeof *d);
}

/* ---- image folders ----------------------------------------------------- */
static int is_image(const char *n) {
    const char *dot = strrchr(n, '.');
    if (!dot || dot == n) return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png") ||
           !strcasecmp(dot, ".bmp");
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

oct_status oct_eval_list_images(const char *dir, char ***names, int *n, oct_error *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return oct_fail(err, OCT_E_IO, "cannot open image folder '%s': %s", dir, strerror(errno));
    char **v = NULL;
    int cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_image(e->d_name)) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 256;
            char **g = realloc(v, sizeof *v * (size_t)cap);
            if (!g) break;
            v = g;
        }
        if (!(v[cnt] = strdup(e->d_name))) break;
        cnt++;
    }
    int oom = e != NULL;
    closedir(d);
    if (oom) {
        oct_eval_free_lines(v, cnt);
        return oct_fail(err, OCT_E_NOMEM, "listing '%s': out of memory", dir);
    }
    if (!cnt) {
        free(v);
        return oct_fail(err, OCT_E_INVALID_ARG, "no images (.jpg .jpeg .png .bmp) in '%s'", dir);
    }
    qsort(v, (size_t)cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return OCT_OK;
}
