/* Unit tests of the diagnosis rules (src/quant/diagnose.c): for every rule an
 * analysis document that triggers it and a control that must stay silent;
 * degenerate documents; ordering; the console summary.
 * Documents are written with single quotes (turned into double quotes before
 * parsing). Prints failures and "N passed, N failed"; -v prints every
 * document's console summary too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "quant/diagnose.h"

static int verbose; /* -v: print every document's diagnoses */

/* Parses a single-quoted document and runs the rules on it. */
static cJSON *diag(const char *sq) {
    char *s = strdup(sq);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    cJSON *doc = cJSON_Parse(s);
    if (!doc) {
        printf("FAIL: test document does not parse near: %.60s\n",
               cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
        free(s);
        exit(2);
    }
    free(s);
    oct_error err = {0};
    oct_status st = oct_diagnose(doc, &err);
    CHECK(st == OCT_OK, "oct_diagnose failed: %s", err.message);
    if (verbose) oct_diagnose_print(doc, stdout);
    return doc;
}

static const cJSON *diags(const cJSON *doc) {
    return cJSON_GetObjectItemCaseSensitive(doc, "diagnoses");
}
static int n_diags(const cJSON *doc) {
    const cJSON *a = diags(doc);
    return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
}
static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static double number(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}
static int count_rule(const cJSON *doc, const char *rule) {
    int n = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, diags(doc)) if (str(d, "rule") && !strcmp(str(d, "rule"), rule)) n++;
    return n;
}
/* The first diagnosis of `rule` on `tensor` (NULL: any tensor). */
static const cJSON *find(const cJSON *doc, const char *rule, const char *tensor) {
    const cJSON *d;
    cJSON_ArrayForEach(d, diags(doc)) {
        const char *r = str(d, "rule"), *t = str(d, "tensor");
        if (r && !strcmp(r, rule) && (!tensor || (t && !strcmp(t, tensor)))) return d;
    }
    return NULL;
}
static int has(const cJSON *d, const char *key, const char *s) {
    const cJSON *v;
    cJSON_ArrayForEach(
        v, cJSON_GetObjectItemCaseSensitive(d, key)) if (cJSON_IsString(v) &&
                                                         !strcmp(v->valuestring, s)) return 1;
    return 0;
}
static int size(const cJSON *d, const char *key) {
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, key));
}
static int says(const cJSON *d, const char *needle) {
    const char *m = str(d, "message");
    return m && strstr(m, needle);
}
static int fix_says(const cJSON *d, const char *needle) {
    const char *m = str(d, "fix");
    return m && strstr(m, needle);
}
static int sev_is(const cJSON *d, const char *s) {
    return d && str(d, "severity") && !strcmp(str(d, "severity"), s);
}
static double nums(const cJSON *d, const char *k) {
    return number(cJSON_GetObjectItemCaseSensitive(d, "numbers"), k);
}

/* Every diagnosis has the documented fields with the documented types. */
static void check_shape(const cJSON *doc, const char *what) {
    const cJSON *d;
    cJSON_ArrayForEach(d, diags(doc)) {
        const char *sev = str(d, "severity");
        CHECK(str(d, "rule") && sev &&
                  (!strcmp(sev, "error") || !strcmp(sev, "warning") || !strcmp(sev, "info")),
              "%s: rule/severity", what);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "tensor");
        CHECK(cJSON_IsString(t) || cJSON_IsNull(t), "%s: tensor", what);
        CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(d, "nodes")), "%s: nodes", what);
        CHECK(str(d, "message") && strlen(str(d, "message")) > 20, "%s: message", what);
        CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "numbers")), "%s: numbers", what);
        CHECK(str(d, "fix") && strlen(str(d, "fix")) > 10, "%s: fix", what);
        CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(d, "fallback")), "%s: fallback", what);
    }
}

/* ======================= shared-scale + output-collapse ======================= */

/* A YOLO-like head: box coordinates in pixels and sigmoid scores joined by a
 * Concat with one int8 scale, a Transpose/Split/TopK/GatherElements tail that
 * inherits the scale, a Mul that does not, and an output Concat. */
