/* Whole-folder evaluation: run a session on every image and score it
 * against labels (oct_eval_run) or against a reference session
 * (oct_eval_fidelity). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arith.h"
#include "core/error.h"
#include "eval/eval_internal.h"

void oct_eval_options_init(oct_eval_options *o) {
    memset(o, 0, sizeof *o);
    o->task = OCT_TASK_DETECT;
    oct_decode_options_init(&o->decode);
    oct_preprocess_init(&o->pre);
    o->ref_conf = 0.25f;
}

void oct_eval_report_free(oct_eval_report *r) {
    if (!r) return;
    oct_coco_result_free(&r->coco);
    oct_eval_free_lines(r->names, r->n_names);
    for (int i = 0; i < r->n_outputs; i++)
        free(r->outputs[i].name);
    free(r->outputs);
    free(r);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int file_exists(const char *p) {
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Class names: the given file, else coco.names beside `dir`, in its parent
 * or in its grandparent. A missing default is not an error. */
static oct_status load_names(const char *path, const char *dir, oct_eval_report *r,
                             oct_error *err) {
    char buf[4096];
    if (!path && dir) {
        static const char *const rel[] = {"/coco.names", "/../coco.names", "/../../coco.names"};
        for (int i = 0; i < 3 && !path; i++) {
            snprintf(buf, sizeof buf, "%s%s", dir, rel[i]);
            if (file_exists(buf)) path = buf;
        }
    }
    if (!path) return OCT_OK;
    oct_status st = oct_eval_read_lines(path, &r->names, &r->n_names, err);
    if (st) oct_error_prefix(err, "names file: ");
    return st;
}

static const char *stem_of(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s", name);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf) *dot = 0;
    return buf;
}

/* An image id for a label-folder image: the file's stem when every stem is
 * a number (COCO's 000000000139.jpg is 139), else its position. */
static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int numeric_ids(char **files, int n) {
    long long *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    if (!v) return 0;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        char b[512];
        const char *s = stem_of(files[i], b, sizeof b);
        size_t len = strlen(s);
        ok = len && len <= 18 && strspn(s, "0123456789") == len;
        if (ok) v[i] = strtoll(s, NULL, 10);
    }
    if (ok) qsort(v, (size_t)n, sizeof *v, cmp_ll);
    for (int i = 1; i < n && ok; i++)
        ok = v[i] != v[i - 1]; /* "7.jpg" and "007.png" */
    free(v);
    return ok;
}

static void score_summary(double *v, int n, oct_score_summary *s) {
    memset(s, 0, sizeof *s);
    s->n = n;
    if (!n) return;
    for (int i = 1; i < n; i++) /* insertion sort: one value per image */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    s->min = v[0];
    s->max = v[n - 1];
    s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += v[i];
        int b = (int)(v[i] * 10);
        s->hist[b < 0 ? 0 : b > 9 ? 9 : b]++;
    }
    s->mean = sum / n;
}

/* ---- the shared loop --------------------------------------------------- */
typedef struct run_state {
    const oct_eval_options *o;
    oct_eval_report *r;
    oct_session *ref, *cand; /* cand NULL: labels mode */
    char **files;
    int n_files;
    oct_preprocess pre;
    const char *input_name;
    oct_coco_eval *coco;
    oct_coco_data cd;
    int have_coco, numeric;
    char **synsets;
    int n_synsets;
    FILE *dump;
    int dump_first;
    double *top, *ref_top;
    int n_top, n_ref_top;
    double (*acc)[5]; /* per output: sum rr, cc, rc, dd, max |d| */
} run_state;

static oct_status setup_input(run_state *st, oct_session *s, oct_error *err) {
    if (oct_session_num_inputs(s) != 1)
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "eval needs a model with one image input; this one has %d inputs",
                        oct_session_num_inputs(s));
    oct_tensor_view shape;
    OCT_TRY(oct_session_input_info(s, 0, &st->input_name, &shape, err));
    if (shape.dtype != OCT_FLOAT || shape.ndim != 4 || shape.dims[0] != 1)
        return oct_fail(err, OCT_E_SHAPE,
                        "eval needs a float32 image input [1,3,H,W] (or [1,H,W,3]); input '%s' is "
                        "%s with %d dims",
                        st->input_name, oct_dtype_name(shape.dtype), shape.ndim);
    st->pre = st->o->pre;
    st->pre.height = (int)(st->pre.nhwc ? shape.dims[1] : shape.dims[2]);
    st->pre.width = (int)(st->pre.nhwc ? shape.dims[2] : shape.dims[3]);
    if (st->pre.mode == OCT_FIT_MULTIPLE) st->pre.mode = OCT_FIT_LETTERBOX;
    return OCT_OK;
}

