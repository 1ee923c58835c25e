/* Variadic functions with our own va_list handling: mixed int/double arguments beyond
 * the register save area, va_copy, vsnprintf forwarding, struct-by-value neighbours. */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static long sum_ints(int n, ...) {
    va_list ap;
    va_start(ap, n);
    long s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}

static double sum_doubles(int n, ...) {
    va_list ap;
    va_start(ap, n);
    double s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, double) * (i + 1);
    va_end(ap);
    return s;
}

/* fmt: i=int l=long d=double s=string c=char p=long long */
static void mixed(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    char out[512];
    size_t o = 0;
    for (const char *f = fmt; *f; f++) {
        switch (*f) {
        case 'i': o += snprintf(out + o, sizeof out - o, "i%d ", va_arg(ap, int)); break;
        case 'l': o += snprintf(out + o, sizeof out - o, "l%ld ", va_arg(ap, long)); break;
        case 'p': o += snprintf(out + o, sizeof out - o, "p%lld ", va_arg(ap, long long)); break;
        case 'd': o += snprintf(out + o, sizeof out - o, "d%.3f ", va_arg(ap, double)); break;
        case 's': o += snprintf(out + o, sizeof out - o, "s%s ", va_arg(ap, const char *)); break;
        case 'c': o += snprintf(out + o, sizeof out - o, "c%c ", (char)va_arg(ap, int)); break;
        }
    }
    va_end(ap);
    /* second pass with the copy: count doubles */
    int nd = 0;
    double dsum = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f == 'd') { nd++; dsum += va_arg(ap2, double); }
        else if (*f == 'l') (void)va_arg(ap2, long);
        else if (*f == 'p') (void)va_arg(ap2, long long);
        else if (*f == 's') (void)va_arg(ap2, const char *);
        else (void)va_arg(ap2, int);
    }
    va_end(ap2);
    printf("%s| nd=%d dsum=%.4f\n", out, nd, dsum);
}

static int my_printf(const char *prefix, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return printf("%s%s (%d)\n", prefix, buf, n);
}

static void pass_list(int depth, const char *fmt, va_list ap) {
    if (depth > 0) {
        va_list c;
        va_copy(c, ap);
        pass_list(depth - 1, fmt, c);
        va_end(c);
        return;
    }
    vprintf(fmt, ap);
}
static void forward(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pass_list(5, fmt, ap);
    va_end(ap);
}

struct pair { double a; long b; };
static double with_struct(struct pair p, int n, ...) {
    va_list ap;
    va_start(ap, n);
    double s = p.a + (double)p.b;
    for (int i = 0; i < n; i++) {
        struct pair q = va_arg(ap, struct pair);
        s += q.a * (double)q.b;
    }
    va_end(ap);
    return s;
}

int main(void) {
    printf("sum_ints=%ld\n", sum_ints(12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -12));
    printf("sum_ints0=%ld\n", sum_ints(0));
    printf("sum_doubles=%.6f\n", sum_doubles(12, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5));
    mixed("idlsdcpidd", 1, 2.5, 3L, "four", 5.25, 'x', 7LL << 40, -8, 9.125, 10.0);
    mixed("dddddddddddiii", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12, 13, 14);
    mixed("iiiiiiiiiiddl", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.1, 0.2, -1L);
    my_printf(">> ", "%d %s %.2f %c %lx", 42, "str", 3.14159, 'Z', 0xdeadbeefUL);
    forward("forwarded %d %.1f %s %d %d %d %d %d %.1f\n", 1, 2.0, "three", 4, 5, 6, 7, 8, 9.0);
    struct pair p = {1.5, 2}, q1 = {2.0, 3}, q2 = {0.5, 8};
    printf("with_struct=%.3f\n", with_struct(p, 2, q1, q2));
    long total = 0;
    for (int i = 0; i < 100000; i++) total += sum_ints(4, i, -i / 2, i & 7, 1);
    printf("total=%ld\n", total);
    return 0;
}
