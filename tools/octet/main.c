/* octet: the command-line front end over include/octet/octet.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "octet %s: make neural networks work in INT8\n\n"
               "usage: octet COMMAND [options]\n\n"
               "commands:\n"
               "  info MODEL [--shape NAME=DIMS] [--json]     inputs, outputs, ops, parameters, FLOPs\n"
               "  run MODEL --input FILE... [-o OUT.npy]       run the model on .npy/.pb tensors or images\n"
               "  calibrate MODEL --data DIR -o PLAN.json      calibrate INT8 scales (minmax|entropy|percentile|mse)\n"
               "  analyze MODEL --plan P --data DIR            per-tensor error, sensitivity, diagnosis, report\n"
               "  tune MODEL --data DIR --images DIR --target T -o PLAN.json  smallest mixed-precision plan\n"
               "  export MODEL --plan P [--qdq O.onnx] [--trt-cache F] [--trtexec-flags]\n"
               "  import-cache MODEL --trt-cache F -o PLAN.json  a TensorRT calibration cache as a plan\n"
               "  bench MODEL [--threads N] [--iters N]         latency, throughput, peak memory\n"
               "  preprocess IMAGE -o OUT.npy [flags]          write the tensor an image becomes\n"
               "  eval MODEL --images DIR [--labels|--coco]    detection mAP, top-1/top-5, or fidelity to FP32\n"
               "  detect MODEL IMAGE [-o OUT.jpg]              detect objects, list and draw them\n"
               "  version                                     print the version\n\n"
               "Run 'octet COMMAND' without arguments for its options.\n",
            oct_version_string());
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "info")) return cmd_info(argc, argv);
    if (!strcmp(cmd, "run")) return cmd_run(argc, argv);
    if (!strcmp(cmd, "preprocess")) return cmd_preprocess(argc, argv);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc, argv);
    if (!strcmp(cmd, "calibrate")) return cmd_calibrate(argc, argv);
    if (!strcmp(cmd, "analyze")) return cmd_analyze(argc, argv);
    if (!strcmp(cmd, "tune")) return cmd_tune(argc, argv);
    if (!strcmp(cmd, "export")) return cmd_export(argc, argv);
    if (!strcmp(cmd, "import-cache")) return cmd_import_cache(argc, argv);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc, argv);
    if (!strcmp(cmd, "detect")) return cmd_detect(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("octet %s\n", oct_version_string());
        return 0;
    }
    cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return 2;
}
