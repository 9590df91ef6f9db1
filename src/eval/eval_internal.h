/* Pieces shared by the evaluation files: output readers, label and list
 * readers. */
#ifndef OCT_EVAL_INTERNAL_H
#define OCT_EVAL_INTERNAL_H

#include "octet/eval.h"

/* Output element i as double (NaN for types without a number). */
double oct_eval_view_get(const oct_tensor_view *t, int64_t i);
int64_t oct_eval_numel(const oct_tensor_view *t);
/* Indices of the k largest values, descending, ties to the lower index. */
void oct_eval_top_k(const oct_tensor_view *t, int64_t n, int k, int64_t *best);

/* Lines of a text file, trailing whitespace and CR removed; trailing empty
 * lines dropped. free with oct_eval_free_lines. */
oct_status oct_eval_read_lines(const char *path, char ***lines, int *n, oct_error *err);
void oct_eval_free_lines(char **lines, int n);

/* A YOLO label file ("class cx cy w h", normalised) as pixel boxes of a
 * width x height image. n_classes > 0 bounds the class. A missing file sets
 * *missing and gives no boxes; a malformed line is OCT_E_PARSE naming
 * path:line. *out is malloc'ed (NULL when empty). */
oct_status oct_eval_read_yolo_labels(const char *path, int width, int height, int n_classes,
                                     oct_gt_box **out, int *n, int *missing, oct_error *err);

typedef struct oct_coco_image {
    int64_t id;
    char *file_name; /* base name */
    int width, height;
    int n_gt;
    oct_gt_box *gt; /* class_id: the category's index in ascending id order */
} oct_coco_image;

typedef struct oct_coco_data {
    int n_images;
    oct_coco_image *images; /* sorted by file_name */
    int n_cats;
    int64_t *cat_ids; /* ascending: class i is category cat_ids[i] */
    char **cat_names;
} oct_coco_data;

oct_status oct_eval_coco_load(const char *path, oct_coco_data *out, oct_error *err);
const oct_coco_image *oct_eval_coco_find(const oct_coco_data *d, const char *base_name);
void oct_eval_coco_free(oct_coco_data *d);

/* Image files (.jpg .jpeg .png .bmp, any case) of a folder, sorted by name;
 * free with oct_eval_free_lines. */
oct_status oct_eval_list_images(const char *dir, char ***names, int *n, oct_error *err);

#endif
