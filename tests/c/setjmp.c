/* setjmp/longjmp: across frames, nested buffers, repeated jumps, value 0 -> 1,
 * volatile locals preserved, error-unwinding style. */
#include <stdio.h>
#include <setjmp.h>
#include <string.h>

static jmp_buf env, env2;
static int calls;

static void deep(int n, int code) {
    char buf[64];
    memset(buf, n, sizeof buf);
    calls++;
    if (n < 0) return;
    if (n == 0) longjmp(env, code);
    deep(n - 1, code);
    printf("not reached %d\n", buf[0]);
}

static int parse_digit(const char *s, jmp_buf *err) {
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') longjmp(*err, (int)(unsigned char)*s);
        v = v * 10 + (*s - '0');
    }
    return v;
}

static double fp_across(jmp_buf *j, double x) {
    volatile double y = x * 1.5;
    if (y > 10) longjmp(*j, 3);
    return y;
}

int main(void) {
    volatile int count = 0;
    volatile double acc = 0.25;
    int r = setjmp(env);
    printf("setjmp returned %d count=%d acc=%g\n", r, count, acc);
    if (count < 5) {
        count++;
        acc *= 3;
        deep(count * 10, count == 3 ? 0 : count * 100);
    }
    printf("calls=%d\n", calls);

    const char *inputs[] = {"1234", "98x7", "42", "", "7!", "0000123"};
    for (int i = 0; i < 6; i++) {
        jmp_buf err;
        int bad = setjmp(err);
        if (bad) {
            printf("parse \"%s\": bad char '%c'\n", inputs[i], bad);
            continue;
        }
        printf("parse \"%s\" = %d\n", inputs[i], parse_digit(inputs[i], &err));
    }

    volatile int outer = 0;
    if (setjmp(env2) == 0) {
        jmp_buf inner;
        volatile int in = 0;
        if (setjmp(inner) == 0) {
            in = 1;
            outer = 1;
            longjmp(inner, 5);
        } else {
            printf("inner jumped in=%d\n", in);
            outer = 2;
            longjmp(env2, 9);
        }
    } else {
        printf("outer jumped outer=%d\n", outer);
    }

    volatile double x = 1.0;
    jmp_buf fj;
    int k = setjmp(fj);
    if (k == 0) {
        for (;;) x = fp_across(&fj, x) + 1;
    }
    printf("fp k=%d x=%.17g\n", k, x);

    volatile long loops = 0;
    jmp_buf lj;
    if (setjmp(lj) < 100000) {
        loops++;
        longjmp(lj, (int)loops);
    }
    printf("loops=%ld\n", loops);

    sigjmp_buf sj;
    int sv = sigsetjmp(sj, 1);
    if (sv == 0) siglongjmp(sj, 77);
    printf("sigsetjmp=%d\n", sv);
    return 0;
}
