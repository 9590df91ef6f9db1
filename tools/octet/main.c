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
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("octet %s\n", oct_version_string());
        return 0;
    }
    cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return 2;
}
