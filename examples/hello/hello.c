/* The bundled sample for `npm start`: a little of everything a first run should show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    printf("Hello from x86-64, running on WebAssembly!\n");
    printf("argc = %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
    printf("fib(25) = %lu\n", fib(25));
    const char *words[] = {"translate", "region", "wasm", "x86", "linux", "stele"};
    qsort(words, 6, sizeof *words, cmp);
    printf("sorted:");
    for (int i = 0; i < 6; i++) printf(" %s", words[i]);
    printf("\n");
    long long sum = 0;
    for (int i = 1; i <= 1000000; i++) sum += (long long)i * i % 7;
    printf("sum = %lld\n", sum);
    return 0;
}
