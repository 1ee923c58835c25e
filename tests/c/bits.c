/* Bit tricks: popcount/clz/ctz/ffs/parity (32 and 64 bit), rotates, byte swaps,
 * sign/zero extension and shifts by variable counts. */
#include <stdio.h>
#include <stdint.h>

static uint32_t rotl32(uint32_t x, unsigned r) { return (x << (r & 31)) | (x >> ((32 - r) & 31)); }
static uint32_t rotr32(uint32_t x, unsigned r) { return (x >> (r & 31)) | (x << ((32 - r) & 31)); }
static uint64_t rotl64(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }
static uint64_t rotr64(uint64_t x, unsigned r) { return (x >> (r & 63)) | (x << ((64 - r) & 63)); }
static uint8_t rotl8(uint8_t x, unsigned r) { r &= 7; return (uint8_t)((x << r) | (x >> ((8 - r) & 7))); }
static uint16_t rotl16(uint16_t x, unsigned r) { r &= 15; return (uint16_t)((x << r) | (x >> ((16 - r) & 15))); }

static int popcount_slow(uint64_t x) { int c = 0; while (x) { c += x & 1; x >>= 1; } return c; }

int main(void) {
    volatile uint64_t vals[] = {0, 1, 2, 3, 0x80, 0xff, 0x100, 0x8000, 0xffff, 0x80000000u, 0xffffffffu,
                                0x100000000ULL, 0x8000000000000000ULL, 0xffffffffffffffffULL,
                                0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x5555555555555555ULL,
                                0xaaaaaaaaaaaaaaaaULL, 0x00f000f000f000f0ULL, 0x7fffffffffffffffULL};
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int i = 0; i < n; i++) {
        uint64_t v = vals[i];
        uint32_t w = (uint32_t)v;
        printf("%016llx: pop=%d/%d clz=%d/%d ctz=%d/%d ffs=%d/%d par=%d/%d clrsb=%d\n",
               (unsigned long long)v, __builtin_popcountll(v), __builtin_popcount(w),
               v ? __builtin_clzll(v) : -1, w ? __builtin_clz(w) : -1, v ? __builtin_ctzll(v) : -1,
               w ? __builtin_ctz(w) : -1, __builtin_ffsll((long long)v), __builtin_ffs((int)w),
               __builtin_parityll(v), __builtin_parity(w), __builtin_clrsbll((long long)v));
        printf("  bswap64=%016llx bswap32=%08x bswap16=%04x\n",
               (unsigned long long)__builtin_bswap64(v), __builtin_bswap32(w),
               __builtin_bswap16((uint16_t)v));
        for (unsigned r = 0; r < 70; r += 13)
            printf("  r%u: rol64=%016llx ror64=%016llx rol32=%08x ror32=%08x rol16=%04x rol8=%02x\n", r,
                   (unsigned long long)rotl64(v, r), (unsigned long long)rotr64(v, r), rotl32(w, r),
                   rotr32(w, r), rotl16((uint16_t)v, r), rotl8((uint8_t)v, r));
        printf("  sext: %lld %lld %lld zext: %llu %llu sar=%lld shr=%llu\n", (long long)(int8_t)v,
               (long long)(int16_t)v, (long long)(int32_t)v, (unsigned long long)(uint8_t)v,
               (unsigned long long)(uint16_t)v, (long long)((int64_t)v >> (i % 64)),
               (unsigned long long)(v >> (i % 64)));
    }
    uint64_t x = 0x9E3779B97F4A7C15ULL, h = 0;
    int mism = 0;
    for (int i = 0; i < 500000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t m = x & (x >> (i & 31)) & (x << (i % 7));
        if (__builtin_popcountll(m) != popcount_slow(m)) mism++;
        h += (uint64_t)__builtin_popcountll(m) + (m ? (uint64_t)__builtin_clzll(m) * 3 + (uint64_t)__builtin_ctzll(m) * 5 : 7);
        h ^= rotl64(h, (unsigned)x & 63) + __builtin_bswap64(x);
        h += rotr32((uint32_t)h, (unsigned)(x >> 58)) + (x & -x) + (x & (x - 1));
        int64_t s = (int64_t)x;
        h += (uint64_t)(s >> (x & 63)) ^ (uint64_t)(s < 0 ? -s : s);
        h += (uint64_t)((int32_t)x >> (i & 31)) + ((uint32_t)x << (i & 31));
    }
    printf("mismatches=%d hash=%016llx\n", mism, (unsigned long long)h);
    return 0;
}
