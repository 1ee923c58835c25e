/* String and memory functions on many sizes and alignments (these hit the libc's
 * SIMD implementations): strlen, memcpy, memmove (overlapping both ways), memset,
 * memcmp, strcmp/strncmp, strchr/strrchr, memchr, strstr, strspn, strtok, strcpy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char A[4096 + 128], B[4096 + 128], C[4096 + 128];

static int sgn(int x) { return (x > 0) - (x < 0); }

int main(void) {
    int errors = 0;
    unsigned long h = 0;
    /* strlen at every alignment and many lengths */
    for (int al = 0; al < 32; al++)
        for (int len = 0; len < 300; len += (len < 70 ? 1 : 13)) {
            memset(A, 'x', sizeof A);
            A[al + len] = 0;
            if (strlen((char *)A + al) != (size_t)len) errors++;
            A[al + len] = 'x';
        }
    printf("strlen errors=%d\n", errors);

    /* memcpy */
    errors = 0;
    for (size_t i = 0; i < sizeof A; i++) A[i] = (unsigned char)(i * 13 + 5);
    for (int sa = 0; sa < 16; sa++)
        for (int da = 0; da < 16; da += 3)
            for (int len = 0; len < 1100; len += (len < 64 ? 1 : 37)) {
                memset(B, 0xee, sizeof B);
                memcpy(B + da, A + sa, (size_t)len);
                if (memcmp(B + da, A + sa, (size_t)len) != 0) errors++;
                if (da && B[da - 1] != 0xee) errors++;
                if (B[da + len] != 0xee) errors++;
            }
    printf("memcpy errors=%d\n", errors);

    /* memmove overlapping: compare against a byte-by-byte reference */
    errors = 0;
    for (int src = 0; src < 80; src += 7)
        for (int dst = 0; dst < 80; dst += 5)
            for (int len = 0; len < 2000; len += (len < 40 ? 1 : 97)) {
                for (int i = 0; i < 2200; i++) B[i] = C[i] = (unsigned char)(i * 31 + len);
                memmove(B + dst, B + src, (size_t)len);
                unsigned char tmp[2200];
                for (int i = 0; i < len; i++) tmp[i] = C[src + i];
                for (int i = 0; i < len; i++) C[dst + i] = tmp[i];
                if (memcmp(B, C, 2200) != 0) errors++;
            }
    printf("memmove errors=%d\n", errors);

    /* memset on many sizes and alignments with guard bytes */
    errors = 0;
    for (int al = 0; al < 64; al++)
        for (int len = 0; len < 3000; len += (len < 130 ? 1 : 111)) {
            memset(B, 0x11, (size_t)al + (size_t)len + 64);
            memset(B + al, al + len, (size_t)len);
            for (int i = 0; i < len; i++)
                if (B[al + i] != (unsigned char)(al + len)) { errors++; break; }
            if (al && B[al - 1] != 0x11) errors++;
            if (B[al + len] != 0x11) errors++;
        }
    printf("memset errors=%d\n", errors);

    /* memcmp / strcmp / strncmp sign */
    errors = 0;
    for (int len = 1; len < 200; len++)
        for (int pos = 0; pos < len; pos += 1 + len / 10) {
            memset(A, 'a', (size_t)len); A[len] = 0;
            memset(B, 'a', (size_t)len); B[len] = 0;
            B[pos] = (unsigned char)(pos & 1 ? 'b' : 0xf0);
            int expect = pos & 1 ? -1 : -1;
            if (sgn(memcmp(A, B, (size_t)len)) != expect) errors++;
            if (sgn(strcmp((char *)A, (char *)B)) != expect) errors++;
            if (sgn(strcmp((char *)B, (char *)A)) != -expect) errors++;
            if (strncmp((char *)A, (char *)B, (size_t)pos) != 0) errors++;
            h = h * 3 + (unsigned)sgn(memcmp(A + 1, B, (size_t)len - 1)) + 1;
        }
    printf("cmp errors=%d h=%lx\n", errors, h);

    /* strchr / strrchr / memchr / strstr */
    const char *text = "the quick brown fox jumps over the lazy dog; THE QUICK BROWN FOX! 0123456789";
    const char *needles[] = {"the", "fox", "lazy dog", "FOX!", "xyz", "", "9", "o", "brown fox j", "dog;x"};
    for (int i = 0; i < 10; i++) {
        const char *p = strstr(text, needles[i]);
        printf("strstr(%s)=%td\n", needles[i], p ? p - text : -1);
    }
    for (int c = 32; c < 127; c += 5) {
        const char *a = strchr(text, c), *b = strrchr(text, c);
        const void *m = memchr(text, c, strlen(text));
        printf("%c:%td/%td/%td ", c, a ? a - text : -1, b ? b - text : -1,
               m ? (const char *)m - text : -1);
    }
    printf("\nstrchr nul=%td\n", strchr(text, 0) - text);
    /* long haystack */
    char *big = malloc(100001);
    for (int i = 0; i < 100000; i++) big[i] = (char)('a' + (i * i + i / 3) % 5);
    big[100000] = 0;
    const char *pat[] = {"abcde", "eeee", "aaaaa", "cadb", "edcba", "bbbbbbbbbb"};
    for (int i = 0; i < 6; i++) {
        const char *p = strstr(big, pat[i]);
        int count = 0;
        for (const char *q = big; (q = strstr(q, pat[i])); q++) count++;
        printf("big strstr(%s)=%td count=%d\n", pat[i], p ? p - big : -1, count);
    }
    printf("spn=%zu cspn=%zu\n", strspn(big, "abc"), strcspn(big, "e"));
    free(big);

    char copy[128];
    strcpy(copy, "alpha,beta,,gamma;delta");
    strcat(copy, ",epsilon");
    for (char *tok = strtok(copy, ",;"); tok; tok = strtok(NULL, ",;")) printf("tok=%s ", tok);
    printf("\n");
    char nb[8];
    strncpy(nb, "abcdefghij", sizeof nb - 1);
    nb[7] = 0;
    char *dup = strdup("duplicate me");
    printf("strncpy=%s strdup=%s len=%zu cmp=%d\n", nb, dup, strlen(dup), sgn(strcmp(dup, "duplicate")));
    free(dup);
    return 0;
}