static const char *yolo_head(int broken) {
    static char buf[8192];
    /* broken: boxes in pixels (scale 6.38); control: boxes normalized (scale 0.00945) */
    const char *bmin = broken ? "-154" : "-0.19", *bmax = broken ? "810" : "1.0";
    const char *amax = broken ? "810.2" : "1.2", *scale = broken ? "6.38" : "0.00945";
    snprintf(
        buf, sizeof buf,
        "{'format':'octet-analysis','version':1,'images':8,'plan_method':'entropy','weights':'per-"
        "channel',"
        "'summary':{'metric':'sqnr_db','outputs':[{'name':'out','sqnr_db':%s,'cosine':%s,'zeroed_"
        "rate':%s}]},"
        "'tensors':["
        "{'name':'x','order':0,'producer':null,'producer_inputs':[],'consumers':['box_conv','sig'],"
        " 'is_input':true,'precision':'int8','amax':1,'calib':{'min':0,'max':1,'absmax':1,'p9999':"
        "1},"
        " 'observed':{'min':0,'max':1,'absmax':1,'p9999':1}},"
        "{'name':'boxes','order':1,'producer':'box_conv','producer_op':'Conv','producer_inputs':['"
        "x'],"
        " 'consumers':['cat'],'precision':'int8','amax':%s,'observed':{'min':%s,'max':%s,'absmax':%"
        "s,'p9999':%s},"
        " 'sqnr_db':35,'cosine':0.999,'zeroed_rate':0.01},"
        "{'name':'scores','order':2,'producer':'sig','producer_op':'Sigmoid','producer_inputs':['x'"
        "],"
        " 'consumers':['cat'],'precision':'int8','scale':0.00787,'amax':1.0,"
        " 'observed':{'min':0,'max':1,'absmax':1,'p9999':0.99},'sqnr_db':6.1,'cosine':0.876,"
        " 'zeroed_rate':0.9999},"
        "{'name':'cat_out','order':3,'producer':'cat','producer_op':'Concat','producer_inputs':['"
        "boxes','scores'],"
        " 'consumers':['tr'],'precision':'int8','scale':%s,'amax':%s,"
        " 'observed':{'min':%s,'max':%s,'absmax':%s,'p9999':%s},'sqnr_db':%s,'cosine':%s,'zeroed_"
        "rate':%s},"
        "{'name':'tr_out','order':4,'producer':'tr','producer_op':'Transpose','producer_inputs':['"
        "cat_out'],"
        " 'consumers':['split'],'precision':'int8','amax':%s,'sqnr_db':8,'zeroed_rate':%s},"
        "{'name':'sb','order':5,'producer':'split','producer_op':'Split','producer_inputs':['tr_"
        "out'],"
        " 'consumers':['gat'],'precision':'int8','amax':%s},"
        "{'name':'ss','order':6,'producer':'split','producer_op':'Split','producer_inputs':['tr_"
        "out'],"
        " 'consumers':['topk','mul'],'precision':'int8','amax':%s},"
        "{'name':'tk','order':7,'producer':'topk','producer_op':'TopK','producer_inputs':['ss'],"
        " 'consumers':['gat','cat2'],'precision':'int8','amax':%s,'observed':{'absmax':%s}},"
        "{'name':'g','order':8,'producer':'gat','producer_op':'GatherElements','producer_inputs':['"
        "sb','tk'],"
        " 'consumers':['cat2'],'precision':'int8','amax':%s,'observed':{'absmax':%s}},"
        "{'name':'m','order':9,'producer':'mul','producer_op':'Mul','producer_inputs':['ss'],"
        " 'consumers':['cat2'],'precision':'int8','amax':300,'observed':{'absmax':300}},"
        "{'name':'out','order':10,'producer':'cat2','producer_op':'Concat','producer_inputs':['g','"
        "tk','m'],"
        " 'consumers':[],'is_output':true,'precision':'int8','amax':%s,'observed':{'absmax':%s},"
        " 'sqnr_db':%s,'cosine':%s,'zeroed_rate':%s}"
        "]}",
        broken ? "2.1" : "35", broken ? "0.6" : "0.999", broken ? "0.98" : "0.01", /* summary */
        amax, bmin, bmax, bmax, bmax,                                              /* boxes */
        scale, amax, bmin, bmax, bmax, bmax, broken ? "8" : "34", broken ? "0.8" : "0.999",
        broken ? "0.95" : "0.01",           /* cat_out */
        amax, broken ? "0.95" : "0.01",     /* tr_out */
        amax, amax, amax, bmax, amax, bmax, /* sb ss tk g */
        amax, bmax, broken ? "2.1" : "35", broken ? "0.6" : "0.999", broken ? "0.98" : "0.01");
    return buf;
}

static void test_shared_scale_concat(void) {
    cJSON *doc = diag(yolo_head(1));
    check_shape(doc, "yolo head");
    const cJSON *d = find(doc, "shared-scale", "cat_out");
    CHECK(d != NULL, "shared-scale fires on the box/score Concat");
    CHECK(sev_is(d, "error"), "less than one level is an error");
    CHECK(has(d, "nodes", "cat") && size(d, "nodes") == 1, "nodes = the Concat");
    CHECK(fabs(nums(d, "levels_small_part") - 1.0 / 6.38) < 1e-6, "levels = 1 / 6.38, got %g",
          nums(d, "levels_small_part"));
    CHECK(fabs(nums(d, "scale") - 6.38) < 1e-9, "scale taken from the tensor");
    /* the fallback: the Concat and every shape-only node with the same scale */
    static const char *const inherit[] = {"cat", "tr", "split", "topk", "gat", "cat2"};
    for (int i = 0; i < 6; i++)
        CHECK(has(d, "fallback", inherit[i]), "fallback holds %s", inherit[i]);
    CHECK(size(d, "fallback") == 6, "fallback has 6 nodes, got %d", size(d, "fallback"));
    CHECK(!has(d, "fallback", "mul"), "the Mul computes a new range: not in the fallback");
    CHECK(!has(d, "fallback", "sig") && !has(d, "fallback", "box_conv"),
          "nothing upstream in the fallback");
    CHECK(says(d, "'cat'") && says(d, "'cat_out'") && says(d, "'boxes'") && says(d, "'scores'"),
          "message names the Concat, the tensor and both parts: %s", str(d, "message"));
    CHECK(says(d, "-154..810") && says(d, "0..1") && says(d, "6.38") && says(d, "3.19") &&
              says(d, "0.157"),
          "message gives both ranges, the scale, half a step and the levels: %s",
          str(d, "message"));
    CHECK(fix_says(d, "out of INT8") && fix_says(d, "split the Concat"),
          "fix: fallback or split: %s", str(d, "fix"));
    CHECK(count_rule(doc, "shared-scale") == 1,
          "only the box/score Concat (the output Concat's parts are close)");

    /* output-collapse points to the Concat */
    const cJSON *o = find(doc, "output-collapse", "out");
    CHECK(o != NULL, "output-collapse fires on the output");
    CHECK(sev_is(o, "error"), "collapse is an error");
    CHECK(says(o, "detects nothing") || says(o, "mostly lost"), "plain language: %s",
          o ? str(o, "message") : "");
    CHECK(says(o, "98") && says(o, "'cat_out'"), "names the zeroed share and the origin: %s",
          o ? str(o, "message") : "");
    CHECK(!says(o, "'scores'"), "the sigmoid output (99.99%% of its tiny values zeroed, 6 dB, as "
                                "in YOLOv10n) is not the origin: the "
                                "shared scale found after it is");
    CHECK(has(o, "nodes", "cat"), "nodes = the origin's producer");
    CHECK(has(o, "fallback", "cat") && has(o, "fallback", "cat2") && has(o, "fallback", "mul") &&
              !has(o, "fallback", "sig"),
          "collapse fallback = the path from the origin to the output");
    CHECK(n_diags(doc) == 2, "exactly 2 diagnoses, got %d", n_diags(doc));
    /* both errors; the symptom (impact 1) comes first, the cause second */
    CHECK(n_diags(doc) == 2 &&
              !strcmp(str(cJSON_GetArrayItem(diags(doc), 0), "rule"), "output-collapse"),
          "sorted: output-collapse first");
    cJSON_Delete(doc);

    doc = diag(yolo_head(0));
    CHECK(n_diags(doc) == 0, "control (normalized boxes): silent, got %d", n_diags(doc));
    cJSON_Delete(doc);

    /* warning between 1 and 8 levels: parts 0..40 and 0..1, scale 40/127 -> 3.2 levels */
    doc = diag(
        "{'tensors':["
        "{'name':'a','order':0,'observed':{'min':0,'max':40,'absmax':40}},"
        "{'name':'b','order':1,'observed':{'min':0,'max':1,'absmax':1}},"
        "{'name':'c','order':2,'producer':'cc','producer_op':'Concat','producer_inputs':['a','b'],"
        " 'precision':'int8','amax':40}]}");
    d = find(doc, "shared-scale", "c");
    CHECK(sev_is(d, "warning"), "3.2 levels: warning");
    CHECK(d && fabs(nums(d, "levels_small_part") - 127.0 / 40) < 1e-9, "levels from amax/127");
    CHECK(d && has(d, "fallback", "cc") && size(d, "fallback") == 1,
          "no consumers: fallback = the Concat");
    cJSON_Delete(doc);

    /* the same parts but the tensor is not int8: silent */
    doc = diag(
        "{'tensors':["
        "{'name':'a','order':0,'observed':{'absmax':40}},{'name':'b','order':1,'observed':{'absmax'"
        ":1}},"
        "{'name':'c','order':2,'producer':'cc','producer_op':'Concat','producer_inputs':['a','b'],"
        " 'precision':'fp32','amax':null}]}");
    CHECK(n_diags(doc) == 0, "float Concat: silent");
    cJSON_Delete(doc);
    /* parts of similar range with few levels (threshold problem, not sharing): silent */
    doc = diag(
        "{'tensors':["
        "{'name':'a','order':0,'observed':{'absmax':2}},{'name':'b','order':1,'observed':{'absmax':"
        "1}},"
        "{'name':'c','order':2,'producer':'cc','producer_op':'Concat','producer_inputs':['a','b'],"
        " 'precision':'int8','amax':40}]}");
    CHECK(count_rule(doc, "shared-scale") == 0, "similar parts: no shared-scale");
    cJSON_Delete(doc);
}

