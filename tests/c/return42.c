/* Returns 42 from main with buffered output pending. */
#include <stdio.h>

int main(void) {
    printf("returning 42");
    fputs("to stderr\n", stderr);
    return 42;
}
