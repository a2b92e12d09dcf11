/*
 * snapconf-genconf - writes a generated benchmark config to stdout.
 *
 *   snapconf-genconf [--shape service|deep|wide|seq] [--size 10M]
 *                    [--count N] [--seed N] [--anchors] > file.yaml
 *
 * --size is the approximate size of a service config; --count is the depth,
 * key count or item count of the other shapes.  Exit codes: 0 on success,
 * 1 on a failure to generate or write, 2 on a usage error.
 */
#include "gen_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct genconf_args {
    int shape;
    size_t size;
    size_t count;
    bool count_set;
    uint64_t seed;
    bool anchors;
} genconf_args;

static void usage(FILE *to)
{
    fputs("usage: snapconf-genconf [--shape service|deep|wide|seq] [--size BYTES[K|M|G]]\n"
          "                        [--count N] [--seed N] [--anchors]\n"
          "Writes a deterministic YAML config to stdout.  Defaults: service shape,\n"
          "--size 10M; deep 200 levels, wide 100000 keys, seq 1000000 items.\n",
          to);
}

static int parse_args(int argc, char **argv, genconf_args *a)
{
    *a = (genconf_args){
        .shape = GEN_SHAPE_SERVICE, .size = (size_t)10 << 20, .seed = GEN_DEFAULT_SEED};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--anchors") == 0) {
            a->anchors = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!val)
            return -1;
        i++;
        if (strcmp(arg, "--shape") == 0)
            a->shape = gen_shape_parse(val);
        else if (strcmp(arg, "--size") == 0 && gen_parse_size(val, &a->size) == 0)
            continue;
        else if (strcmp(arg, "--count") == 0 && gen_parse_size(val, &a->count) == 0)
            a->count_set = true;
        else if (strcmp(arg, "--seed") == 0)
            a->seed = strtoull(val, NULL, 0);
        else
            return -1;
        if (a->shape < 0)
            return -1;
    }
    return 0;
}

static int generate(const genconf_args *a, gen_buf *out)
{
    switch (a->shape) {
    case GEN_SHAPE_SERVICE: {
        gen_service_params p = {.target_bytes = a->size, .seed = a->seed, .anchors = a->anchors};
        return gen_service(out, &p);
    }
    case GEN_SHAPE_DEEP:
        return gen_deep(out, a->count_set ? (unsigned)a->count : 200);
    case GEN_SHAPE_WIDE:
        return gen_wide(out, a->count_set ? a->count : 100000);
    default:
        return gen_seq(out, a->count_set ? a->count : 1000000);
    }
}

int main(int argc, char **argv)
{
    genconf_args args;
    if (parse_args(argc, argv, &args) != 0) {
        usage(stderr);
        return 2;
    }
    gen_buf out = {0};
    int rc = 0;
    if (generate(&args, &out) != 0) {
        fputs("snapconf-genconf: out of memory\n", stderr);
        rc = 1;
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        perror("snapconf-genconf: write");
        rc = 1;
    }
    gen_buf_free(&out);
    return rc;
}
