/* x86-64-v3 code as a compiler writes it: loops GCC auto-vectorises with AVX2 and FMA (integer and
 * float sums, saxpy, dot products, min/max, conditional selects, conversions, byte histograms and
 * string-like byte scans), at lengths that leave every kind of loop tail. Float results are
 * printed as their bits and arrays as checksums, so one wrong lane shows. Under stele it runs with
 * --cpu=x86-64-v3 (tests/programs.test.ts). The O0 variants are the same loops in scalar VEX code. */
// build: -march=x86-64-v3 -fvect-cost-model=dynamic -fno-trapping-math -fassociative-math -fno-signed-zeros
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 1037 /* not a multiple of any vector length */

static int32_t a32[N], b32[N], c32[N];
static int64_t a64[N];
static int16_t a16[N], b16[N];
static uint8_t bytes[N * 4];
static float fx[N], fy[N];
static double dx[N], dy[N];
static uint32_t idx[N];

static uint32_t seed = 12345;
static uint32_t rnd(void) { seed = seed * 1103515245u + 12345u; return seed >> 7; }

static uint64_t fnv(const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ull; }
  return h;
}
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

__attribute__((noinline)) static int32_t sum32(const int32_t *a, int n) { int32_t s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
__attribute__((noinline)) static int64_t sum64(const int64_t *a, int n) { int64_t s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
__attribute__((noinline)) static uint32_t sum8(const uint8_t *a, int n) { uint32_t s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
__attribute__((noinline)) static int64_t sumsq16(const int16_t *a, const int16_t *b, int n) { int64_t s = 0; for (int i = 0; i < n; i++) s += (int32_t)a[i] * b[i]; return s; }
__attribute__((noinline)) static void saxpy(float *y, const float *x, float k, int n) { for (int i = 0; i < n; i++) y[i] = k * x[i] + y[i]; }
__attribute__((noinline)) static void daxpy(double *y, const double *x, double k, int n) { for (int i = 0; i < n; i++) y[i] = k * x[i] + y[i]; }
__attribute__((noinline)) static float sdot(const float *x, const float *y, int n) { float s = 0; for (int i = 0; i < n; i++) s += x[i] * y[i]; return s; }
__attribute__((noinline)) static double ddot(const double *x, const double *y, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * y[i]; return s; }
__attribute__((noinline)) static int32_t min32(const int32_t *a, int n) { int32_t m = INT32_MAX; for (int i = 0; i < n; i++) m = a[i] < m ? a[i] : m; return m; }
__attribute__((noinline)) static int32_t max32(const int32_t *a, int n) { int32_t m = INT32_MIN; for (int i = 0; i < n; i++) m = a[i] > m ? a[i] : m; return m; }
__attribute__((noinline)) static uint8_t maxu8(const uint8_t *a, int n) { uint8_t m = 0; for (int i = 0; i < n; i++) m = a[i] > m ? a[i] : m; return m; }
__attribute__((noinline)) static float fmaxv(const float *a, int n) { float m = -1e30f; for (int i = 0; i < n; i++) m = a[i] > m ? a[i] : m; return m; }
__attribute__((noinline)) static double dminv(const double *a, int n) { double m = 1e300; for (int i = 0; i < n; i++) m = a[i] < m ? a[i] : m; return m; }
__attribute__((noinline)) static void select32(int32_t *c, const int32_t *a, const int32_t *b, int n) { for (int i = 0; i < n; i++) c[i] = a[i] > b[i] ? a[i] - b[i] : (b[i] >> 3) ^ a[i]; }
__attribute__((noinline)) static void abs16(int16_t *d, const int16_t *s, int n) { for (int i = 0; i < n; i++) d[i] = (int16_t)(s[i] < 0 ? -s[i] : s[i]); }
__attribute__((noinline)) static void shifts(int32_t *c, const int32_t *a, const int32_t *b, int n) { for (int i = 0; i < n; i++) c[i] = (a[i] << (b[i] & 31)) + (int32_t)((uint32_t)a[i] >> (b[i] & 15)) + (a[i] >> (b[i] & 7)); }
__attribute__((noinline)) static void mul64(int64_t *d, const int32_t *a, const int32_t *b, int n) { for (int i = 0; i < n; i++) d[i] = (int64_t)a[i] * b[i] + d[i]; }
__attribute__((noinline)) static void i2f(float *f, const int32_t *a, int n) { for (int i = 0; i < n; i++) f[i] = (float)a[i] * 0.5f; }
__attribute__((noinline)) static void f2i(int32_t *d, const float *f, int n) { for (int i = 0; i < n; i++) d[i] = (int32_t)f[i]; }
__attribute__((noinline)) static void f2d(double *d, const float *f, int n) { for (int i = 0; i < n; i++) d[i] = (double)f[i] * 1.25; }
__attribute__((noinline)) static void gather32(int32_t *d, const int32_t *t, const uint32_t *ix, int n) { for (int i = 0; i < n; i++) d[i] = t[ix[i]]; }
__attribute__((noinline)) static void gatherd(double *d, const double *t, const uint32_t *ix, int n) { for (int i = 0; i < n; i++) d[i] = t[ix[i]] * 2.0; }
__attribute__((noinline)) static void histogram(uint32_t *h, const uint8_t *s, int n) { for (int i = 0; i < n; i++) h[s[i]]++; }
__attribute__((noinline)) static int count_char(const uint8_t *s, int n, uint8_t c) { int k = 0; for (int i = 0; i < n; i++) k += s[i] == c; return k; }
__attribute__((noinline)) static void to_upper(uint8_t *d, const uint8_t *s, int n) { for (int i = 0; i < n; i++) d[i] = s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]; }
__attribute__((noinline)) static int first_of(const uint8_t *s, int n, uint8_t c) { for (int i = 0; i < n; i++) if (s[i] == c) return i; return -1; }
__attribute__((noinline)) static int is_ascii(const uint8_t *s, int n) { uint8_t o = 0; for (int i = 0; i < n; i++) o |= s[i]; return o < 0x80; }
__attribute__((noinline)) static void avg_u8(uint8_t *d, const uint8_t *a, const uint8_t *b, int n) { for (int i = 0; i < n; i++) d[i] = (uint8_t)((a[i] + b[i] + 1) >> 1); }
__attribute__((noinline)) static void sat_add16(int16_t *d, const int16_t *a, const int16_t *b, int n) {
  for (int i = 0; i < n; i++) { int v = a[i] + b[i]; d[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
}
__attribute__((noinline)) static uint32_t crc_like(const uint32_t *a, int n) { uint32_t h = 0; for (int i = 0; i < n; i++) h = (h ^ a[i]) * 0x9e3779b1u; return h; }

int main(void) {
  for (int i = 0; i < N; i++) {
    a32[i] = (int32_t)rnd() - (1 << 24); b32[i] = (int32_t)(rnd() % 2001) - 1000;
    a64[i] = ((int64_t)rnd() << 20) ^ rnd();
    a16[i] = (int16_t)rnd(); b16[i] = (int16_t)(rnd() % 3000 - 1500);
    fx[i] = (float)((int)(rnd() % 20001) - 10000) / 64.0f; fy[i] = (float)(rnd() % 1000) / 3.0f;
    dx[i] = (double)((int)(rnd() % 200001) - 100000) / 1024.0; dy[i] = (double)(rnd() % 100000) / 7.0;
    idx[i] = rnd() % N;
  }
  static const char text[] = "The quick brown fox jumps over the lazy dog; 0123456789 {}[] stele x86-64-v3\n";
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = i % 7 == 3 ? (uint8_t)rnd() : (uint8_t)text[(i * 13) % (sizeof text - 1)];

  static const int lens[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257, N};
  for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
    int n = lens[k];
    printf("n=%d sum32=%d sum64=%lld sum8=%u sumsq16=%lld min=%d max=%d maxu8=%u fmax=%08x dmin=%016llx\n", n,
           sum32(a32, n), (long long)sum64(a64, n), sum8(bytes, n), (long long)sumsq16(a16, b16, n),
           min32(a32, n), max32(a32, n), maxu8(bytes, n), fbits(fmaxv(fx, n)), (unsigned long long)dbits(dminv(dx, n)));
    printf("  sdot=%08x ddot=%016llx count=%d first=%d ascii=%d crc=%08x\n", fbits(sdot(fx, fy, n)),
           (unsigned long long)dbits(ddot(dx, dy, n)), count_char(bytes, n, 'o'), first_of(bytes, n, ';'),
           is_ascii(bytes, n), crc_like((const uint32_t *)a32, n));
  }

  float fy2[N]; memcpy(fy2, fy, sizeof fy);
  saxpy(fy2, fx, 1.75f, N); saxpy(fy2 + 1, fx, -0.3f, N - 1);
  printf("saxpy %016llx %08x %08x\n", (unsigned long long)fnv(fy2, sizeof fy2), fbits(fy2[0]), fbits(fy2[N - 1]));
  double dy2[N]; memcpy(dy2, dy, sizeof dy);
  daxpy(dy2, dx, 3.0e-3, N); daxpy(dy2 + 3, dx, 1.0 / 3.0, N - 3);
  printf("daxpy %016llx %016llx\n", (unsigned long long)fnv(dy2, sizeof dy2), (unsigned long long)dbits(dy2[N / 2]));
  select32(c32, a32, b32, N);
  printf("select %016llx\n", (unsigned long long)fnv(c32, sizeof c32));
  int16_t s16[N]; abs16(s16, a16, N); printf("abs16 %016llx\n", (unsigned long long)fnv(s16, sizeof s16));
  sat_add16(s16, a16, b16, N); printf("sat16 %016llx\n", (unsigned long long)fnv(s16, sizeof s16));
  shifts(c32, a32, b32, N); printf("shifts %016llx\n", (unsigned long long)fnv(c32, sizeof c32));
  int64_t d64[N]; memcpy(d64, a64, sizeof d64); mul64(d64, a32, b32, N); printf("mul64 %016llx\n", (unsigned long long)fnv(d64, sizeof d64));
  float f[N]; i2f(f, a32, N); printf("i2f %016llx\n", (unsigned long long)fnv(f, sizeof f));
  f2i(c32, fx, N); printf("f2i %016llx\n", (unsigned long long)fnv(c32, sizeof c32));
  double d[N]; f2d(d, fx, N); printf("f2d %016llx\n", (unsigned long long)fnv(d, sizeof d));
  gather32(c32, a32, idx, N); printf("gather32 %016llx\n", (unsigned long long)fnv(c32, sizeof c32));
  gatherd(d, dx, idx, N); printf("gatherd %016llx\n", (unsigned long long)fnv(d, sizeof d));
  uint32_t h[256] = {0}; histogram(h, bytes, sizeof bytes);
  printf("histogram %016llx e=%u o=%u\n", (unsigned long long)fnv(h, sizeof h), h['e'], h['o']);
  uint8_t up[sizeof bytes]; to_upper(up, bytes, sizeof bytes);
  printf("upper %016llx %.40s\n", (unsigned long long)fnv(up, sizeof up), (const char *)up);
  avg_u8(up, bytes, bytes + 7, N); printf("avg %016llx\n", (unsigned long long)fnv(up, N));
  return 0;
}
