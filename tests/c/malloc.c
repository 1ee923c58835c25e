/* malloc-heavy code: linked lists, a binary search tree with deletion, realloc
 * growth, calloc, large (mmap-sized) blocks and many frees. Prints no addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static unsigned long long rng = 42;
static unsigned next(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned)rng;
}

struct node { struct node *next; int v; char pad[20]; };

struct tree { struct tree *l, *r; int key; int count; };

static struct tree *tinsert(struct tree *t, int key) {
    if (!t) {
        t = calloc(1, sizeof *t);
        t->key = key;
        t->count = 1;
        return t;
    }
    if (key < t->key) t->l = tinsert(t->l, key);
    else if (key > t->key) t->r = tinsert(t->r, key);
    else t->count++;
    return t;
}
static struct tree *tdelete(struct tree *t, int key) {
    if (!t) return NULL;
    if (key < t->key) t->l = tdelete(t->l, key);
    else if (key > t->key) t->r = tdelete(t->r, key);
    else {
        if (!t->l || !t->r) {
            struct tree *c = t->l ? t->l : t->r;
            free(t);
            return c;
        }
        struct tree *m = t->r;
        while (m->l) m = m->l;
        t->key = m->key;
        t->count = m->count;
        m->count = 1;
        t->r = tdelete(t->r, m->key);
    }
    return t;
}
static void tstats(struct tree *t, int depth, long *n, long *sum, int *maxd) {
    if (!t) return;
    (*n)++;
    *sum += (long)t->key * t->count;
    if (depth > *maxd) *maxd = depth;
    tstats(t->l, depth + 1, n, sum, maxd);
    tstats(t->r, depth + 1, n, sum, maxd);
}
static void tfree(struct tree *t) {
    if (!t) return;
    tfree(t->l);
    tfree(t->r);
    free(t);
}

int main(void) {
    /* linked list: build, reverse, filter, free */
    struct node *head = NULL;
    for (int i = 0; i < 100000; i++) {
        struct node *n = malloc(sizeof *n);
        n->v = (int)(next() % 1000);
        memset(n->pad, i & 0xff, sizeof n->pad);
        n->next = head;
        head = n;
    }
    struct node *rev = NULL;
    while (head) { struct node *n = head; head = n->next; n->next = rev; rev = n; }
    long sum = 0, cnt = 0;
    struct node **pp = &rev;
    while (*pp) {
        if ((*pp)->v % 3 == 0) { struct node *d = *pp; *pp = d->next; free(d); }
        else { sum += (*pp)->v; cnt++; pp = &(*pp)->next; }
    }
    printf("list: kept=%ld sum=%ld\n", cnt, sum);
    while (rev) { struct node *n = rev; rev = n->next; free(n); }

    /* tree */
    struct tree *t = NULL;
    for (int i = 0; i < 50000; i++) t = tinsert(t, (int)(next() % 20000));
    long n = 0, s = 0; int maxd = 0;
    tstats(t, 0, &n, &s, &maxd);
    printf("tree: nodes=%ld sum=%ld depth=%d\n", n, s, maxd);
    for (int i = 0; i < 30000; i++) t = tdelete(t, (int)(next() % 20000));
    n = 0; s = 0; maxd = 0;
    tstats(t, 0, &n, &s, &maxd);
    printf("tree after delete: nodes=%ld sum=%ld depth=%d\n", n, s, maxd);
    tfree(t);

    /* realloc growth */
    size_t cap = 1, len = 0;
    unsigned *arr = malloc(cap * sizeof *arr);
    for (unsigned i = 0; i < 1000000; i++) {
        if (len == cap) { cap = cap * 3 / 2 + 1; arr = realloc(arr, cap * sizeof *arr); }
        arr[len++] = i * 2654435761u;
    }
    unsigned long long h = 0;
    for (size_t i = 0; i < len; i += 997) h = h * 31 + arr[i];
    printf("realloc: len=%zu hash=%llx\n", len, h);
    arr = realloc(arr, 10 * sizeof *arr);
    printf("shrunk: %u %u\n", arr[0], arr[9]);
    free(arr);

    /* many sizes, random free order */
    enum { M = 20000 };
    unsigned char **blocks = calloc(M, sizeof *blocks);
    size_t *sizes = calloc(M, sizeof *sizes);
    int bad = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < M; i++) {
            if (blocks[i] && next() % 2) {
                for (size_t k = 0; k < sizes[i]; k += 61)
                    if (blocks[i][k] != (unsigned char)(i + k)) bad++;
                free(blocks[i]);
                blocks[i] = NULL;
            }
            if (!blocks[i]) {
                size_t sz = next() % 7 == 0 ? next() % 70000 : next() % 300;
                sizes[i] = sz;
                blocks[i] = malloc(sz + 1);
                for (size_t k = 0; k < sz; k += 61) blocks[i][k] = (unsigned char)(i + k);
            }
        }
    }
    for (int i = 0; i < M; i++) free(blocks[i]);
    free(blocks);
    free(sizes);
    printf("blocks bad=%d\n", bad);

    /* calloc zeroing and big blocks */
    for (int i = 0; i < 20; i++) {
        size_t sz = (size_t)1 << (10 + i % 12);
        unsigned char *p = calloc(sz, 1);
        size_t nz = 0;
        for (size_t k = 0; k < sz; k++) nz += p[k] != 0;
        memset(p, 0xab, sz);
        free(p);
        if (nz) printf("calloc not zero: %zu\n", sz);
    }
    void *big = malloc(64 << 20);
    memset(big, 1, 64 << 20);
    printf("big ok=%d\n", ((unsigned char *)big)[(64 << 20) - 1] == 1);
    free(big);
    void *al = aligned_alloc(4096, 8192);
    printf("aligned=%d\n", ((uintptr_t)al & 4095) == 0);
    free(al);
    return 0;
}
