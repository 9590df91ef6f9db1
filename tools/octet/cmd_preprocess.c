/* octet preprocess IMAGE [preprocessing flags] -o OUT.npy
 * Writes the exact tensor `octet run` would feed the network, so other
 * runtimes (tests, benchmarks) can be given identical inputs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_preprocess(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *image = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        int r = cli_parse_common(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) c.model_path = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) return cli_fail("preprocess: unknown option '%s'", argv[i]), 2;
        else if (!image) image = argv[i];
        else return cli_fail("preprocess: unexpected argument '%s'", argv[i]), 2;
    }
    if (!image || !out)
        return cli_fail("usage: octet preprocess IMAGE -o OUT.npy [--model MODEL] [--preset NAME] [--size WxH] ..."), 2;
    oct_error err = {0};
    oct_tensor_view t;
    oct_image_info info;
    if (c.model_path) {
        oct_model *m = NULL;
        if (cli_load_model(&c, &m, &err)) return cli_error(&err);
        oct_status st = cli_read_input(&c, m, 0, image, &t, &info, &err);
        oct_model_free(m);
        if (st) return cli_error(&err);
    } else if (oct_image_load(image, &c.pre, &t, &info, &err)) {
        return cli_error(&err);
    }
    oct_status st = oct_tensor_write_npy(out, &t, &err);
    oct_free(t.data);
    if (st) return cli_error(&err);
    printf("%s: %dx%d -> %lldx%lldx%lldx%lld, scale %.6f x %.6f, pad %.1f %.1f\n", image, info.orig_width,
           info.orig_height, (long long)t.dims[0], (long long)t.dims[1], (long long)t.dims[2], (long long)t.dims[3],
           info.scale_x, info.scale_y, info.pad_x, info.pad_y);
    return 0;
}
