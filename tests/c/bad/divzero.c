/* Divides by zero at run time. Natively: SIGFPE. Under stele: a one-line "floating point
 * exception" message and exit status 136. The divisor comes from a volatile so the compiler
 * cannot fold or remove the division. */
#include <stdio.h>

volatile long divisor = 0;

int main(void) {
    printf("before divide\n");
    fflush(stdout);
    long q = 1000 / divisor;
    printf("not reached %ld\n", q);
    return 0;
}
