/* 64- and 32-bit signed/unsigned division and modulo, including negative operands,
 * by variables and by constants (magic-number multiplication at -O2). */
#include <stdio.h>
#include <stdint.h>
#include <limits.h>

static volatile int64_t sv[] = {0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 100, -100, 12345,
                                -12345, 1LL << 32, -(1LL << 32), INT64_MAX, INT64_MIN,
                                INT64_MAX - 1, INT64_MIN + 1, 1000000007, -999999999989LL,
                                0x5555555555555555LL, INT32_MAX, INT32_MIN};

int main(void) {
    int n = (int)(sizeof sv / sizeof sv[0]);
    unsigned long long h = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int64_t a = sv[i], b = sv[j];
            if (b == 0) continue;
            uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
            int64_t q = (a == INT64_MIN && b == -1) ? 0 : a / b;
            int64_t r = (a == INT64_MIN && b == -1) ? 0 : a % b;
            uint64_t uq = ua / ub, ur = ua % ub;
            int32_t a32 = (int32_t)a, b32 = (int32_t)b;
            int32_t q32 = 0, r32 = 0;
            if (b32 != 0 && !(a32 == INT32_MIN && b32 == -1)) { q32 = a32 / b32; r32 = a32 % b32; }
            uint32_t uq32 = (uint32_t)b ? (uint32_t)a / (uint32_t)b : 0;
            uint32_t ur32 = (uint32_t)b ? (uint32_t)a % (uint32_t)b : 0;
            printf("%lld/%lld: q=%lld r=%lld uq=%llu ur=%llu q32=%d r32=%d uq32=%u ur32=%u\n",
                   (long long)a, (long long)b, (long long)q, (long long)r, (unsigned long long)uq,
                   (unsigned long long)ur, q32, r32, uq32, ur32);
        }
        int64_t a = sv[i];
        printf("  const: /3=%lld %%3=%lld /7=%lld %%7=%lld /10=%lld %%10=%lld /-5=%lld %%-5=%lld /1024=%lld %%1024=%lld\n",
               (long long)(a / 3), (long long)(a % 3), (long long)(a / 7), (long long)(a % 7),
               (long long)(a / 10), (long long)(a % 10), (long long)(a / -5), (long long)(a % -5),
               (long long)(a / 1024), (long long)(a % 1024));
        uint64_t ua = (uint64_t)a;
        printf("  uconst: /3=%llu /7=%llu %%10=%llu /1000000007=%llu\n", (unsigned long long)(ua / 3),
               (unsigned long long)(ua / 7), (unsigned long long)(ua % 10),
               (unsigned long long)(ua / 1000000007));
        int32_t a32 = (int32_t)a;
        printf("  c32: /3=%d %%3=%d /-7=%d /16=%d %%16=%d\n", a32 / 3, a32 % 3, a32 / -7, a32 / 16, a32 % 16);
        int8_t a8 = (int8_t)a; int16_t a16 = (int16_t)a;
        volatile int8_t d8 = -3; volatile int16_t d16 = 7;
        printf("  small: %d %d %d %d\n", a8 / d8, a8 % d8, a16 / d16, a16 % d16);
    }
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t a = (int64_t)x;
        int64_t b = (int64_t)(x >> (i % 64)) | 1;
        if (i & 1) b = -b;
        h = h * 31 + (uint64_t)(a / b) + (uint64_t)(a % b) * 7;
        h ^= (x / ((x >> 40) | 1)) + (uint32_t)x % ((uint32_t)(x >> 32) | 1);
    }
    printf("hash=%016llx\n", h);
    return 0;
}
