/*
 * octet task accuracy: detection decoders, COCO mAP, classification top-k,
 * label-free fidelity against a reference session, and drawn detections.
 *
 * Same conventions as octet.h: oct_status returns, an optional oct_error as
 * the last argument, no global state, bad input reported and never fatal.
 * Memory handed to the caller is released with the function named next to
 * it (oct_free for plain arrays).
 */
#ifndef OCTET_EVAL_H
#define OCTET_EVAL_H

#include "octet/octet.h"
#include "octet/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- detection decoding ------------------------------------------------ */
typedef enum oct_decoder {
    OCT_DECODER_YOLOV10 = 0, /* [N,K,6]: x1,y1,x2,y2,score,class; NMS-free */
    OCT_DECODER_YOLOV8 = 1,  /* [N,4+C,A]: cx,cy,w,h, C class scores (also YOLO11) */
    OCT_DECODER_YOLOV5 = 2   /* [N,A,5+C]: cx,cy,w,h, objectness, C class scores */
} oct_decoder;

/* "yolov10", "yolov8" (or "yolo11"), "yolov5". */
oct_status oct_decoder_parse(const char *name, oct_decoder *out, oct_error *err);
const char *oct_decoder_name(oct_decoder d);

typedef struct oct_detection {
    float x1, y1, x2, y2; /* original-image pixels (tensor pixels without an info) */
    float score;
    int class_id;
} oct_detection;

typedef struct oct_decode_options {
    oct_decoder decoder;
    float conf;  /* keep score > conf (0.001) */
    float iou;   /* class-aware NMS: suppress IoU > iou (0.7) */
    int max_det; /* detections kept per image (300) */
    int max_nms; /* highest-scoring candidates entering NMS (30000) */
} oct_decode_options;

void oct_decode_options_init(oct_decode_options *o);

/* Decodes batch item 0 of a detector output. YOLOv5/v8 follow ultralytics'
 * validation NMS with multi_label=True: every (box, class) pair scoring
 * above conf is a candidate (YOLOv5 first keeps boxes with objectness >
 * conf, and a pair's score is objectness * class score). When `info` is
 * given, boxes are mapped through the letterbox to the original image and
 * clipped to it. *dets (malloc'ed, free with oct_free; NULL when *n_dets is
 * 0) is sorted by descending score, ties in candidate order. An output
 * whose shape does not fit the decoder is OCT_E_SHAPE naming the shape. */
oct_status oct_decode_detections(const oct_tensor_view *output, const oct_decode_options *o,
                                 const oct_image_info *info, oct_detection **dets, int *n_dets,
                                 oct_error *err);

/* ---- COCO mAP ---------------------------------------------------------- */
typedef struct oct_gt_box {
    double x, y, w, h; /* COCO [x,y,w,h], pixels */
    double area;       /* COCO's area field; < 0: w*h */
    int class_id;      /* >= 0 */
    int iscrowd;       /* 1: a crowd region (matches many, never counted) */
} oct_gt_box;

typedef struct oct_coco_eval oct_coco_eval;

/* An accumulator computing bbox mAP exactly as pycocotools' COCOeval does
 * (area range "all", maxDets 100, IoU .50:.05:.95, 101 recall points).
 * Free with oct_coco_eval_free. */
oct_status oct_coco_eval_create(oct_coco_eval **out, oct_error *err);
void oct_coco_eval_free(oct_coco_eval *e);
/* Adds one image (copied). image_id orders images as pycocotools does
 * (ascending) and must be unique. A detection becomes [x1, y1, x2-x1,
 * y2-y1]; the order of `dt` breaks score ties, like the order of a results
 * file. */
oct_status oct_coco_eval_add_image(oct_coco_eval *e, int64_t image_id, const oct_gt_box *gt,
                                   int n_gt, const oct_detection *dt, int n_dt, oct_error *err);

typedef struct oct_coco_class {
    int n_gt;    /* non-crowd ground-truth boxes */
    int n_det;   /* detections (after the 100 per image and class cut) */
    double ap;   /* AP@[.50:.95]; -1 when the class has no ground truth */
    double ap50; /* AP@.50; -1 likewise */
} oct_coco_class;

typedef struct oct_coco_result {
    double map; /* mean over classes with ground truth; -1 when none has */
    double map50;
    double map75;
    int n_classes;           /* classes 0..n_classes-1 seen in gt or detections */
    oct_coco_class *classes; /* n_classes entries */
    int n_images;
    int n_gt; /* non-crowd boxes */
    int n_det;
} oct_coco_result;

/* Fills *out; release with oct_coco_result_free. */
oct_status oct_coco_eval_compute(const oct_coco_eval *e, oct_coco_result *out, oct_error *err);
void oct_coco_result_free(oct_coco_result *r);

/* ---- whole-folder evaluation ------------------------------------------- */
typedef enum oct_eval_task { OCT_TASK_DETECT = 0, OCT_TASK_CLASSIFY = 1 } oct_eval_task;