static void test_shared_scale_channels(void) {
    /* 4 box channels up to 810, 8 score channels within 1: scale 6.38 */
    cJSON *doc = diag(
        "{'tensors':["
        "{'name':'h','order':0,'producer':'head','producer_op':'Conv','consumers':['r'],"
        " 'precision':'int8','scale':6.38,'amax':810.2,'observed':{'absmax':810},"
        " 'channels':{'axis':1,'absmax':[810,640,800,640,1,0.99,0.98,1,0.5,0.7,0.9,1]}},"
        "{'name':'r_out','order':1,'producer':'r','producer_op':'Reshape','producer_inputs':['h'],"
        " 'precision':'int8','amax':810.2}]}");
    const cJSON *d = find(doc, "shared-scale", "h");
    CHECK(d != NULL, "channel variant fires");
    CHECK(sev_is(d, "error"), "score channels under one level: error");
    CHECK(says(d, "8 of 12 channels") && says(d, "4-11") && says(d, "810") && says(d, "'head'"),
          "message counts and lists the starved channels: %s", d ? str(d, "message") : "");
    CHECK(d && has(d, "fallback", "head") && has(d, "fallback", "r") && size(d, "fallback") == 2,
          "fallback = producer + the Reshape that inherits");
    CHECK(fabs(nums(d, "channels_starved") - 8) < 1e-9, "numbers.channels_starved");
    cJSON_Delete(doc);

    /* 5 levels for a group of channels: info (common in per-tensor activations) */
    doc = diag("{'tensors':[{'name':'h','order':0,'producer':'head','producer_op':'Conv','"
               "precision':'int8',"
               "'amax':127,'channels':{'axis':1,'absmax':[127,100,90,5,5,4]}}]}");
    d = find(doc, "shared-scale", "h");
    CHECK(sev_is(d, "info"), "5 levels: info");
    cJSON_Delete(doc);
    doc = diag("{'tensors':[{'name':'h','order':0,'producer':'head','producer_op':'Conv','"
               "precision':'int8',"
               "'amax':127,'channels':{'axis':1,'absmax':[127,100,90,3,2,2]}}]}");
    d = find(doc, "shared-scale", "h");
    CHECK(sev_is(d, "warning"), "3 levels: warning");
    cJSON_Delete(doc);
    /* 3 near-dead channels of 32 under one level: a warning, not an error */
    {
        char b32[2048];
        int n32 = snprintf(
            b32, sizeof b32,
            "{'tensors':[{'name':'h','order':0,'producer':'clip','producer_op':'Clip',"
            "'precision':'int8','amax':6,'channels':{'axis':1,'absmax':[0.01,0.012,0.0136");
        for (int i = 3; i < 32; i++)
            n32 += snprintf(b32 + n32, sizeof b32 - (size_t)n32, ",%g", 1.0 + i * 0.15);
        snprintf(b32 + n32, sizeof b32 - (size_t)n32, "]}}]}");
        doc = diag(b32);
        d = find(doc, "shared-scale", "h");
        CHECK(sev_is(d, "warning") && says(d, "3 of 32 channels"), "3 of 32 channels: warning: %s",
              d ? str(d, "message") : "");
        cJSON_Delete(doc);
    }
    /* control: channels of similar range */
    doc = diag("{'tensors':[{'name':'h','order':0,'producer':'head','producer_op':'Conv','"
               "precision':'int8',"
               "'amax':810,'channels':{'axis':1,'absmax':[810,640,500,300,200,150]}}]}");
    CHECK(n_diags(doc) == 0, "similar channels: silent");
    cJSON_Delete(doc);
    /* control: one stray small channel among 40 (below the 5%% group share) */
    char buf[4096];
    int n = snprintf(buf, sizeof buf,
                     "{'tensors':[{'name':'h','order':0,'producer':'p','producer_op':'Conv',"
                     "'precision':'int8','amax':100,'channels':{'axis':1,'absmax':[0.1");
    for (int i = 1; i < 40; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ",%d", 60 + i);
    snprintf(buf + n, sizeof buf - (size_t)n, "]}}]}");
    doc = diag(buf);
    CHECK(n_diags(doc) == 0, "one stray channel of 40: silent");
    cJSON_Delete(doc);
    /* control: float tensor */
    doc = diag("{'tensors':[{'name':'h','order':0,'precision':'fp32','amax':null,"
               "'channels':{'axis':1,'absmax':[810,1,1,1]}}]}");
    CHECK(n_diags(doc) == 0, "float tensor: silent");
    cJSON_Delete(doc);
}

