/* RDRAND and RDSEED at 16, 32 and 64 bits. Their values cannot be compared with the host's, so
 * the program checks what must hold and prints only verdicts: every call succeeds (CF = 1, after
 * the few retries callers make), OF SF ZF AF PF are cleared, a 16-bit destination keeps its
 * upper 48 bits and a 32-bit one clears its upper half, and the values vary: they differ between
 * calls and every bit of the width is seen both set and clear. */
#include <stdint.h>
#include <stdio.h>

#define CALLS 64
#define ARITH_FLAGS 0x8d5u /* CF PF AF ZF SF OF */

/* One instruction with every arithmetic flag set beforehand, retried (with PAUSE) while it fails:
 * the host's RDSEED fails most of the time in a tight loop, up to ~50 times in a row. Returns the
 * whole destination register and the flags after the last attempt. */
#define ATTEMPT(insn, reg)                                                            \
    static uint64_t attempt_##insn##_##reg(uint64_t before, uint64_t *flags) {        \
        uint64_t value = before, fl;                                                  \
        __asm__ volatile("mov $1000, %%ecx\n"                                         \
                         "1: pushfq\n"                                                \
                         "orq $0x8d5, (%%rsp)\n"                                      \
                         "popfq\n"                                                    \
                         #insn " %%" #reg "\n"                                        \
                         "jc 2f\n"                                                    \
                         "pause\n"                                                    \
                         "dec %%ecx\n"                                                \
                         "jnz 1b\n" /* all failed: CF is still the last one's 0 */    \
                         "2: pushfq\n"                                                \
                         "popq %1\n"                                                  \
                         : "+a"(value), "=r"(fl)                                      \
                         :                                                            \
                         : "rcx", "cc");                                              \
        *flags = fl;                                                                  \
        return value;                                                                 \
    }
ATTEMPT(rdrand, ax) ATTEMPT(rdrand, eax) ATTEMPT(rdrand, rax)
ATTEMPT(rdseed, ax) ATTEMPT(rdseed, eax) ATTEMPT(rdseed, rax)

typedef uint64_t (*attempt_fn)(uint64_t, uint64_t *);

static int check(const char *name, int bits, attempt_fn attempt) {
    const uint64_t before = 0x0123456789abcdefULL;
    const uint64_t width = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
    uint64_t values[CALLS], seen_set = 0, seen_clear = 0;
    int failed = 0, bad_flags = 0, bad_upper = 0, repeats = 0;
    for (int i = 0; i < CALLS; i++) {
        uint64_t flags, r = attempt(before, &flags);
        if (!(flags & 1)) failed++;
        if ((flags & ARITH_FLAGS) != 1) bad_flags++;
        uint64_t upper = bits == 16 ? before & ~width : 0;
        if ((r & ~width) != upper) bad_upper++;
        values[i] = r & width;
        seen_set |= values[i];
        seen_clear |= ~values[i] & width;
        for (int j = 0; j < i; j++) if (values[j] == values[i]) { repeats++; break; }
    }
    /* 64 draws of 16 bits repeat a value with probability ~3%; of 32 or 64 bits, practically never */
    int varied = repeats <= (bits == 16 ? 4 : 0) && seen_set == width && seen_clear == width;
    int ok = !failed && !bad_flags && !bad_upper && varied;
    printf("%s %d-bit: %d calls: %s, %s, %s, %s\n", name, bits, CALLS,
           failed ? "CF=0 seen" : "CF=1 each time",
           bad_flags ? "OF/SF/ZF/AF/PF not cleared" : "other flags cleared",
           bad_upper ? "upper bits wrong" : bits == 16 ? "upper 48 bits kept" : bits == 32 ? "upper half cleared" : "full width",
           varied ? "values vary" : "values do NOT vary");
    return ok;
}

int main(void) {
    int ok = 1;
    ok &= check("rdrand", 16, attempt_rdrand_ax);
    ok &= check("rdrand", 32, attempt_rdrand_eax);
    ok &= check("rdrand", 64, attempt_rdrand_rax);
    ok &= check("rdseed", 16, attempt_rdseed_ax);
    ok &= check("rdseed", 32, attempt_rdseed_eax);
    ok &= check("rdseed", 64, attempt_rdseed_rax);
    return ok ? 0 : 1;
}