static void dump_dets(run_state *st, int64_t image_id, const oct_detection *d, int n) {
    for (int i = 0; i < n; i++) {
        int64_t cat;
        if (st->have_coco) {
            if (d[i].class_id < 0 || d[i].class_id >= st->cd.n_cats) continue;
            cat = st->cd.cat_ids[d[i].class_id];
        } else {
            cat = d[i].class_id;
        }
        /* Exactly the box the evaluator scores: [x1, y1, x2-x1, y2-y1] in double. */
        fprintf(st->dump,
                "%s\n{\"image_id\": %lld, \"category_id\": %lld, \"bbox\": [%.17g, %.17g, %.17g, "
                "%.17g], \"score\": %.9g}",
                st->dump_first ? "" : ",", (long long)image_id, (long long)cat, (double)d[i].x1,
                (double)d[i].y1, (double)d[i].x2 - (double)d[i].x1,
                (double)d[i].y2 - (double)d[i].y1, (double)d[i].score);
        st->dump_first = 0;
    }
}

/* Ground truth of image i (labels mode). */
static oct_status image_truth(run_state *st, int i, const oct_image_info *info, oct_gt_box **gt,
                              int *n_gt, int64_t *id, oct_error *err) {
    const oct_eval_options *o = st->o;
    *gt = NULL;
    *n_gt = 0;
    if (st->have_coco) {
        const oct_coco_image *im = oct_eval_coco_find(&st->cd, st->files[i]);
        *id = im->id;
        if (!im->n_gt) return OCT_OK;
        if (!(*gt = malloc(sizeof **gt * (size_t)im->n_gt)))
            return oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
        memcpy(*gt, im->gt, sizeof **gt * (size_t)im->n_gt);
        *n_gt = im->n_gt;
        return OCT_OK;
    }
    char stem[512], path[4096];
    stem_of(st->files[i], stem, sizeof stem);
    *id = st->numeric ? strtoll(stem, NULL, 10) : i;
    snprintf(path, sizeof path, "%s/%s.txt", o->labels_dir, stem);
    int missing;
    OCT_TRY(oct_eval_read_yolo_labels(path, info->orig_width, info->orig_height, st->r->n_names, gt,
                                      n_gt, &missing, err));
    st->r->n_missing_labels += missing;
    return OCT_OK;
}

static oct_status classify_image(run_state *st, int i, oct_error *err) {
    oct_tensor_view out;
    OCT_TRY(oct_session_get_output(st->cand ? st->cand : st->ref, 0, &out, err));
    int64_t n = oct_eval_numel(&out), best[5], k = n < 5 ? n : 5, label;
    if (n < 1) return oct_fail(err, OCT_E_SHAPE, "classify: output 0 is empty");
    oct_eval_top_k(&out, n, (int)k, best);
    if (st->cand) {
        oct_tensor_view ro;
        OCT_TRY(oct_session_get_output(st->ref, 0, &ro, err));
        int64_t rb;
        oct_eval_top_k(&ro, oct_eval_numel(&ro), 1, &rb);
        label = rb;
    } else {
        char wnid[256];
        snprintf(wnid, sizeof wnid, "%s", st->files[i]);
        wnid[strcspn(wnid, "_.")] = 0;
        label = -1;
        for (int s = 0; s < st->n_synsets && label < 0; s++) {
            size_t len = strcspn(st->synsets[s], " \t");
            if (len == strlen(wnid) && !strncmp(st->synsets[s], wnid, len)) label = s;
        }
        if (label < 0)
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "classify: '%s' starts with '%s', which is not in %s", st->files[i],
                            wnid, st->o->synsets_path);
        if (n == st->n_synsets + 1) label++; /* a background class 0 */
        if (label >= n)
            return oct_fail(err, OCT_E_SHAPE,
                            "classify: class %lld of '%s' is beyond the model's %lld outputs",
                            (long long)label, st->files[i], (long long)n);
    }
    st->r->n_top1 += best[0] == label;
    for (int j = 0; j < k; j++)
        st->r->n_top5 += best[j] == label;
    return OCT_OK;
}