/* ======================= output-collapse ======================= */

static void test_output_collapse(void) {
    /* SQNR alone crosses the line; the origin is the first int8 tensor of the
     * path under 3 dB (no zeroed values anywhere) */
    cJSON *doc =
        diag("{'summary':{'metric':'sqnr_db','outputs':[{'name':'y','sqnr_db':1.5,'cosine':0.8}]},"
             "'tensors':["
             "{'name':'a','order':0,'producer':'n0','producer_op':'Conv','consumers':['n1'],'"
             "precision':'int8',"
             " 'amax':5,'sqnr_db':40,'zeroed_rate':0.0},"
             "{'name':'b','order':1,'producer':'n1','producer_op':'Conv','producer_inputs':['a'],"
             " 'consumers':['n2'],'precision':'int8','amax':5,'sqnr_db':2.5,'zeroed_rate':0.1},"
             "{'name':'y','order':2,'producer':'n2','producer_op':'Conv','producer_inputs':['b'],"
             " 'is_output':true,'precision':'fp32','amax':null,'sqnr_db':1.5,'cosine':0.8}]}");
    const cJSON *d = find(doc, "output-collapse", "y");
    CHECK(d && sev_is(d, "error"), "SQNR 1.5 dB: collapse");
    CHECK(d && says(d, "'b'") && says(d, "1.5 dB"), "origin b, numbers: %s",
          d ? str(d, "message") : "");
    CHECK(d && has(d, "fallback", "n1") && has(d, "fallback", "n2") && !has(d, "fallback", "n0"),
          "path n1..n2");
    CHECK(d && fabs(nums(d, "sqnr_db") - 1.5) < 1e-9, "numbers.sqnr_db");
    cJSON_Delete(doc);

    /* gradual collapse through fused values (MobileNetV2 with entropy: Conv
     * outputs fused into their Clip are not in the table): the ancestors are
     * found by order past the gap; the origin has no finding of its own, the
     * saturation before it is named */
    doc = diag(
        "{'plan_method':'entropy','tensors':["
        "{'name':'in','order':0,'is_input':true,'precision':'int8','amax':2.6,'sqnr_db':44},"
        "{'name':'s1','order':1,'producer':'clip1','producer_op':'Clip','producer_inputs':['s1_raw'"
        "],"
        " 'precision':'int8','amax':0.436,'saturation_rate':0.101,'own_sqnr_db':8.5,'sqnr_db':6.8,"
        " 'observed':{'absmax':3.52,'p9999':3}},"
        "{'name':'c1','order':2,'producer':'conv2','producer_op':'Conv','producer_inputs':['s1'],"
        " 'precision':'int8','amax':5,'sqnr_db':1.2,'own_sqnr_db':37.6},"
        "{'name':'y','order':3,'producer':'gemm','producer_op':'Gemm','producer_inputs':['c1_raw'],"
        " 'is_output':true,'precision':'fp32','sqnr_db':0.9,'cosine':0.497}]}");
    d = find(doc, "output-collapse", "y");
    CHECK(d && says(d, "starts at 'c1'") && says(d, "keeps 37.6 dB") &&
              says(d, "1 other finding (saturation)"),
          "gradual collapse: %s", d ? str(d, "message") : "");
    CHECK(d && fix_says(d, "up to 'c1' first (saturation)"), "fix points upstream: %s",
          d ? str(d, "fix") : "");
    CHECK(d && has(d, "fallback", "conv2") && has(d, "fallback", "gemm") &&
              size(d, "fallback") == 2,
          "fallback from the origin on, by order past the gap");
    CHECK(count_rule(doc, "saturation") == 1, "the saturation finding itself");
    cJSON_Delete(doc);

    /* cosine alone, values only in the summary, "inf" SQNR kept as infinite */
    doc = diag("{'summary':{'outputs':[{'name':'y','sqnr_db':'inf','cosine':0.3}]},'tensors':[]}");
    d = find(doc, "output-collapse", "y");
    CHECK(d != NULL, "cosine 0.3 in the summary only: collapse");
    CHECK(d && says(d, "0.3"), "cosine in the message");
    cJSON_Delete(doc);

    /* the accuracy metric collapsed though each output looks fine */
    doc = diag("{'summary':{'metric':'map50_95','fp32':0.421,'plan':0.002,"
               "'outputs':[{'name':'y','sqnr_db':25,'cosine':0.99,'zeroed_rate':0.3}]},"
               "'tensors':[{'name':'y','order':0,'producer':'n','is_output':true,'precision':'int8'"
               ",'amax':1}]}");
    d = find(doc, "output-collapse", "y");
    CHECK(d && says(d, "detects nothing") && says(d, "0.421") && says(d, "0.002"),
          "metric collapse: %s", d ? str(d, "message") : "");
    CHECK(d && fabs(nums(d, "metric_fp32") - 0.421) < 1e-9, "numbers.metric_fp32");
    cJSON_Delete(doc);

    /* controls: good outputs, good metric, "inf" SQNR, nulls */
    doc = diag("{'summary':{'metric':'map50_95','fp32':0.421,'plan':0.40,"
               "'outputs':[{'name':'y','sqnr_db':25,'cosine':0.99,'zeroed_rate':0.3}]},"
               "'tensors':[{'name':'y','order':0,'is_output':true,'precision':'int8','amax':1,"
               "'sqnr_db':'inf','cosine':null,'zeroed_rate':null}]}");
    CHECK(n_diags(doc) == 0, "healthy output: silent, got %d", n_diags(doc));
    cJSON_Delete(doc);
}

/* ======================= outliers ======================= */

