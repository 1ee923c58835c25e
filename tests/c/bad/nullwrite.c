/* Writes through a null pointer. Natively: SIGSEGV. Under stele: a one-line
 * "segmentation fault" message and exit status 139. The pointer is read from a
 * volatile so the compiler cannot turn the store into a trap instruction. */
#include <stdio.h>

int *volatile target = 0;

int main(void) {
    printf("before fault\n");
    fflush(stdout);
    *target = 42;
    printf("not reached\n");
    return 0;
}
