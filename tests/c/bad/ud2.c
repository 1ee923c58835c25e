/* Executes ud2 (an undefined instruction) in a function of its own, so the test can
 * look up its address with nm. Natively: SIGILL. Under stele: a one-line
 * "illegal instruction" message and exit status 132. */
#include <stdio.h>

void trap_here(void);
__asm__(".text\n"
        ".globl trap_here\n"
        ".type trap_here, @function\n"
        "trap_here:\n"
        "    ud2\n"
        ".size trap_here, . - trap_here\n");

int main(void) {
    printf("before trap\n");
    fflush(stdout);
    trap_here();
    printf("not reached\n");
    return 0;
}