static void test_outliers(void) {
    /* the plan (minmax) covers outliers 100x the 99.99th percentile */
    cJSON *doc = diag("{'plan_method':'minmax','tensors':[{'name':'t','order':0,'producer':'p','"
                      "precision':'int8',"
                      "'amax':1000,'observed':{'absmax':1000,'p9999':10},"
                      "'thresholds':{'minmax':1000,'entropy':40,'percentile':10.5,'mse':12}}]}");
    const cJSON *d = find(doc, "outliers", "t");
    CHECK(sev_is(d, "warning"), "covering outliers: warning");
    CHECK(d && says(d, "covers") && says(d, "1.27") && says(d, "100x"),
          "explains the wasted resolution (10/7.87 = 1.27 levels): %s", d ? str(d, "message") : "");
    CHECK(d && fix_says(d, "--method mse") && fix_says(d, "12"),
          "recommends mse without a histogram: %s", d ? str(d, "fix") : "");
    CHECK(d && says(d, "±1000 ") && says(d, "threshold 1000 ") && !says(d, "e+0"),
          "1000 not 1e+03: %s", d ? str(d, "message") : "");
    cJSON_Delete(doc);
    /* numbers in exponent form become digits, names stay as they are */
    doc = diag("{'plan_method':'minmax','tensors':[{'name':'n1e+03','order':0,'precision':'int8',"
               "'amax':3200,'observed':{'min':-3200,'max':45,'absmax':3200,'p9999':32},'thresholds'"
               ":{}}]}");
    d = find(doc, "outliers", "n1e+03");
    CHECK(d && says(d, "'n1e+03'") && says(d, "±3200 ") && says(d, "threshold 3200 "),
          "names kept: %s", d ? str(d, "message") : "");
    cJSON_Delete(doc);

    /* the plan clips them: info, good resolution */
    doc = diag("{'plan_method':'percentile','tensors':[{'name':'t','order':0,'producer':'p','"
               "precision':'int8',"
               "'amax':10.5,'observed':{'absmax':1000,'p9999':10},"
               "'thresholds':{'minmax':1000,'percentile':10.5,'mse':12}}]}");
    d = find(doc, "outliers", "t");
    CHECK(sev_is(d, "info"), "clipping outliers: info");
    CHECK(d && says(d, "clips") && says(d, "good resolution"), "clip message: %s",
          d ? str(d, "message") : "");
    cJSON_Delete(doc);

    /* with a histogram the recommendation is the best estimated SQNR: 5e6
     * values at 1.5 and one at 999.5. Threshold 1.2 (entropy) clips the one
     * outlier (error 998^2) but keeps the 5e6 values (11 dB); minmax's and
     * mse's steps (7.9, 4.7) round all of them to 0 (0.4 dB). */
    char buf[4096];
    int n = snprintf(buf, sizeof buf,
                     "{'plan_method':'minmax','tensors':[{'name':'t','order':0,'producer':'p','"
                     "precision':'int8',"
                     "'amax':1000,'observed':{'absmax':1000,'p9999':1},"
                     "'thresholds':{'minmax':1000,'entropy':1.2,'mse':600}}],"
                     "'histograms':[{'tensor':'t','absmax':1000,'bin_width':1,'counts':[0,5000000");
    for (int i = 2; i < 999; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ",0");
    snprintf(buf + n, sizeof buf - (size_t)n, ",1]}]}");
    doc = diag(buf);
    d = find(doc, "outliers", "t");
    CHECK(d && fix_says(d, "--method entropy") && fix_says(d, "estimated SQNR"),
          "histogram picks entropy: %s", d ? str(d, "fix") : "");
    CHECK(d && isfinite(nums(d, "recommended_est_sqnr_db")) &&
              nums(d, "recommended_est_sqnr_db") > nums(d, "plan_est_sqnr_db"),
          "estimated SQNR better than the plan's");
    cJSON_Delete(doc);

    /* controls: a ratio of 1.2; a float tensor; p9999 of 0 */
    doc = diag(
        "{'tensors':[{'name':'t','order':0,'precision':'int8','amax':12,'observed':{'absmax':12,'"
        "p9999':10}},"
        "{'name':'u','order':1,'precision':'fp32','observed':{'absmax':1000,'p9999':10}},"
        "{'name':'v','order':2,'precision':'int8','amax':5,'observed':{'absmax':5,'p9999':0}}]}");
    CHECK(n_diags(doc) == 0, "no outliers: silent, got %d", n_diags(doc));
    cJSON_Delete(doc);
}

/* ======================= saturation ======================= */

static void test_saturation(void) {
    cJSON *doc =
        diag("{'tensors':[{'name':'t','order':0,'producer':'p','precision':'int8','amax':5,"
             "'saturation_rate':0.05,'own_sqnr_db':30,'observed':{'absmax':20,'p9999':8},"
             "'thresholds':{'minmax':20,'percentile':9,'entropy':5,'mse':6}}]}");
    const cJSON *d = find(doc, "saturation", "t");
    CHECK(sev_is(d, "warning"), "5%% saturated, own SQNR 30 dB: warning");
    CHECK(d && says(d, "5%") && says(d, "±5") && says(d, "±20"), "message: %s",
          d ? str(d, "message") : "");
    CHECK(d && fix_says(d, "--method percentile") && fix_says(d, "9"),
          "recommends the smallest wider threshold covering p9999: %s", d ? str(d, "fix") : "");
    CHECK(d && has(d, "fallback", "p"), "fallback = producer");
    cJSON_Delete(doc);

    doc = diag("{'tensors':[{'name':'t','order':0,'producer':'p','precision':'int8','amax':5,"
               "'saturation_rate':0.05,'own_sqnr_db':12}]}");
    d = find(doc, "saturation", "t");
    CHECK(sev_is(d, "error"), "own SQNR 12 dB: error");
    CHECK(d && says(d, "12 dB"), "own SQNR in the message");
    cJSON_Delete(doc);

    doc = diag("{'sensitivity':{'score':'sqnr_db','only':[{'tensor':'z','score':3},{'tensor':'t','"
               "score':5}]},"
               "'tensors':[{'name':'t','order':0,'producer':'p','precision':'int8','amax':5,"
               "'saturation_rate':0.02,'own_sqnr_db':35}]}");
    d = find(doc, "saturation", "t");
    CHECK(sev_is(d, "error"), "second worst in the sensitivity ranking: error");
    CHECK(d && says(d, "ranks 2"), "rank in the message");
    cJSON_Delete(doc);

    doc = diag(
        "{'tensors':[{'name':'images','order':0,'is_input':true,'precision':'int8','amax':0.961,"
        "'saturation_rate':0.0165,'own_sqnr_db':41.8,'observed':{'absmax':1,'p9999':1},"
        "'thresholds':{'minmax':1,'entropy':0.961}}]}");
    d = find(doc, "saturation", "images");
    CHECK(sev_is(d, "info"), "1.65%% clipped by 4%%, own SQNR 41.8 dB: info");
    CHECK(d && fix_says(d, "99.99th percentile, 1 "), "no calibrator 5%% wider: the percentile: %s",
          d ? str(d, "fix") : "");
    cJSON_Delete(doc);

    doc = diag(
        "{'tensors':[{'name':'t','order':0,'precision':'int8','amax':5,'saturation_rate':0.001},"
        "{'name':'u','order':1,'precision':'fp32','amax':null,'saturation_rate':0.5},"
        "{'name':'v','order':2,'precision':'int8','amax':5,'saturation_rate':null}]}");
    CHECK(n_diags(doc) == 0, "0.1%% saturated / float / null: silent");
    cJSON_Delete(doc);
}