typedef struct oct_eval_options {
    oct_eval_task task;
    oct_decode_options decode;
    /* Preprocessing; the tensor size always comes from the session's input
     * (NCHW, or NHWC when pre.nhwc). */
    oct_preprocess pre;
    const char *images_dir; /* .jpg/.jpeg/.png/.bmp, taken in name order */
    int count;              /* 0: every image; N: the first N */
    /* Ground truth (oct_eval_run): detect takes labels_dir (YOLO txt, one
     * STEM.txt per image; a missing file is an image without objects) or
     * coco_json (instances JSON); classify takes synsets_path (line i: the
     * wnid of class i, first token), the label being the wnid that starts
     * each file name. */
    const char *labels_dir;
    const char *coco_json;
    const char *synsets_path;
    /* Class names, one per line (class i = line i). NULL: coco.names in the
     * labels folder, its parent or grandparent, when present. Also bounds the
     * class of YOLO labels. */
    const char *names_path;
    float ref_conf; /* fidelity: reference detections with score >= this are the truth (0.25) */
    const char *dump_path; /* detect: write every detection as COCO results JSON */
    /* Called after each image (from the calling thread). */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
} oct_eval_options;

void oct_eval_options_init(oct_eval_options *o);

typedef struct oct_score_summary {
    int n; /* images with at least one detection */
    double min, median, max, mean;
    int hist[10]; /* top scores in [0,.1), [.1,.2), ... [.9,1] */
} oct_score_summary;

typedef struct oct_output_fidelity {
    char *name;
    int64_t n_values;
    double cosine;  /* over all images; 1 when both are all zero */
    double sqnr_db; /* 10 log10(sum ref^2 / sum (ref-cand)^2); INFINITY when equal */
    double max_abs_diff;
} oct_output_fidelity;

typedef struct oct_eval_report {
    oct_eval_task task;
    int fidelity; /* 1: scored against a reference session instead of labels */
    int n_images;
    double seconds;
    /* detection */
    oct_coco_result coco;
    int n_names;
    char **names;         /* class names (may be fewer than coco.n_classes) */
    int n_missing_labels; /* YOLO labels: images without a label file */
    int n_images_no_gt;   /* images without a (non-crowd) object */
    int n_skipped_images; /* COCO JSON: image files the JSON does not list */
    int n_detections;
    int n_images_no_det;             /* images where the model detected nothing */
    oct_score_summary top_score;     /* best detection score per image */
    oct_score_summary ref_top_score; /* fidelity: the reference's */
    /* classification: accuracy, or agreement with the reference's top-1 */
    int n_top1, n_top5;
    double top1, top5;
    /* fidelity: every output */
    int n_outputs;
    oct_output_fidelity *outputs;
} oct_eval_report;

/* Runs session `s` on every image and scores it against the labels. */
oct_status oct_eval_run(oct_session *s, const oct_eval_options *o, oct_eval_report **out,
                        oct_error *err);
/* Runs `ref` and `cand` on every image and scores cand against ref:
 * detection mAP against ref's detections with score >= ref_conf, top-1/top-5
 * agreement for classify, and cosine similarity / SQNR of every output.
 * cand may be ref itself (then each image runs once). */
oct_status oct_eval_fidelity(oct_session *ref, oct_session *cand, const oct_eval_options *o,
                             oct_eval_report **out, oct_error *err);
void oct_eval_report_free(oct_eval_report *r);

/* The session the evaluation scores: the FP32 model when plan_path is NULL,
 * else the model under the plan (checked against the model): real INT8
 * kernels where they apply (oct_session_create_int8), or, with simulate,
 * fake quantization in FP32 throughout (oct_session_create_simulated). Free
 * with oct_session_free. */
oct_status oct_eval_open_candidate(const oct_model *m, const char *plan_path, int simulate,
                                   const oct_session_options *opt, oct_session **out,
                                   oct_error *err);

/* The label-free task scorer for the sensitivity ranking (oct_task_scorer,
 * octet/quant.h): each configuration's outputs against the FP32 run of the
 * same sample. metric: map50_95, map50 or map75 for detect (mAP against the
 * FP32 detections with score >= o->ref_conf, decoded with o->decode in
 * tensor pixels); top1 or top5 for classify (agreement with FP32's top-1).
 * Free with oct_eval_task_scorer_free. */
oct_status oct_eval_task_scorer_create(const oct_eval_options *o, const char *metric, oct_task_scorer **out,
                                       oct_error *err);
void oct_eval_task_scorer_free(oct_task_scorer *t);

/* ---- drawing ----------------------------------------------------------- */
/* Draws boxes labelled "name score" (names may be NULL, then class numbers)
 * on the image and writes it as .jpg (quality 90), .png or .bmp by the
 * extension of out_path. */
oct_status oct_draw_detections(const char *image_path, const oct_detection *dets, int n_dets,
                               const char *const *names, int n_names, const char *out_path,
                               oct_error *err);

#ifdef __cplusplus
}
#endif
#endif