static oct_status detect_image(run_state *st, int i, const oct_image_info *info, oct_error *err) {
    oct_tensor_view out;
    oct_session *s = st->cand ? st->cand : st->ref;
    OCT_TRY(oct_session_get_output(s, 0, &out, err));
    oct_detection *d = NULL, *rd = NULL;
    oct_gt_box *gt = NULL;
    int n = 0, nr = 0, n_gt = 0;
    int64_t id = i;
    oct_status rc = oct_decode_detections(&out, &st->o->decode, info, &d, &n, err);
    if (!rc && st->cand) {
        oct_tensor_view ro;
        rc = oct_session_get_output(st->ref, 0, &ro, err);
        if (!rc) rc = oct_decode_detections(&ro, &st->o->decode, info, &rd, &nr, err);
        if (!rc && nr) st->ref_top[st->n_ref_top++] = rd[0].score;
        if (!rc && nr && !(gt = malloc(sizeof *gt * (size_t)nr)))
            rc = oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
        for (int k = 0; !rc && k < nr; k++)
            if (rd[k].score >= st->o->ref_conf) {
                const oct_detection *x = &rd[k];
                double w = (double)x->x2 - x->x1, h = (double)x->y2 - x->y1;
                gt[n_gt++] = (oct_gt_box){x->x1, x->y1, w, h, w * h, x->class_id, 0};
            }
        if (!rc && st->numeric) {
            char stem[512];
            id = strtoll(stem_of(st->files[i], stem, sizeof stem), NULL, 10);
        }
    } else if (!rc) {
        rc = image_truth(st, i, info, &gt, &n_gt, &id, err);
    }
    if (!rc) rc = oct_coco_eval_add_image(st->coco, id, gt, n_gt, d, n, err);
    if (!rc) {
        int real = 0;
        for (int k = 0; k < n_gt; k++)
            real += !gt[k].iscrowd;
        st->r->n_images_no_gt += real == 0;
        st->r->n_detections += n;
        st->r->n_images_no_det += n == 0;
        if (n) st->top[st->n_top++] = d[0].score;
        if (st->dump) dump_dets(st, id, d, n);
    }
    oct_free(d);
    oct_free(rd);
    free(gt);
    return rc;
}

static oct_status fidelity_outputs(run_state *st, oct_error *err) {
    int no = oct_session_num_outputs(st->ref);
    for (int k = 0; k < no; k++) {
        oct_tensor_view a, b;
        OCT_TRY(oct_session_get_output(st->ref, k, &a, err));
        OCT_TRY(oct_session_get_output(st->cand, k, &b, err));
        int64_t n = oct_eval_numel(&a);
        if (oct_eval_numel(&b) != n)
            return oct_fail(
                err, OCT_E_SHAPE,
                "fidelity: output %d has %lld values in the reference and %lld in the candidate", k,
                (long long)n, (long long)oct_eval_numel(&b));
        double *acc = st->acc[k];
        for (int64_t i = 0; i < n; i++) {
            double x = oct_eval_view_get(&a, i), y = oct_eval_view_get(&b, i), dd = x - y;
            acc[0] += x * x;
            acc[1] += y * y;
            acc[2] += x * y;
            acc[3] += dd * dd;
            if (fabs(dd) > acc[4] || dd != dd) acc[4] = dd != dd ? INFINITY : fabs(dd);
        }
        st->r->outputs[k].n_values += n;
    }
    return OCT_OK;
}

static oct_status run_image(run_state *st, int i, oct_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", st->o->images_dir, st->files[i]);
    oct_tensor_view t;
    oct_image_info info;
    OCT_TRY(oct_image_load(path, &st->pre, &t, &info, err));
    oct_status rc = oct_session_set_input(st->ref, st->input_name, &t, err);
    if (!rc) rc = oct_session_run(st->ref, err);
    if (!rc && st->cand && st->cand != st->ref) {
        rc = oct_session_set_input(st->cand, st->input_name, &t, err);
        if (!rc) rc = oct_session_run(st->cand, err);
    }
    oct_free(t.data);
    if (rc) {
        oct_error_prefix(err, "%s: ", st->files[i]);
        return rc;
    }
    if (st->cand) OCT_TRY(fidelity_outputs(st, err));
    rc = st->o->task == OCT_TASK_CLASSIFY ? classify_image(st, i, err)
                                          : detect_image(st, i, &info, err);
    if (rc) oct_error_prefix(err, "%s: ", st->files[i]);
    return rc;
}

