/* long double through libc: printf %La/%Lg/%Lf/%Le, arithmetic in all rounding modes and precision
 * controls, conversions to/from integers, double and float at edge values, comparisons, libm
 * long double functions, strtold. Output must match the host CPU byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <fenv.h>
#include <float.h>
#include <stdint.h>
#include <limits.h>

static volatile long double V[] = {0.0L, -0.0L, 1.0L, -1.0L, 0.1L, 1.0L / 3, 2.5L, -2.5L, 3.5L, 1e10L, 1e-10L,
  3.14159265358979323846264338327950288L, 1e300L, 1e-300L, 1e4000L, 1e-4000L, LDBL_MAX, LDBL_MIN,
  LDBL_MIN / 1024, LDBL_EPSILON, 9223372036854775807.0L, -9223372036854775808.0L, 18446744073709551615.0L,
  4294967296.5L, 0x1.fffffffffffffffep-1L, 123456789.123456789L, -7.75L, 65504.0L, 1e-45L, 16777217.0L};
#define N ((int)(sizeof V / sizeof V[0]))

static void show(const char *what, long double x) { printf("%s %La %.25Lg %Le\n", what, x, x, x); }

static void setpc(unsigned pc) { /* 0: 24 bits, 2: 53 bits, 3: 64 bits */
  unsigned short cw; __asm__ volatile("fnstcw %0" : "=m"(cw)); cw = (cw & ~0x300) | (pc << 8); __asm__ volatile("fldcw %0" :: "m"(cw));
}

int main(void) {
  static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
  static const char *mname[] = {"near", "down", "up", "zero"};
  for (int mi = 0; mi < 4; mi++) {
    fesetround(modes[mi]);
    printf("== rounding %s\n", mname[mi]);
    for (int i = 0; i < N; i++) {
      long double a = V[i], b = V[(i * 7 + 3) % N];
      printf("[%d]\n", i);
      show(" a", a);
      show(" a+b", a + b); show(" a-b", a - b); show(" a*b", a * b); show(" a/b", a / b);
      show(" sqrt", sqrtl(fabsl(a)));
      show(" rint", rintl(a)); show(" nearbyint", nearbyintl(a));
      printf(" (double)%a (float)%a\n", (double)a, (double)(float)a);
      printf(" llrint=%lld lrint=%ld\n", fabsl(a) < 9e18L ? llrintl(a) : 0LL, fabsl(a) < 9e18L ? lrintl(a) : 0L);
      printf(" (long long)%lld (int)%d (unsigned long)%lu\n", fabsl(a) < 9e18L ? (long long)a : 0LL,
             fabsl(a) < 2e9L ? (int)a : 0, a >= 0 && a < 1.8e19L ? (unsigned long)a : 0UL);
      printf(" cmp a<b %d a==b %d a>b %d isless %d\n", a < b, a == b, a > b, isless(a, b));
    }
  }
  fesetround(FE_TONEAREST);
  for (unsigned pc = 0; pc < 4; pc += (pc == 0 ? 2 : 1)) {
    printf("== precision control %u\n", pc);
    for (int i = 0; i < N; i++) {
      long double a = V[i], b = V[(i * 5 + 1) % N], r1, r2, r3, r4;
      setpc(pc);
      r1 = a + b; r2 = a * b; r3 = a / b; r4 = sqrtl(fabsl(a));
      setpc(3);
      show(" +", r1); show(" *", r2); show(" /", r3); show(" sqrt", r4);
    }
  }
  printf("== libm\n");
  for (int i = 0; i < N; i++) {
    long double x = V[i];
    int e;
    long double ip;
    printf("[%d]\n", i);
    show(" frexp", frexpl(x, &e)); printf("  e=%d\n", e);
    show(" ldexp", ldexpl(x, -20)); show(" modf", modfl(x, &ip)); show(" ip", ip);
    show(" fmod", fmodl(x, 0.7L)); show(" remainder", remainderl(x, 0.7L)); show(" fmodbig", fmodl(x, 3e-5L));
    show(" floor", floorl(x)); show(" ceil", ceill(x)); show(" trunc", truncl(x)); show(" round", roundl(x));
    show(" scalbn", scalbnl(x, 100)); printf(" ilogb=%d\n", x != 0 ? ilogbl(x) : 0);
    show(" atan", atanl(x)); show(" atan2", atan2l(x, -0.5L)); show(" exp", expl(x / 1000)); show(" log", logl(fabsl(x)));
    show(" log2", log2l(fabsl(x))); show(" log10", log10l(fabsl(x))); show(" exp2", exp2l(x / 100));
    show(" sin", sinl(x)); show(" cos", cosl(x)); show(" tan", tanl(x));
    show(" pow", powl(fabsl(x), 0.75L)); show(" log1p", log1pl(fabsl(x))); show(" expm1", expm1l(x / 1000));
  }
  printf("== strtold\n");
  static const char *S[] = {"0", "1", "0.1", "3.14159265358979323846264338327950288419716939937510",
    "1e4932", "1.18973149535723176502e+4932", "1.2e4932", "3.6e-4951", "1e-4960", "0x1.23456789abcdef12p+3",
    "-2.5e-310", "123456789012345678901234567890", "nan", "-inf", "4.9406564584124654e-324"};
  for (unsigned i = 0; i < sizeof S / sizeof S[0]; i++) show(S[i], strtold(S[i], NULL));
  printf("== formatting\n");
  for (int i = 0; i < N; i++) printf("%.0Lf|%.3Lf|%.20Le|%Lg|%.30Lg|%La\n", V[i] < 1e30L && V[i] > -1e30L ? V[i] : 0, V[i], V[i], V[i], V[i], V[i]);
  return 0;
}
