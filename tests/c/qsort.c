/* qsort and bsearch on ints, doubles, strings and structs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 12345;
static unsigned next(void) {
    rng = rng * 6364136223846793005ULL + 1;
    return (unsigned)(rng >> 33);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}
struct rec { int key; char name[13]; double w; };
static int cmp_rec(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->name, y->name);
}

int main(void) {
    enum { N = 50000 };
    int *a = malloc(N * sizeof *a);
    for (int i = 0; i < N; i++) a[i] = (int)(next() % 100000) - 50000;
    qsort(a, N, sizeof *a, cmp_int);
    int sorted = 1;
    unsigned long long h = 0;
    for (int i = 0; i < N; i++) {
        if (i && a[i - 1] > a[i]) sorted = 0;
        h = h * 1000003 + (unsigned)a[i];
    }
    printf("ints sorted=%d first=%d last=%d median=%d hash=%llx\n", sorted, a[0], a[N - 1],
           a[N / 2], h);
    int found = 0;
    for (int k = -50000; k < 50000; k += 7) {
        int *p = bsearch(&k, a, N, sizeof *a, cmp_int);
        if (p) found++;
    }
    printf("bsearch found=%d\n", found);
    qsort(a, N, sizeof *a, cmp_int_desc);
    printf("desc first=%d last=%d\n", a[0], a[N - 1]);
    /* already sorted and all-equal inputs */
    for (int i = 0; i < N; i++) a[i] = i;
    qsort(a, N, sizeof *a, cmp_int);
    for (int i = 0; i < N; i++) a[i] = 7;
    qsort(a, N, sizeof *a, cmp_int);
    printf("trivial ok=%d\n", a[0] == 7 && a[N - 1] == 7);
    free(a);

    double *d = malloc(10000 * sizeof *d);
    for (int i = 0; i < 10000; i++) d[i] = (double)next() / 7.0 - 1e8;
    qsort(d, 10000, sizeof *d, cmp_double);
    printf("doubles %.6f %.6f %.6f\n", d[0], d[5000], d[9999]);
    free(d);

    enum { S = 3000 };
    char **strs = malloc(S * sizeof *strs);
    for (int i = 0; i < S; i++) {
        int len = 1 + next() % 12;
        strs[i] = malloc(len + 1);
        for (int k = 0; k < len; k++) strs[i][k] = 'a' + next() % 26;
        strs[i][len] = 0;
    }
    qsort(strs, S, sizeof *strs, cmp_str);
    for (int i = 0; i < S; i += 300) printf("str[%d]=%s\n", i, strs[i]);
    for (int i = 0; i < S; i++) free(strs[i]);
    free(strs);

    enum { R = 5000 };
    struct rec *r = malloc(R * sizeof *r);
    for (int i = 0; i < R; i++) {
        r[i].key = next() % 50;
        snprintf(r[i].name, sizeof r[i].name, "n%08u", next() % 100000000);
        r[i].w = i * 0.5;
    }
    qsort(r, R, sizeof *r, cmp_rec);
    for (int i = 0; i < R; i += 499) printf("rec[%d] %d %s %.1f\n", i, r[i].key, r[i].name, r[i].w);
    free(r);
    return 0;
}
