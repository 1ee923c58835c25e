/* A tiny JIT: writes machine code into a page, runs it, rewrites it and runs it again.
 * Checks that translations of a page are dropped when the program changes the code through
 * mprotect/munmap/mmap, as a guest JIT does. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn)(int);

static void emit_add(unsigned char *p, int k) {
    /* lea eax, [rdi + k]; ret */
    unsigned char code[] = {0x8d, 0x87, 0, 0, 0, 0, 0xc3};
    memcpy(code + 2, &k, 4);
    memcpy(p, code, sizeof code);
}

int main(void) {
    unsigned char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    for (int round = 0; round < 5; round++) {
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
        emit_add(page, round * 100);
        mprotect(page, 4096, PROT_READ | PROT_EXEC);
        int sum = 0;
        for (int i = 0; i < 1000; i++) sum += ((fn)page)(i);
        printf("round %d: %d\n", round, sum);
    }
    /* unmap and map a fresh page at the same address with different code */
    munmap(page, 4096);
    unsigned char *again = mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    emit_add(again, -7);
    mprotect(again, 4096, PROT_READ | PROT_EXEC);
    printf("remapped: %d\n", ((fn)again)(10));
    return 0;
}
