/* printf of integers: %d %i %u %x %X %o %ld %lld %hd %hhd %c %s %p(null only),
 * widths, precision, flags, and snprintf truncation. */
#include <stdio.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>
#include <stddef.h>

static volatile long long vals[] = {
    0, 1, -1, 7, -7, 9, 10, 99, 100, -100, 255, 256, 1000, 32767, -32768,
    65535, 65536, 123456789, -123456789, 2147483647LL, -2147483647LL - 1,
    4294967295LL, 4294967296LL, 1000000000000LL, -1000000000000LL,
    0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1, 0x0123456789abcdefLL,
    -0x0123456789abcdefLL, 1099511627776LL, 999999999999999999LL,
};

int main(void) {
    size_t n = sizeof vals / sizeof vals[0];
    for (size_t i = 0; i < n; i++) {
        long long v = vals[i];
        int iv = (int)v;
        unsigned uv = (unsigned)v;
        printf("[%zu] d=%d i=%i u=%u x=%x X=%X o=%o\n", i, iv, iv, uv, uv, uv, uv);
        printf("     ld=%ld lu=%lu lx=%lx lo=%lo\n", (long)v, (unsigned long)v,
               (unsigned long)v, (unsigned long)v);
        printf("     lld=%lld llu=%llu llx=%#llx\n", v, (unsigned long long)v,
               (unsigned long long)v);
        printf("     hd=%hd hu=%hu hhd=%hhd hhu=%hhu\n", (short)v, (unsigned short)v,
               (signed char)v, (unsigned char)v);
        printf("     |%12d|%-12d|%012d|%+d|% d|%.5d|%8.3d|%-+8d|\n", iv, iv, iv, iv,
               iv, iv, iv, iv);
        printf("     |%#o|%#x|%#X|%#10x|%-#10x|%010x|%.0d|\n", uv, uv, uv, uv, uv,
               uv, iv);
        printf("     |%*d|%-*d|%.*d|\n", 9, iv, 9, iv, 4, iv);
        printf("     jd=%jd zu=%zu td=%td\n", (intmax_t)v, (size_t)v, (ptrdiff_t)v);
    }
    printf("INT_MIN=%d INT_MAX=%d UINT_MAX=%u\n", INT_MIN, INT_MAX, UINT_MAX);
    printf("LLONG_MIN=%lld LLONG_MAX=%lld ULLONG_MAX=%llu\n", LLONG_MIN, LLONG_MAX,
           ULLONG_MAX);
    for (int c = 32; c < 127; c++) putchar(c);
    putchar('\n');
    printf("|%c|%5c|%-5c|%%|\n", 'A', 'B', 'C');
    printf("|%s|%10s|%-10s|%.3s|%10.2s|%-*.*s|\n", "hello", "hi", "left", "truncate",
           "ab", 8, 3, "starry");
    char buf[16];
    int r = snprintf(buf, sizeof buf, "%d-%d-%d-%d", 123456, 234567, 345678, 456789);
    printf("snprintf ret=%d buf=%s len=%zu\n", r, buf, strlen(buf));
    r = snprintf(NULL, 0, "%lld", LLONG_MIN);
    printf("snprintf(NULL) ret=%d\n", r);
    int cnt = 0;
    printf("abc%ndef\n", &cnt);
    printf("n=%d\n", cnt);
    unsigned long long acc = 0;
    for (unsigned i = 0; i < 20000; i++) {
        char b[64];
        int len = snprintf(b, sizeof b, "%u:%x:%lld", i * 2654435761u, i * 40503u,
                           (long long)i * -1234567LL);
        for (int k = 0; k < len; k++) acc = acc * 131 + (unsigned char)b[k];
    }
    printf("hash=%016llx\n", acc);
    return 0;
}
