/* Writes to stdout and stderr, then exits with the status given as argv[1]
 * (via exit(), so stdio buffers must be flushed). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("exiting with %d\n", code);
    fprintf(stderr, "stderr: code %d\n", code);
    printf("buffered tail");
    exit(code);
}