/* Drops the images a COCO file does not list, then keeps the first count. */
static void select_images(run_state *st) {
    int k = 0;
    for (int i = 0; i < st->n_files; i++) {
        if (st->have_coco && !oct_eval_coco_find(&st->cd, st->files[i])) {
            st->r->n_skipped_images++;
            free(st->files[i]);
            continue;
        }
        st->files[k++] = st->files[i];
    }
    st->n_files = k;
    if (st->o->count > 0 && st->o->count < k) {
        for (int i = st->o->count; i < k; i++)
            free(st->files[i]);
        st->n_files = st->o->count;
    }
}

static oct_status prepare(run_state *st, oct_error *err) {
    const oct_eval_options *o = st->o;
    oct_eval_report *r = st->r;
    if (!o->images_dir) return oct_fail(err, OCT_E_INVALID_ARG, "eval: no image folder given");
    OCT_TRY(setup_input(st, st->ref, err));
    if (st->cand && st->cand != st->ref) {
        oct_tensor_view a, b;
        const char *na, *nb;
        OCT_TRY(oct_session_input_info(st->ref, 0, &na, &a, err));
        OCT_TRY(oct_session_input_info(st->cand, 0, &nb, &b, err));
        if (oct_session_num_inputs(st->cand) != 1 || strcmp(na, nb) || a.ndim != b.ndim ||
            memcmp(a.dims, b.dims, sizeof(int64_t) * (size_t)a.ndim) || a.dtype != b.dtype)
            return oct_fail(err, OCT_E_SHAPE,
                            "fidelity: the candidate's input differs from the reference's");
        if (oct_session_num_outputs(st->cand) != oct_session_num_outputs(st->ref))
            return oct_fail(err, OCT_E_SHAPE,
                            "fidelity: the reference has %d outputs, the candidate %d",
                            oct_session_num_outputs(st->ref), oct_session_num_outputs(st->cand));
    }
    if (o->task == OCT_TASK_CLASSIFY && !st->cand) {
        if (!o->synsets_path)
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "classify: no synsets file (--labels synsets.txt) given");
        oct_status rs = oct_eval_read_lines(o->synsets_path, &st->synsets, &st->n_synsets, err);
        if (rs) {
            oct_error_prefix(err, "synsets file: ");
            return rs;
        }
    }
    if (o->task == OCT_TASK_DETECT) {
        if (!st->cand && !o->labels_dir && !o->coco_json)
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "detect: give a YOLO label folder or a COCO instances file");
        if (o->coco_json) {
            OCT_TRY(oct_eval_coco_load(o->coco_json, &st->cd, err));
            st->have_coco = !st->cand;
        }
        if (o->names_path || !o->coco_json || st->cand) {
            OCT_TRY(
                load_names(o->names_path, o->labels_dir ? o->labels_dir : o->images_dir, r, err));
        }
        if (!r->names && o->coco_json) { /* the categories' names */
            r->names = st->cd.cat_names;
            r->n_names = st->cd.n_cats;
            st->cd.cat_names = NULL;
        }
        OCT_TRY(oct_coco_eval_create(&st->coco, err));
        if (o->dump_path) {
            if (!(st->dump = fopen(o->dump_path, "w")))
                return oct_fail(err, OCT_E_IO, "cannot write '%s'", o->dump_path);
            fputs("[", st->dump);
            st->dump_first = 1;
        }
    }
    OCT_TRY(oct_eval_list_images(o->images_dir, &st->files, &st->n_files, err));
    select_images(st);
    if (!st->n_files)
        return oct_fail(err, OCT_E_INVALID_ARG, "eval: none of the images in '%s' is in %s",
                        o->images_dir, o->coco_json ? o->coco_json : "the labels");
    st->numeric = numeric_ids(st->files, st->n_files);
    if (o->task == OCT_TASK_DETECT && !st->cand &&
        !st->have_coco) /* a bad line fails now, not hours in */
        for (int i = 0; i < st->n_files; i++) {
            char stem[512], path[4096];
            snprintf(path, sizeof path, "%s/%s.txt", o->labels_dir,
                     stem_of(st->files[i], stem, sizeof stem));
            oct_gt_box *g;
            int n, missing;
            OCT_TRY(oct_eval_read_yolo_labels(path, 1, 1, r->n_names, &g, &n, &missing, err));
            free(g);
        }
    st->top = malloc(sizeof(double) * (size_t)st->n_files);
    st->ref_top = malloc(sizeof(double) * (size_t)st->n_files);
    if (!st->top || !st->ref_top) return oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
    if (st->cand) {
        int no = oct_session_num_outputs(st->ref);
        r->n_outputs = no;
        r->outputs = calloc((size_t)(no ? no : 1), sizeof *r->outputs);
        st->acc = calloc((size_t)(no ? no : 1), sizeof *st->acc);
        if (!r->outputs || !st->acc) return oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
        for (int k = 0; k < no; k++)
            if (!(r->outputs[k].name = strdup(oct_session_output_name(st->ref, k))))
                return oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
    }
    return OCT_OK;
}

