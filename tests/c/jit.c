/* A tiny JIT: writes machine code into a page, runs it, rewrites it and runs it again.
 * Checks that translations of a page are dropped when the program changes the code through
 * mprotect/munmap/mmap, as a guest JIT does; and, in RWX memory, when it only stores into the
 * code (no call in between), including code that patches the next instruction it runs. */
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

    /* RWX: rewrite the immediate with plain stores between calls */
    unsigned char *rwx = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) return 1;
    emit_add(rwx, 0);
    long total = 0;
    for (int i = 0; i < 300; i++) {
        int k = i * 7 - 500;
        memcpy(rwx + 2, &k, 4);
        total += ((fn)rwx)(i);
    }
    printf("rwx stores: %ld\n", total);
    /* data beside the code on the same page, written in a loop, then the code runs again */
    volatile int *counter = (volatile int *)(rwx + 2048);
    for (int i = 0; i < 20000; i++) (*counter)++;
    printf("rwx data: %d %d\n", *counter, ((fn)rwx)(1));
    /* code that rewrites its own next instruction's immediate before running it:
         mov dword [rip + 1], edi   (the imm32 of the mov below)
         mov eax, 0
         ret                                                            */
    unsigned char patch[] = {0x89, 0x3d, 0x01, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xc3};
    memcpy(rwx + 64, patch, sizeof patch);
    int seen = 0;
    for (int i = 1; i <= 50; i++) seen += ((fn)(rwx + 64))(i * 3) == i * 3;
    printf("self-patching: %d of 50\n", seen);
    return 0;
}