/* ======================= weight-spread ======================= */

static void test_weight_spread(void) {
    cJSON *doc = diag("{'weights':'per-tensor','weights_info':["
                      "{'node':'c1','op':'Conv','precision':'int8','per_tensor':true,'channels':16,"
                      " 'absmax_min':0.01,'absmax_median':0.5,'absmax_max':3.2,'flops':1e8},"
                      "{'node':'c2','op':'Conv','precision':'int8','channels':8,"
                      " 'absmax_min':0.001,'absmax_median':0.02,'absmax_max':3.2},"
                      "{'node':'c3','op':'Conv','precision':'int8','per_tensor':false,"
                      " 'absmax_min':0.001,'absmax_median':0.02,'absmax_max':3.2},"
                      "{'node':'c4','op':'Conv','precision':'int8','per_tensor':true,"
                      " 'absmax_min':0.5,'absmax_median':1,'absmax_max':3.2},"
                      "{'node':'c5','op':'Conv','precision':'fp32','per_tensor':true,"
                      " 'absmax_min':0.001,'absmax_median':0.02,'absmax_max':3.2},"
                      "{'node':'c6','op':'Conv','precision':'int8','per_tensor':true,"
                      " 'absmax_min':0,'absmax_median':0.01,'absmax_max':3.2},"
                      "{'node':'c7','op':'Conv','precision':'int8','per_tensor':true,"
                      " 'absmax_min':0,'absmax_median':1.5,'absmax_max':3.2}]}");
    check_shape(doc, "weights");
    CHECK(count_rule(doc, "weight-spread") == 3, "c1, c2 and c6 only, got %d",
          count_rule(doc, "weight-spread"));
    const cJSON *d = NULL, *e = NULL, *z = NULL, *x;
    cJSON_ArrayForEach(x, diags(doc)) {
        if (has(x, "nodes", "c1")) d = x;
        if (has(x, "nodes", "c2")) e = x;
        if (has(x, "nodes", "c6")) z = x;
    }
    CHECK(sev_is(z, "error") && says(z, "all zero") && says(z, "0.397"),
          "c6: a dead channel, the median starved: %s", z ? str(z, "message") : "");
    CHECK(sev_is(d, "warning"), "c1: median channel has 19.8 levels: warning");
    CHECK(d && says(d, "320x") && says(d, "0.397") && says(d, "19.8") &&
              says(d, "16 output channels"),
          "c1 message: %s", d ? str(d, "message") : "");
    CHECK(d && fix_says(d, "per channel"), "fix: per-channel weights");
    CHECK(sev_is(e, "error"), "c2 (per-tensor from the document): median starved: error");
    CHECK(e && has(e, "fallback", "c2"), "fallback = the node");
    cJSON_Delete(doc);
}

/* ======================= input-mismatch ======================= */

static void test_input_mismatch(void) {
    cJSON *doc =
        diag("{'tensors':[{'name':'images','order':0,'producer':null,'consumers':['conv0'],'is_"
             "input':true,"
             "'precision':'int8','amax':255,'calib':{'min':0,'max':255,'absmax':255,'p9999':255},"
             "'observed':{'min':0,'max':1,'absmax':1,'p9999':1}}]}");
    const cJSON *d = find(doc, "input-mismatch", "images");
    CHECK(sev_is(d, "error"), "255 vs 1: error");
    CHECK(d && says(d, "divided by 255") && says(d, "0..255") && says(d, "0..1"), "message: %s",
          d ? str(d, "message") : "");
    CHECK(d && has(d, "nodes", "conv0"), "nodes = the input's consumers");
    CHECK(d && fix_says(d, "Recalibrate"), "fix: recalibrate");
    cJSON_Delete(doc);

    doc = diag("{'tensors':[{'name':'images','order':0,'is_input':true,'precision':'int8','amax':1,"
               "'calib':{'absmax':1},'observed':{'absmax':5}}]}");
    d = find(doc, "input-mismatch", "images");
    CHECK(sev_is(d, "warning"), "observed 5x larger: warning");
    CHECK(d && says(d, "saturate"), "too small a range saturates");
    cJSON_Delete(doc);

    doc = diag(
        "{'tensors':[{'name':'images','order':0,'is_input':true,'precision':'int8','amax':1,"
        "'calib':{'absmax':1},'observed':{'absmax':2}},"
        "{'name':'z','order':1,'is_input':false,'calib':{'absmax':255},'observed':{'absmax':1}},"
        "{'name':'w','order':2,'is_input':true,'calib':{'absmax':null},'observed':{'absmax':1}}]}");
    CHECK(n_diags(doc) == 0, "2x / not an input / no calib: silent");
    cJSON_Delete(doc);
}

/* ======================= calibration-data ======================= */

/* n int8 tensors, `moving` of them with a partial threshold 30% off; the
 * last one optionally feeding the output node. */