static void finish(run_state *st) {
    oct_eval_report *r = st->r;
    int n = r->n_images;
    if (st->o->task == OCT_TASK_CLASSIFY) {
        r->top1 = n ? (double)r->n_top1 / n : 0;
        r->top5 = n ? (double)r->n_top5 / n : 0;
    }
    score_summary(st->top, st->n_top, &r->top_score);
    score_summary(st->ref_top, st->n_ref_top, &r->ref_top_score);
    for (int k = 0; k < r->n_outputs; k++) {
        const double *a = st->acc[k];
        oct_output_fidelity *f = &r->outputs[k];
        f->cosine = a[0] == 0 && a[1] == 0   ? 1
                    : a[0] == 0 || a[1] == 0 ? 0
                                             : a[2] / sqrt(a[0] * a[1]);
        f->sqnr_db = a[3] == 0 ? INFINITY : a[0] == 0 ? -INFINITY : 10 * log10(a[0] / a[3]);
        f->max_abs_diff = a[4];
    }
}

static oct_status evaluate(oct_session *ref, oct_session *cand, const oct_eval_options *o,
                           oct_eval_report **out, oct_error *err) {
    if (!ref || !o || !out) return oct_fail(err, OCT_E_INVALID_ARG, "eval: NULL argument");
    *out = NULL;
    run_state st;
    memset(&st, 0, sizeof st);
    st.o = o;
    st.ref = ref;
    st.cand = cand;
    if (!(st.r = calloc(1, sizeof *st.r))) return oct_fail(err, OCT_E_NOMEM, "eval: out of memory");
    st.r->task = o->task;
    st.r->fidelity = cand != NULL;
    st.r->coco.map = st.r->coco.map50 = st.r->coco.map75 = -1;
    double t0 = now_s();
    oct_status rc = prepare(&st, err);
    for (int i = 0; !rc && i < st.n_files; i++) {
        rc = run_image(&st, i, err);
        if (!rc) st.r->n_images++;
        if (o->progress) o->progress(o->progress_user, i + 1, st.n_files);
    }
    if (st.dump) {
        fputs(st.dump_first ? "]\n" : "\n]\n", st.dump);
        if (fclose(st.dump) && !rc) rc = oct_fail(err, OCT_E_IO, "cannot write '%s'", o->dump_path);
    }
    if (!rc && st.coco) rc = oct_coco_eval_compute(st.coco, &st.r->coco, err);
    if (!rc) {
        finish(&st);
        st.r->seconds = now_s() - t0;
        *out = st.r;
    } else {
        oct_eval_report_free(st.r);
    }
    oct_coco_eval_free(st.coco);
    oct_eval_coco_free(&st.cd);
    oct_eval_free_lines(st.files, st.n_files);
    oct_eval_free_lines(st.synsets, st.n_synsets);
    free(st.top);
    free(st.ref_top);
    free(st.acc);
    return rc;
}

oct_status oct_eval_run(oct_session *s, const oct_eval_options *o, oct_eval_report **out,
                        oct_error *err) {
    return evaluate(s, NULL, o, out, err);
}

oct_status oct_eval_fidelity(oct_session *ref, oct_session *cand, const oct_eval_options *o,
                             oct_eval_report **out, oct_error *err) {
    if (!cand) return oct_fail(err, OCT_E_INVALID_ARG, "fidelity: no candidate session");
    return evaluate(ref, cand, o, out, err);
}
