/* replay.c - runs the fuzz target on saved inputs, without libFuzzer.
 *
 *   fuzz_replay FILE_OR_DIR...
 *
 * Every regular file (directories are read one level deep) goes through
 * LLVMFuzzerTestOneInput once; a contract violation aborts. Built by CMake
 * as a CTest over tests/fuzz/corpus and tests/fuzz/regressions (the inputs
 * of every crash the fuzzer found), so the C tests, their sanitizer build and
 * valgrind replay them with any compiler. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return 1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (!got) break;
        len += got;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int files = 0, bad = 0;
    for (int a = 1; a < argc; ++a) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "no such file or folder: %s\n", argv[a]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += run_file(argv[a]);
            files++;
            continue;
        }
        DIR *dir = opendir(argv[a]);
        if (!dir) return 1;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            bad += run_file(path);
            files++;
        }
        closedir(dir);
    }
    printf("replayed %d inputs\n", files);
    return bad || files == 0;
}