static cJSON *calib_doc(int n, int moving, int last_feeds_output, const char *method) {
    static char buf[16384];
    int k = snprintf(buf, sizeof buf, "{'images':8,'plan_method':'%s','tensors':[", method);
    for (int i = 0; i < n; i++) {
        int mv = i >= n - moving;
        k += snprintf(buf + k, sizeof buf - (size_t)k,
                      "%s{'name':'t%d','order':%d,'producer':'n%d','consumers':['%s'],'precision':'"
                      "int8','amax':10,"
                      "'thresholds':{'minmax':20,'entropy':10,'percentile':10,'mse':10},'threshold_"
                      "partial':%s}",
                      i ? "," : "", i, i, i, i == n - 1 && last_feeds_output ? "nout" : "nx",
                      mv ? "7" : "9.8");
    }
    snprintf(buf + k, sizeof buf - (size_t)k,
             ",{'name':'y','order':%d,'producer':'nout','is_output':true,'precision':'fp32'}]}", n);
    return diag(buf);
}

static void test_calibration_data(void) {
    cJSON *doc = calib_doc(10, 2, 0, "entropy");
    const cJSON *d = find(doc, "calibration-data", NULL);
    CHECK(sev_is(d, "warning"), "2 of 10 moving: warning");
    CHECK(d && says(d, "2 of 10") && says(d, "10 -> 7") == 0 && says(d, "7 -> 10") &&
              says(d, "entropy"),
          "message: %s", d ? str(d, "message") : "");
    CHECK(d && fix_says(d, "more images"), "fix: more images");
    CHECK(d && has(d, "nodes", "n8") && has(d, "nodes", "n9") && size(d, "nodes") == 2,
          "nodes = the moving ones");
    CHECK(count_rule(doc, "calibration-data") == 1, "one aggregated diagnosis");
    cJSON_Delete(doc);

    doc = calib_doc(20, 1, 1, "percentile:99.99");
    d = find(doc, "calibration-data", "t19");
    CHECK(d != NULL,
          "1 of 20 moving but next to the output: fires (percentile:99.99 -> percentile)");
    CHECK(d && says(d, "next to an output"), "says why: %s", d ? str(d, "message") : "");
    cJSON_Delete(doc);

    doc = calib_doc(20, 1, 0, "entropy");
    CHECK(count_rule(doc, "calibration-data") == 0, "1 of 20 moving, inside: silent");
    cJSON_Delete(doc);
    doc = calib_doc(10, 0, 1, "entropy");
    CHECK(n_diags(doc) == 0, "nothing moving: silent");
    cJSON_Delete(doc);
    doc = calib_doc(10, 5, 1, "kl-unknown");
    CHECK(count_rule(doc, "calibration-data") == 0, "plan method not among the thresholds: silent");
    cJSON_Delete(doc);
}

/* ======================= degenerate documents ======================= */

static void test_degenerate(void) {
    static const char *const docs[] = {
        "{}",
        "{'tensors':5,'weights_info':'x','summary':[],'histograms':{},'sensitivity':7}",
        "{'tensors':[null,1,'a',[],{}],'weights_info':[null,{},{'node':5}]}",
        "{'tensors':[{'name':'a','precision':'int8','scale':null,'amax':null,'saturation_rate':1,"
        "'observed':{'absmax':'inf','p9999':null}}]}",
        "{'tensors':[{'name':'a','precision':'int8','scale':'inf','amax':'inf','observed':{'absmax'"
        ":1e300,'p9999':1e-300},"
        "'channels':{'absmax':[null,'inf',-1]},'producer_op':'Concat','producer_inputs':['a','a','"
        "zz',3]}]}",
        "{'tensors':[{'name':'a','is_input':true,'calib':{'absmax':'inf'},'observed':{'absmax':0}}]"
        ","
        "'weights_info':[{'node':'c','per_tensor':true,'absmax_min':0,'absmax_max':3},"
        "{'node':'d','per_tensor':true,'absmax_min':'inf','absmax_max':'inf'}]}",
        "{'summary':{'outputs':[{'name':null},{'sqnr_db':'inf'},{'name':'y','sqnr_db':null,'cosine'"
        ":'x'}],"
        "'metric':'map50','fp32':null,'plan':0}}",
        "{'plan_method':null,'tensors':[{'name':'a','precision':'int8','amax':1,'threshold_partial'"
        ":'inf',"
        "'thresholds':null,'consumers':[1,null]}]}",
        "{'diagnoses':[{'rule':'stale'}]}",
    };
    cJSON *doc;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        doc = diag(docs[i]);
        CHECK(n_diags(doc) == 0, "degenerate document %zu: no diagnosis, got %d", i, n_diags(doc));
        cJSON_Delete(doc);
    }
    /* a Concat without a producer name still explains itself */
    doc = diag("{'tensors':[{'name':'a','order':0,'observed':{'absmax':800}},{'name':'b','order':1,"
               "'observed':{'absmax':1}},{'name':'c','order':2,'producer_op':'Concat','producer_"
               "inputs':['a','b'],"
               "'precision':'int8','amax':800}]}");
    const cJSON *d = find(doc, "shared-scale", "c");
    CHECK(d && says(d, "'?'") && size(d, "fallback") == 0 && size(d, "nodes") == 0,
          "no producer name: no crash");
    cJSON_Delete(doc);
    /* a collapse of a tensor with a self loop in producer_inputs terminates */
    doc = diag("{'tensors':[{'name':'a','order':0,'producer':'n','producer_inputs':['a'],'"
               "consumers':['n'],"
               "'is_output':true,'precision':'int8','amax':1,'zeroed_rate':0.9}]}");
    CHECK(count_rule(doc, "output-collapse") == 1, "self loop: terminates, one collapse");
    cJSON_Delete(doc);

    oct_error err = {0};
    CHECK(oct_diagnose(NULL, &err) == OCT_E_INVALID_ARG, "NULL document");
    cJSON *arr = cJSON_CreateArray();
    CHECK(oct_diagnose(arr, &err) == OCT_E_INVALID_ARG && strstr(err.message, "object"),
          "array document");
    CHECK(oct_diagnose(arr, NULL) == OCT_E_INVALID_ARG, "NULL err is fine");
    cJSON_Delete(arr);

    /* running twice replaces, it does not append */
    doc = diag(yolo_head(1));
    oct_error e2 = {0};
    CHECK(oct_diagnose(doc, &e2) == OCT_OK && n_diags(doc) == 2, "second run: still 2");
    int count = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, doc) if (v->string && !strcmp(v->string, "diagnoses")) count++;
    CHECK(count == 1, "one diagnoses key");
    cJSON_Delete(doc);
}

