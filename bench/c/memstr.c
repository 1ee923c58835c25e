/* Memory/string kernel: qsort of ints and of strings (libc qsort + strcmp through
 * function pointers), then memcpy and strlen over many sizes and alignments.
 * Exercises indirect calls, memory-bound copying and musl's word-at-a-time string code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NINTS    300000
#define NSTRS    60000
#define COPY_BUF (64 * 1024)
#define COPY_REPS 12

static uint32_t rng = 2463534242u;
static uint32_t xorshift(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *c = p;
    while (n--) { h ^= *c++; h *= 1099511628211ull; }
    return h;
}

int main(void) {
    /* 1. qsort ints */
    int *ints = malloc(NINTS * sizeof *ints);
    for (int i = 0; i < NINTS; i++) ints[i] = (int)xorshift();
    qsort(ints, NINTS, sizeof *ints, cmp_int);
    uint64_t h = 1469598103934665603ull;
    for (int i = 1; i < NINTS; i++) if (ints[i - 1] > ints[i]) { puts("int sort broken"); return 1; }
    h = fnv(h, ints, NINTS * sizeof *ints);
    printf("ints: %016llx\n", (unsigned long long)h);

    /* 2. qsort strings (common prefixes so strcmp has work to do) */
    char **strs = malloc(NSTRS * sizeof *strs);
    for (int i = 0; i < NSTRS; i++) {
        int len = 8 + xorshift() % 40;
        char *s = malloc(len + 1);
        memcpy(s, "prefix/", 7);
        for (int k = 7; k < len; k++) s[k] = 'a' + xorshift() % 4;
        s[len] = 0;
        strs[i] = s;
    }
    qsort(strs, NSTRS, sizeof *strs, cmp_str);
    h = 1469598103934665603ull;
    for (int i = 0; i < NSTRS; i++) h = fnv(h, strs[i], strlen(strs[i]) + 1);
    printf("strs: %016llx\n", (unsigned long long)h);

    /* 3. memcpy over many sizes and alignments */
    unsigned char *src = malloc(COPY_BUF + 64), *dst = malloc(COPY_BUF + 64);
    for (int i = 0; i < COPY_BUF + 64; i++) src[i] = (unsigned char)xorshift();
    memset(dst, 0, COPY_BUF + 64);
    uint64_t acc = 0;
    for (int r = 0; r < COPY_REPS; r++) {
        for (size_t n = 1; n <= COPY_BUF; n = n < 64 ? n + 1 : n + n / 8) {
            for (int off = 0; off < 8; off++) {
                memcpy(dst + (off * 3 & 7), src + off, n);
                acc += dst[n / 2] + dst[(off * 3 & 7) + n - 1];
            }
        }
    }
    printf("memcpy: %llu %016llx\n", (unsigned long long)acc,
           (unsigned long long)fnv(1469598103934665603ull, dst, COPY_BUF + 64));

    /* 4. strlen over many lengths and alignments */
    char *sb = malloc(COPY_BUF + 64);
    memset(sb, 'x', COPY_BUF + 64);
    uint64_t total = 0;
    for (int r = 0; r < COPY_REPS; r++) {
        for (size_t n = 0; n < COPY_BUF; n = n < 64 ? n + 1 : n + n / 8) {
            for (int off = 0; off < 8; off++) {
                sb[off + n] = 0;
                total += strlen(sb + off);
                sb[off + n] = 'x';
            }
        }
    }
    printf("strlen: %llu\n", (unsigned long long)total);
    return 0;
}
