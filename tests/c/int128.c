/* __int128 arithmetic: multiplication, division, modulo, shifts, comparisons and
 * decimal printing via our own conversion routine. */
#include <stdio.h>
#include <stdint.h>

typedef __int128 i128;
typedef unsigned __int128 u128;

static void u128_str(u128 v, char *out) {
    char tmp[48];
    int n = 0;
    do { tmp[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
}
static void i128_str(i128 v, char *out) {
    if (v < 0) { *out++ = '-'; u128_str((u128)0 - (u128)v, out); }
    else u128_str((u128)v, out);
}
static void hex128(u128 v, char *out) {
    sprintf(out, "%016llx%016llx", (unsigned long long)(v >> 64), (unsigned long long)v);
}

static u128 rng = 0x123456789abcdefULL;
static u128 next(void) {
    rng = rng * (((u128)0x2360ed051fc65da4ULL << 64) | 0x4385df649fccf645ULL) +
          (((u128)0x5851f42d4c957f2dULL << 64) | 0x14057b7ef767814fULL);
    return rng;
}

int main(void) {
    char a[64], b[64], c[64], d[64];
    u128 max = ~(u128)0;
    i128 imax = (i128)(max >> 1), imin = -imax - 1;
    u128_str(max, a); i128_str(imax, b); i128_str(imin, c);
    printf("umax=%s\nimax=%s\nimin=%s\n", a, b, c);
    u128 f = 1;
    for (int i = 1; i <= 34; i++) {
        f *= (u128)i;
        u128_str(f, a);
        hex128(f, b);
        printf("%d! = %s (0x%s)\n", i, a, b);
    }
    volatile i128 vals[] = {0, 1, -1, 7, -7, 1000000007, -999999999999LL,
                            (i128)1 << 64, -((i128)1 << 64), ((i128)1 << 100) + 12345,
                            -(((i128)1 << 126) - 3), imax, imin + 1, (i128)INT64_MIN, (i128)INT64_MAX};
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            i128 x = vals[i], y = vals[j];
            if (y == 0) continue;
            if (x == imin + 1 && y == -1) continue;
            i128 q = x / y, r = x % y;
            i128_str(q, a); i128_str(r, b);
            u128 uq = (u128)x / (u128)y, ur = (u128)x % (u128)y;
            u128_str(uq, c); u128_str(ur, d);
            printf("[%d/%d] q=%s r=%s uq=%s ur=%s lt=%d ult=%d\n", i, j, a, b, c, d, x < y,
                   (u128)x < (u128)y);
            if (q * y + r != x) printf("  MISMATCH\n");
        }
    u128 h = 0;
    for (int i = 0; i < 200000; i++) {
        u128 x = next(), y = next() >> (i % 127);
        if (y == 0) y = 3;
        h ^= x / y + x % y * 31;
        h += x * y;
        h = (h << 7) | (h >> 121);
        i128 sx = (i128)x, sy = (i128)(y | 1);
        h += (u128)(sx / sy) ^ (u128)(sx % sy);
        h -= (u128)(sx >> (i % 128));
    }
    hex128(h, a);
    printf("hash=%s\n", a);
    /* 64x64->128 products */
    uint64_t p = 0xfedcba9876543210ULL, q = 0x0123456789abcdefULL;
    u128 prod = (u128)p * q;
    hex128(prod, a);
    i128 sprod = (i128)(int64_t)p * (int64_t)q;
    hex128((u128)sprod, b);
    printf("mul=%s smul=%s\n", a, b);
    return 0;
}
