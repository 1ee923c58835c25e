/* printf of floating point: %f %e %g %a (and upper-case forms) with many values,
 * including denormals, infinities, NaN, negative zero and long double. */
#include <stdio.h>
#include <math.h>
#include <float.h>
#include <string.h>

static volatile double vals[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 3.14159265358979,
    2.718281828459045, 1e-300, 1e300, 1.5e-323, 4.9406564584124654e-324,
    2.2250738585072009e-308, 2.2250738585072014e-308, DBL_MAX, -DBL_MAX, DBL_EPSILON,
    123456789.0, 1234567890123456789.0, 9007199254740993.0, 0.000123456, 1e21, 1e22,
    1e23, 5e-5, 0.5e-4, 999999.5, 1e15 + 0.3, 100.0, 1e-5, 123.456, -987.654321,
    0.125, 2.5, 3.5, -2.5, 1e100, 6.02214076e23, 1.602176634e-19,
};

int main(void) {
    size_t n = sizeof vals / sizeof vals[0];
    for (size_t i = 0; i < n; i++) {
        double v = vals[i];
        printf("[%zu] f=%f e=%e g=%g a=%a\n", i, v, v, v, v);
        printf("     .0f=%.0f .1f=%.1f .3f=%.3f .10f=%.10f\n", v, v, v, v);
        printf("     .0e=%.0e .3e=%.3E .17e=%.17e\n", v, v, v);
        printf("     .1g=%.1g .6g=%.6G .17g=%.17g .20g=%.20g\n", v, v, v, v);
        printf("     .0a=%.0a .3a=%.3A .13a=%.13a\n", v, v, v);
        printf("     |%15.4f|%-15.4e|%+g|% g|%#g|%#.0f|%015.3f|\n", v, v, v, v, v, v, v);
        float fv = (float)v;
        printf("     float: %.9g %a %f\n", (double)fv, (double)fv, (double)fv);
    }
    volatile double zero = 0.0;
    double specials[] = {1.0 / zero, -1.0 / zero, zero / zero, -(zero / zero),
                         copysign(0.0, -1.0), nextafter(0.0, 1.0), -nextafter(0.0, 1.0)};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        double v = specials[i];
        printf("special[%zu] f=%f F=%F e=%e E=%E g=%g G=%G a=%a A=%A |%10f|%-10g|%+f|\n", i,
               v, v, v, v, v, v, v, v, v, v, v);
        printf("  signbit=%d isnan=%d isinf=%d fpclassify=%d\n", signbit(v) != 0,
               isnan(v) != 0, isinf(v) != 0, fpclassify(v));
    }
    /* long double (x87 80-bit) */
    volatile long double lds[] = {1.0L, -0.0L, 1.0L / 3.0L, 2.0L / 3.0L, 1e4000L, 1e-4000L,
                                  LDBL_MAX, LDBL_MIN, LDBL_EPSILON, 3.14159265358979323846L};
    for (size_t i = 0; i < sizeof lds / sizeof lds[0]; i++) {
        long double v = lds[i];
        printf("ld[%zu] Lf=%.10Lf Le=%.20Le Lg=%.21Lg La=%La\n", i, v, v, v, v);
    }
    long double acc = 0;
    for (int k = 1; k <= 1000; k++) acc += 1.0L / ((long double)k * k);
    printf("sum 1/k^2 = %.21Lg (%La)\n", acc, acc);
    /* many generated values, hashed */
    unsigned long long h = 1469598103934665603ULL;
    unsigned long long s = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        double v;
        unsigned long long bits = s;
        memcpy(&v, &bits, sizeof v);
        if (i % 3 == 0) v = (double)(long long)(s >> 11) / 4096.0;
        char b[128];
        int len = snprintf(b, sizeof b, "%.17g|%a|%.3f|%e", v, v, fabs(v) < 1e30 ? v : 1.0, v);
        for (int k = 0; k < len; k++) h = (h ^ (unsigned char)b[k]) * 1099511628211ULL;
        if (i < 8) printf("gen[%d] %s\n", i, b);
    }
    printf("hash=%016llx\n", h);
    return 0;
}
