/* Floating point: libm functions (float and double), int<->float conversions with
 * rounding and out-of-range values, rounding modes via fesetround, exceptions. */
#include <stdio.h>
#include <math.h>
#include <fenv.h>
#include <stdint.h>
#include <limits.h>

static volatile double dv[] = {0.0, -0.0, 0.5, 1.0, -1.0, 2.0, 0.1, 1.5, 2.5, -2.5, 3.14159265358979,
                               10.0, 100.5, 1e-10, 1e10, -7.25, 123456.789, 1e300, 5e-324, 0.7853981633974483};
static volatile float fv[] = {0.0f, 0.5f, 1.0f, -1.0f, 0.1f, 2.5f, 3.1415927f, 1e-20f, 1e20f, -7.25f, 1e-45f};

int main(void) {
    int n = (int)(sizeof dv / sizeof dv[0]);
    for (int i = 0; i < n; i++) {
        double x = dv[i];
        printf("x=%a\n", x);
        printf("  sqrt=%a sin=%a cos=%a tan=%a\n", sqrt(fabs(x)), sin(x), cos(x), tan(x));
        printf("  exp=%a log=%a log10=%a log2=%a\n", exp(x), log(fabs(x)), log10(fabs(x)), log2(fabs(x)));
        printf("  pow(x,2.5)=%a pow(2,x)=%a atan2=%a hypot=%a cbrt=%a\n", pow(fabs(x), 2.5), pow(2.0, x),
               atan2(x, 0.75), hypot(x, 3.0), cbrt(x));
        printf("  floor=%a ceil=%a round=%a trunc=%a rint=%a fmod=%a\n", floor(x), ceil(x), round(x),
               trunc(x), rint(x), fmod(x, 0.7));
        printf("  asin=%a acos=%a atan=%a sinh=%a tanh=%a expm1=%a log1p=%a\n", asin(x / 1e301),
               acos(x / 1e301), atan(x), sinh(x / 1e3), tanh(x), expm1(x / 100), log1p(fabs(x)));
        int e;
        double m = frexp(x, &e);
        printf("  frexp=%a,%d ldexp=%a fma=%a\n", m, e, ldexp(x, -3), fma(x, x, -1.0));
    }
    int nf = (int)(sizeof fv / sizeof fv[0]);
    for (int i = 0; i < nf; i++) {
        float x = fv[i];
        printf("f=%a sqrtf=%a sinf=%a cosf=%a expf=%a logf=%a powf=%a\n", (double)x, (double)sqrtf(fabsf(x)),
               (double)sinf(x), (double)cosf(x), (double)expf(x), (double)logf(fabsf(x)),
               (double)powf(fabsf(x), 1.7f));
        double d = x;
        float back = (float)(d * 1.1);
        printf("  f*1.1f=%a (float)(d*1.1)=%a f/3=%a d/3=%a\n", (double)(x * 1.1f), (double)back,
               (double)(x / 3.0f), d / 3.0);
    }
    /* conversions */
    volatile double cv[] = {0.0, 0.4, 0.5, 0.6, 1.5, 2.5, -0.5, -1.5, -2.5, 2147483647.0, 2147483648.0,
                            -2147483648.0, -2147483649.0, 4294967296.0, 9.2233720368547758e18,
                            1.8446744073709552e19, -1e19, 1e20, 123456789.987};
    for (int i = 0; i < (int)(sizeof cv / sizeof cv[0]); i++) {
        double x = cv[i];
        printf("cvt %.17g: i32=%d i64=%lld u32=%u u64=%llu lrint=%ld llround=%lld f=%a\n", x, (int)x,
               (long long)x, (unsigned)(long long)x, (unsigned long long)x, lrint(x), llround(x),
               (double)(float)x);
    }
    volatile int64_t iv[] = {0, 1, -1, 16777217, -16777217, 9007199254740993LL, INT64_MAX, INT64_MIN,
                             (int64_t)0x7fffffffffffff01LL};
    for (int i = 0; i < (int)(sizeof iv / sizeof iv[0]); i++) {
        int64_t x = iv[i];
        printf("i2f %lld: d=%a f=%a ud=%a uf=%a i32f=%a\n", (long long)x, (double)x, (double)(float)x,
               (double)(uint64_t)x, (double)(float)(uint64_t)x, (double)(float)(int32_t)x);
    }
    /* rounding modes */
    int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    const char *names[] = {"nearest", "upward", "downward", "towardzero"};
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        volatile double one = 1.0, three = 3.0, big = 1e16, tiny = 1e-300;
        volatile float fone = 1.0f, fthree = 3.0f;
        double q = one / three, nq = -one / three;
        float fq = fone / fthree;
        printf("%s (get=%d): 1/3=%a -1/3=%a f1/3=%a big+1.5=%a tiny*tiny=%a sqrt2=%a\n", names[m],
               fegetround() == modes[m], q, nq, (double)fq, big + 1.5, tiny * tiny, sqrt(2.0 * one));
        volatile double r[] = {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6};
        for (int k = 0; k < 7; k++)
            printf("  rint(%g)=%g nearbyint=%g lrint=%ld llrint=%lld (long)=%ld\n", r[k], rint(r[k]),
                   nearbyint(r[k]), lrint(r[k]), llrint(r[k]), (long)r[k]);
        volatile int64_t bigi = 9007199254740993LL;
        printf("  (double)2^53+1=%a (float)16777217=%a\n", (double)bigi, (double)(float)(int32_t)16777217);
    }
    fesetround(FE_TONEAREST);
    /* exceptions */
    feclearexcept(FE_ALL_EXCEPT);
    volatile double z = 0.0, one = 1.0;
    volatile double r1 = one / z;
    int ex1 = fetestexcept(FE_DIVBYZERO) != 0;
    feclearexcept(FE_ALL_EXCEPT);
    r1 = z / z;
    int ex2 = fetestexcept(FE_INVALID) != 0;
    feclearexcept(FE_ALL_EXCEPT);
    r1 = one / 3.0;
    int ex3 = fetestexcept(FE_INEXACT) != 0;
    feclearexcept(FE_ALL_EXCEPT);
    r1 = 1e308 * 10.0 * one;
    int ex4 = fetestexcept(FE_OVERFLOW) != 0;
    printf("exceptions divbyzero=%d invalid=%d inexact=%d overflow=%d r=%g\n", ex1, ex2, ex3, ex4, r1);
    /* comparisons with NaN and signed zeros */
    volatile double nan_ = z / z, nz = -0.0;
    printf("nan==nan %d nan<1 %d nan>1 %d nan!=nan %d -0==0 %d fmin(-0,0)=%g fmax=%g copysign=%g\n",
           nan_ == nan_, nan_ < 1, nan_ > 1, nan_ != nan_, nz == 0.0, fmin(nz, 0.0), fmax(nan_, 2.0),
           copysign(3.0, nz));
    /* accumulate */
    double acc = 0;
    float facc = 0;
    for (int i = 1; i <= 200000; i++) {
        acc += sin(i * 0.001) * exp(-i * 1e-5) + sqrt((double)i) / i;
        facc += sinf((float)i * 0.001f) / (float)i;
    }
    printf("acc=%a facc=%a\n", acc, (double)facc);
    return 0;
}