/* ======================= mutated documents ======================= */

static unsigned long long mut_state = 0x243f6a8885a308d3ull;
static unsigned mut_rand(void) {
    mut_state = mut_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(mut_state >> 33);
}

/* Replaces about one value in `rate` (everywhere in the tree) with
 * something of the wrong kind or an extreme number. */
static void mutate(cJSON *node, unsigned rate) {
    cJSON *child = node ? node->child : NULL;
    while (child) {
        cJSON *next = child->next;
        if (mut_rand() % rate == 0) {
            cJSON *r;
            switch (mut_rand() % 10) {
            case 0: r = cJSON_CreateNull(); break;
            case 1: r = cJSON_CreateString("inf"); break;
            case 2: r = cJSON_CreateString("-inf"); break;
            case 3: r = cJSON_CreateNumber(-1); break;
            case 4: r = cJSON_CreateNumber(0); break;
            case 5: r = cJSON_CreateNumber(1e308); break;
            case 6: r = cJSON_CreateString("x"); break;
            case 7: r = cJSON_CreateArray(); break;
            case 8: r = cJSON_CreateObject(); break;
            default: r = cJSON_CreateNumber(1e-300); break;
            }
            cJSON_ReplaceItemViaPointer(node, child, r);
        } else {
            mutate(child, rate);
        }
        child = next;
    }
}

static void test_mutated(void) {
    char *base = strdup(yolo_head(1));
    for (char *p = base; *p; p++)
        if (*p == '\'') *p = '"';
    int ok = 1, shaped = 1;
    for (int it = 0; it < 400; it++) {
        cJSON *doc = cJSON_Parse(base);
        mutate(doc, 3 + it % 20);
        oct_error err = {0};
        if (oct_diagnose(doc, &err) != OCT_OK) ok = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, diags(doc)) if (!str(d, "rule") || !str(d, "message") ||
                                              !str(d, "fix")) shaped = 0;
        FILE *f = tmpfile();
        oct_diagnose_print(doc, f);
        fclose(f);
        cJSON_Delete(doc);
    }
    free(base);
    CHECK(ok, "400 mutated documents: oct_diagnose succeeds on each");
    CHECK(shaped, "mutated documents: every finding has rule, message and fix");
}

/* ======================= ordering and the console summary ======================= */

static void test_order_and_print(void) {
    /* 15 saturation findings of various rates, one input mismatch error, one
     * outliers info */
    char buf[16384];
    int k = snprintf(
        buf, sizeof buf,
        "{'tensors':[{'name':'in','order':0,'is_input':true,'calib':{'absmax':255},"
        "'observed':{'absmax':1}},{'name':'o','order':1,'producer':'po','precision':'int8',"
        "'amax':10.5,'observed':{'absmax':1000,'p9999':10},"
        "'thresholds':{'percentile':10.5}}");
    for (int i = 0; i < 15; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k,
                      ",{'name':'s%d','order':%d,'producer':'p%d','precision':'int8','amax':5,'"
                      "saturation_rate':%g,"
                      "'own_sqnr_db':30}",
                      i, i + 2, i, 0.01 + 0.002 * i);
    snprintf(buf + k, sizeof buf - (size_t)k, "]}");
    cJSON *doc = diag(buf);
    CHECK(n_diags(doc) == 17, "17 findings, got %d", n_diags(doc));
    const char *prev_sev = "error";
    double prev_imp = INFINITY;
    int sorted = 1;
    static const char *const rank[] = {"error", "warning", "info"};
    const cJSON *d;
    cJSON_ArrayForEach(d, diags(doc)) {
        const char *s = str(d, "severity");
        int a = 0, b = 0;
        for (int q = 0; q < 3; q++) {
            if (!strcmp(s, rank[q])) a = q;
            if (!strcmp(prev_sev, rank[q])) b = q;
        }
        if (a < b) sorted = 0;
        double rate = nums(d, "saturation_rate");
        if (a == b && isfinite(rate) && rate > prev_imp) sorted = 0;
        if (isfinite(rate)) prev_imp = rate;
        if (a != b) prev_imp = INFINITY;
        prev_sev = s;
    }
    CHECK(sorted, "sorted by severity, then impact");
    CHECK(!strcmp(str(cJSON_GetArrayItem(diags(doc), 0), "rule"), "input-mismatch"),
          "the error first");
    CHECK(!strcmp(str(cJSON_GetArrayItem(diags(doc), 1), "tensor"), "s14"),
          "then the most saturated");
    CHECK(!strcmp(str(cJSON_GetArrayItem(diags(doc), 16), "rule"), "outliers"), "the info last");

    FILE *f = tmpfile();
    oct_diagnose_print(doc, f);
    long len = ftell(f);
    rewind(f);
    char *text = calloc((size_t)len + 1, 1);
    CHECK(fread(text, 1, (size_t)len, f) == (size_t)len, "read back the summary");
    fclose(f);
    CHECK(strstr(text, "17 findings (1 error, 15 warnings, 1 info)") != NULL, "header: %.80s",
          text);
    CHECK(strstr(text, "... and 5 more") != NULL, "at most 12 shown");
    CHECK(strstr(text, "input-mismatch") < strstr(text, "saturation"), "most severe first");
    CHECK(strstr(text, "outliers") == NULL, "the info is beyond the first 12");
    CHECK(strstr(text, "fix: Recalibrate") != NULL, "fix line");
    free(text);
    cJSON_Delete(doc);

    doc = diag("{}");
    f = tmpfile();
    oct_diagnose_print(doc, f);
    len = ftell(f);
    rewind(f);
    char line[256] = {0};
    CHECK(len > 0 && fgets(line, sizeof line, f) && strstr(line, "no problem found"),
          "empty: one line");
    fclose(f);
    cJSON_Delete(doc);
}

int main(int argc, char **argv) {
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    test_shared_scale_concat();
    test_shared_scale_channels();
    test_output_collapse();
    test_outliers();
    test_saturation();
    test_weight_spread();
    test_input_mismatch();
    test_calibration_data();
    test_degenerate();
    test_mutated();
    test_order_and_print();
    return check_summary();
}
