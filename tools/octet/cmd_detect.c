/* octet detect MODEL IMAGE [-o OUT.jpg]: run a detector on one image, list
 * the boxes (or --json) and draw them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "octet/eval.h"

/* Class names: --names, else coco.names beside the image, in its parent or
 * grandparent folder. Returns the number of names (0: none). */
static int load_names(const char *path, const char *image, char ***out) {
    char buf[4096], dir[4096];
    *out = NULL;
    if (!path) {
        snprintf(dir, sizeof dir, "%s", image);
        char *s = strrchr(dir, '/');
        if (s)
            *s = 0;
        else
            snprintf(dir, sizeof dir, ".");
        static const char *const rel[] = {"/coco.names", "/../coco.names", "/../../coco.names"};
        for (int i = 0; i < 3 && !path; i++) {
            snprintf(buf, sizeof buf, "%s%s", dir, rel[i]);
            FILE *f = fopen(buf, "r");
            if (f) {
                fclose(f);
                path = buf;
            }
        }
        if (!path) return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) return cli_fail("cannot open names file '%s'", path), -1;
    char line[512];
    int n = 0, cap = 0;
    char **v = NULL;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            char **g = realloc(v, sizeof *v * (size_t)cap);
            if (!g) break;
            v = g;
        }
        if (!(v[n] = strdup(line))) break;
        n++;
    }
    fclose(f);
    *out = v;
    return n;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

int cmd_detect(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *image = NULL, *out = NULL, *names_path = NULL, *decoder = "yolov10";
    oct_decode_options d;
    oct_decode_options_init(&d);
    d.conf = 0.25f;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-o") || !strcmp(a, "--decoder") || !strcmp(a, "--names") ||
                    !strcmp(a, "--conf") || !strcmp(a, "--iou") || !strcmp(a, "--max-det");
        if (takes && !v) return cli_fail("detect: %s needs a value", a), 2;
        char *e = NULL;
        if (!strcmp(a, "-o"))
            out = v;
        else if (!strcmp(a, "--decoder"))
            decoder = v;
        else if (!strcmp(a, "--names"))
            names_path = v;
        else if (!strcmp(a, "--conf") || !strcmp(a, "--iou")) {
            float x = strtof(v, &e);
            if (e == v || *e || !(x >= 0 && x <= 1))
                return cli_fail("detect: %s must be a number within 0..1", a), 2;
            if (a[2] == 'c')
                d.conf = x;
            else
                d.iou = x;
        } else if (!strcmp(a, "--max-det")) {
            long x = strtol(v, &e, 10);
            if (e == v || *e || x < 1 || x > 1000000)
                return cli_fail("detect: --max-det must be a positive integer"), 2;
            d.max_det = (int)x;
        } else if (a[0] == '-' && a[1])
            return cli_fail("detect: unknown option '%s'", a), 2;
        else if (!c.model_path)
            c.model_path = a;
        else if (!image)
            image = a;
        else
            return cli_fail("detect: unexpected argument '%s'", a), 2;
        i += takes;
    }
    if (!c.model_path || !image)
        return cli_fail("usage: octet detect MODEL IMAGE [-o OUT.jpg|.png] [--json] [--decoder "
                        "yolov10|yolov8|yolov5]\n"
                        "  [--names FILE] [--conf 0.25] [--iou 0.7] [--max-det 300] [--plan "
                        "PLAN.json [--simulate]]\n"
                        "  [--threads N] [--preset NAME (yolo)] and the preprocessing flags of "
                        "'octet run'"),
               2;
    oct_error err = {0};
    if (oct_decoder_parse(decoder, &d.decoder, &err)) return cli_error(&err), 2;
    if (!c.pre_set && oct_preprocess_preset("yolo", &c.pre, &err)) return cli_error(&err);
    char **names = NULL;
    int n_names = load_names(names_path, image, &names);
    if (n_names < 0) return 1;
    int rc = 1;
    oct_model *m = NULL;
    oct_session *s = NULL;
    oct_detection *dets = NULL;
    int n = 0;
    oct_tensor_view in = {0};
    oct_image_info info;
    const char *in_name;
    if (cli_load_model(&c, &m, &err) || cli_read_input(&c, m, 0, image, &in, &info, &err))
        goto fail;
    oct_model_input_info(m, 0, &in_name, NULL, NULL, NULL, NULL);
    /* The image fixes any dynamic dimension not given by --shape. */
    cli_shape_from_data(&c, in_name, &in);
    oct_session_options so;
    cli_session_options(&c, &so);
    if (oct_eval_open_candidate(m, c.plan_path, c.simulate, &so, &s, &err)) goto fail;
    if (oct_session_num_inputs(s) != 1) {
        cli_fail("detect needs a model with one image input; this one has %d",
                 oct_session_num_inputs(s));
        goto done;
    }
    if (oct_session_set_input(s, in_name, &in, &err) || oct_session_run(s, &err)) goto fail;
    oct_tensor_view o;
    if (oct_session_get_output(s, 0, &o, &err) ||
        oct_decode_detections(&o, &d, &info, &dets, &n, &err))
        goto fail;
    if (c.json) {
        printf("{\n  \"image\": ");
        json_str(stdout, image);
        printf(",\n  \"width\": %d,\n  \"height\": %d,\n  \"detections\": [", info.orig_width,
               info.orig_height);
    } else {
        printf("%s: %d detection%s (score > %g)\n", image, n, n == 1 ? "" : "s", d.conf);
    }
    for (int i = 0; i < n; i++) {
        const oct_detection *x = &dets[i];
        const char *nm = x->class_id >= 0 && x->class_id < n_names ? names[x->class_id] : NULL;
        if (c.json) {
            printf("%s\n    {\"class\": %d, \"name\": ", i ? "," : "", x->class_id);
            if (nm)
                json_str(stdout, nm);
            else
                printf("null");
            printf(", \"score\": %.4f, \"box\": [%.1f, %.1f, %.1f, %.1f]}", x->score, x->x1, x->y1,
                   x->x2, x->y2);
        } else {
            printf("  %-16s %.3f  %7.1f %7.1f %7.1f %7.1f\n", nm ? nm : "?", x->score, x->x1, x->y1,
                   x->x2, x->y2);
        }
    }
    if (c.json) printf("%s]\n}\n", n ? "\n  " : "");
    if (out && oct_draw_detections(image, dets, n, (const char *const *)names, n_names, out, &err))
        goto fail;
    if (out && !c.json) printf("wrote %s\n", out);
    rc = 0;
    goto done;
fail:
    cli_error(&err);
done:
    oct_free(dets);
    oct_free(in.data);
    oct_session_free(s);
    oct_model_free(m);
    for (int i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}
