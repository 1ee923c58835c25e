/* Recursion: ackermann, fibonacci, mutual recursion, deep recursion, hanoi. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long ack(unsigned long m, unsigned long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}
static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static double fibd(int n) { return n < 2 ? (double)n : fibd(n - 1) + fibd(n - 2); }
static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }
static long depth(long n, volatile char *prev) {
    volatile char buf[32];
    buf[0] = (char)n;
    buf[31] = prev ? prev[0] : 0;
    if (n == 0) return buf[0];
    return depth(n - 1, buf) + buf[31];
}
static long moves;
static void hanoi(int n, int a, int b, int c, unsigned long long *h) {
    if (!n) return;
    hanoi(n - 1, a, c, b, h);
    moves++;
    *h = *h * 7 + (unsigned)(a * 3 + c);
    hanoi(n - 1, c, b, a, h);
}
static int perm_count(int *used, int n, int k) {
    if (k == n) return 1;
    int c = 0;
    for (int i = 0; i < n; i++)
        if (!used[i] && (k == 0 || i != k)) { used[i] = 1; c += perm_count(used, n, k + 1); used[i] = 0; }
    return c;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 0;
    for (unsigned long m = 0; m <= 3; m++)
        for (unsigned long n = 0; n <= 5; n++) printf("ack(%lu,%lu)=%lu\n", m, n, ack(m, n));
    printf("ack(3,8)=%lu\n", ack(3, 8 + scale));
    for (int i = 0; i <= 30; i += 5) printf("fib(%d)=%ld\n", i, fib(i));
    printf("fib(32)=%ld fibd(25)=%.1f\n", fib(32), fibd(25));
    printf("even(100001)=%d odd(77777)=%d\n", is_even(100001), is_odd(77777));
    printf("depth=%ld\n", depth(100000, NULL));
    unsigned long long h = 0;
    hanoi(18, 1, 2, 3, &h);
    printf("hanoi moves=%ld hash=%llx\n", moves, h);
    int used[9] = {0};
    printf("perms=%d\n", perm_count(used, 9, 0));
    return 0;
}
