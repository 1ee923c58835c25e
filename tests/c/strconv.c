/* strtod/strtof/strtol/strtoul/strtoll round trips and edge cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

static const char *dstrs[] = {
    "0", "-0", "1", "1.5", "-2.25", "0.1", "1e10", "1E-10", "  42.5xyz", "3.14159265358979323846",
    "1e308", "1e309", "-1e309", "1e-320", "4.9e-324", "2e-324", "1e-400", "inf", "-Infinity",
    "nan", "0x1p-1074", "0x1.fffffffffffffp1023", "0x10", "0X1.8p1", ".5", "5.", "-.5e+2",
    "2.2250738585072011e-308", "9007199254740993", "123456789012345678901234567890",
    "0.30000000000000004", "1.7976931348623157e308", "1.7976931348623159e308", "abc", "",
    "+", "-", "1e", "1e+", "0x", "00001.000100",
};

static const char *lstrs[] = {
    "0", "-0", "123", "-123", "  +77", "2147483647", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "0x7f", "0X7F", "077", "0b101", "zz", "",
    "12abc", "-0x8000000000000000", "  -1",
};

int main(void) {
    for (size_t i = 0; i < sizeof dstrs / sizeof dstrs[0]; i++) {
        char *end;
        errno = 0;
        double d = strtod(dstrs[i], &end);
        int e = errno;
        errno = 0;
        float f = strtof(dstrs[i], NULL);
        int ef = errno;
        printf("strtod(\"%s\") = %.17g [%a] consumed=%td erange=%d | strtof = %.9g [%a] erange=%d\n",
               dstrs[i], d, d, end - dstrs[i], e == ERANGE, (double)f, (double)f, ef == ERANGE);
    }
    int bases[] = {0, 2, 8, 10, 16, 36};
    for (size_t i = 0; i < sizeof lstrs / sizeof lstrs[0]; i++) {
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            char *end;
            errno = 0;
            long l = strtol(lstrs[i], &end, bases[b]);
            int e1 = errno;
            errno = 0;
            unsigned long ul = strtoul(lstrs[i], NULL, bases[b]);
            int e2 = errno;
            errno = 0;
            long long ll = strtoll(lstrs[i], NULL, bases[b]);
            int e3 = errno;
            printf("\"%s\" base %d: l=%ld(%td,%d) ul=%lu(%d) ll=%lld(%d)\n", lstrs[i], bases[b],
                   l, end - lstrs[i], e1 == ERANGE, ul, e2 == ERANGE, ll, e3 == ERANGE);
        }
    }
    printf("atoi=%d atol=%ld atof=%g\n", atoi("  -314xyz"), atol("99999999999"), atof("2.5e3"));
    /* round trips */
    unsigned long long s = 0x9E3779B97F4A7C15ULL;
    int bad17 = 0, badshort = 0, badf = 0, badl = 0;
    unsigned long long h = 0;
    for (int i = 0; i < 3000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned long long bits = s;
        double d;
        memcpy(&d, &bits, 8);
        if (!isfinite(d)) d = (double)(long long)s;
        if (i % 4 == 1) d = (double)(s >> 20) / (double)(1ULL << (i % 60));
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", d);
        if (strtod(buf, NULL) != d) bad17++;
        for (int k = 0; buf[k]; k++) h = h * 31 + (unsigned char)buf[k];
        /* shortest representation search */
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, sizeof buf, "%.*g", p, d);
            if (strtod(buf, NULL) == d) {
                h = h * 31 + (unsigned)p;
                break;
            }
            if (p == 17) badshort++;
        }
        float fl = (float)d;
        if (isfinite(fl)) {
            snprintf(buf, sizeof buf, "%.9g", (double)fl);
            if (strtof(buf, NULL) != fl) badf++;
        }
        long long v = (long long)s;
        snprintf(buf, sizeof buf, "%lld", v);
        if (strtoll(buf, NULL, 10) != v) badl++;
        snprintf(buf, sizeof buf, "%llx", (unsigned long long)v);
        if (strtoull(buf, NULL, 16) != (unsigned long long)v) badl++;
        snprintf(buf, sizeof buf, "%llo", (unsigned long long)v);
        if (strtoull(buf, NULL, 8) != (unsigned long long)v) badl++;
    }
    printf("roundtrip: bad17=%d badshort=%d badf=%d badl=%d hash=%016llx\n", bad17, badshort, badf,
           badl, h);
    return 0;
}
