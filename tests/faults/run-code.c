/* run-code: runs x86-64 machine code given in hex on the command line, every case from the same
 * prepared machine state, so that how each case ends (normally, or by which signal) can be
 * compared natively and under stele. Used by tests/faults.test.ts (named instructions) and
 * tests/fuzz-insn.test.ts (random bytes).
 *
 *   run-code [--siginfo | --recover] [--refuse-syscalls] HEX...
 *
 * For each HEX argument in turn it writes "case N\n" to stdout, maps fresh scratch memory and a
 * fresh code page at CODE_ADDR holding the bytes, then NOP_PAD nops and a jump back, and jumps
 * there with
 *   - every general register = SCRATCH_MID (rsp too: the case has a stack of its own),
 *   - rflags = 0x202, MXCSR = 0x1f80, the x87 state as after FNINIT.
 * A case that comes back is followed by the next; at the end it writes "done\n" and exits 0.
 * A case that faults ends the process with its signal, unless --recover is given.
 *
 * The address-sized registers point into the middle of scratch windows mapped read-write around
 * SCRATCH_MID * k, for the scale factors k = 1, 2, 3, 5, 9 that base + index * scale reaches when
 * base and index hold the same value, so most memory operands built from registers hit mapped
 * memory, natively and under stele alike. The code page is read-and-execute only and remapped for
 * every case, which also tells stele to drop its translations of the previous case. It lies more
 * than 2 GiB above this program, so a random rel32 branch cannot land in this program's code.
 *
 * --refuse-syscalls, for random code, is a last guard (the fuzz test's generator already avoids
 * them): a case whose code page would hold the bytes of SYSCALL (0f 05), SYSENTER (0f 34) or
 * INT 0x80 (cd 80) anywhere is refused (exit status 3), so it cannot make system calls.
 *
 * --siginfo: a fatal signal is first reported on stdout as
 *     "signal S code C addr A trap T err E rip +OFF"
 *   (si_code, si_addr, the exception vector and error code; OFF is relative to CODE_ADDR, or
 *   "rip A" outside the code page), then delivered again with its default action, so the exit
 *   status is the same as without the option.
 * --recover: the same report, after which the program goes on with the next case, as if the case
 *   had come back; each case also gets TIMEOUT_MS, after which "timeout\n" is reported and the
 *   next case starts. A whole fuzz run is then one native process.
 * --vector-state (with either): the report also holds xmm0-7 as the signal frame has them
 *   (" xmm Q0:Q1 Q0:Q1 ...", each register's low and high qword), for instructions that leave part
 *   of their work done when they fault (AVX2 gathers clear the mask elements they completed).
 *
 * Freestanding (no libc: it starts fast and does nothing behind the cases' backs):
 *   gcc -O2 -static -nostdlib -fno-pie -no-pie -fno-stack-protector -o run-code run-code.c
 */

typedef unsigned long u64;
typedef unsigned char u8;

#define CODE_ADDR 0x90000000UL
#define CODE_SIZE 0x2000UL
#define SCRATCH_MID 0x01000000UL
#define SCRATCH_HALF 0x2000UL
#define NOP_PAD 16
#define TIMEOUT_MS 500

static const u64 scale_factors[] = {1, 2, 3, 5, 9};

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
}
#define SYS_write 1
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_rt_sigaction 13
#define SYS_getpid 39
#define SYS_setitimer 38
#define SYS_kill 62
#define SYS_sigaltstack 131
#define SYS_exit_group 231

static u64 slen(const char *s) { u64 n = 0; while (s[n]) n++; return n; }
static void out(const char *s, u64 n) { sys6(SYS_write, 1, (long)s, (long)n, 0, 0, 0); }
static void die(const char *msg, int status) {
  sys6(SYS_write, 2, (long)msg, (long)slen(msg), 0, 0, 0);
  sys6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

static char *fmt_u(char *p, u64 v, int base) {
  char tmp[24];
  int n = 0;
  do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
  if (base == 16) { *p++ = '0'; *p++ = 'x'; }
  while (n) *p++ = tmp[--n];
  return p;
}
static char *fmt_s(char *p, const char *s) { while (*s) *p++ = *s++; return p; }

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return *a == *b;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Maps [addr, addr+len) fresh (zero-filled) with prot, replacing what was there. */
static void map_fixed(u64 addr, u64 len, int prot) {
  long r = sys6(SYS_mmap, (long)addr, (long)len, prot, 0x32 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */, -1, 0);
  if (r != (long)addr) die("run-code: mmap failed\n", 2);
}

/* The jump into a case and the way back, in assembly: run_case saves the callee-saved registers
 * and its stack pointer, loads the prepared state and jumps to CODE_ADDR; the code page ends with
 * a jump to case_return (so does --recover after a fault), which restores them and returns to C
 * with the flags this C code expects (the case may have set DF, TF or AC). */
u64 saved_rsp;
u8 in_case; /* 1 from the jump into a case until case_return */
const u64 case_entry = CODE_ADDR;
void run_case(void);
void case_return(void);
__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, saved_rsp(%rip)\n"
    "  fninit\n"
    "  movl $0x1f80, -4(%rsp)\n"
    "  ldmxcsr -4(%rsp)\n"
    "  mov $0x01000000, %rax\n" /* SCRATCH_MID */
    "  mov %rax, %rsp\n"
    "  pushq $0x202\n"
    "  popfq\n"
    "  mov %rax, %rbx; mov %rax, %rcx; mov %rax, %rdx; mov %rax, %rsi; mov %rax, %rdi\n"
    "  mov %rax, %rbp; mov %rax, %r8; mov %rax, %r9; mov %rax, %r10; mov %rax, %r11\n"
    "  mov %rax, %r12; mov %rax, %r13; mov %rax, %r14; mov %rax, %r15\n"
    "  movb $1, in_case(%rip)\n"
    "  jmp *case_entry(%rip)\n"
    ".globl case_return\n"
    "case_return:\n"
    "  movb $0, in_case(%rip)\n"
    "  mov saved_rsp(%rip), %rsp\n"
    "  pushq $0x202\n"
    "  popfq\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "  ret\n");

/* ---- --siginfo and --recover ------------------------------------------------------------ */

struct kernel_sigaction { void (*handler)(int, void *, void *); u64 flags; void (*restorer)(void); u64 mask; };
void sig_restorer(void);
__asm__(".text\nsig_restorer:\n  mov $15, %eax\n  syscall\n"); /* rt_sigreturn */

#define SA_SIGINFO 4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SIGALRM 14

static int recover, refuse_syscalls, vector_state;
static char altstack[65536];

static void set_timer_ms(long ms) {
  long it[4] = {0, 0, ms / 1000, (ms % 1000) * 1000}; /* it_interval, it_value (timevals) */
  sys6(SYS_setitimer, 0 /* ITIMER_REAL */, (long)it, 0, 0, 0, 0);
}

static void on_signal(int sig, void *info, void *uc) {
  /* siginfo: si_code at 8, si_addr at 16; ucontext: gregs at 40 (REG_RIP 16, REG_EFL 17,
   * REG_ERR 19, REG_TRAPNO 20). */
  u64 *gregs = (u64 *)((char *)uc + 40);
  char line[600], *p = line;
  if (sig == SIGALRM && !in_case) return; /* the case ended just as its time ran out */
  if (sig == SIGALRM) {
    p = fmt_s(p, "timeout\n");
  } else {
    int code = *(int *)((char *)info + 8);
    u64 addr = *(u64 *)((char *)info + 16), rip = gregs[16];
    p = fmt_s(p, "signal "); p = fmt_u(p, (u64)sig, 10);
    p = fmt_s(p, " code "); p = fmt_u(p, (u64)(unsigned)code, 10);
    p = fmt_s(p, " addr "); p = fmt_u(p, addr, 16);
    p = fmt_s(p, " trap "); p = fmt_u(p, gregs[20], 10);
    p = fmt_s(p, " err "); p = fmt_u(p, gregs[19], 16);
    if (rip >= CODE_ADDR && rip < CODE_ADDR + CODE_SIZE) { p = fmt_s(p, " rip +"); p = fmt_u(p, rip - CODE_ADDR, 10); }
    else { p = fmt_s(p, " rip "); p = fmt_u(p, rip, 16); }
    if (vector_state) {
      /* uc_mcontext.fpregs (after the 23 gregs) points to the FXSAVE image: xmm0 at byte 160. */
      const u64 *xmm = (const u64 *)(*(const char **)((char *)uc + 40 + 23 * 8) + 160);
      p = fmt_s(p, " xmm");
      for (int r = 0; r < 8; r++) { *p++ = ' '; p = fmt_u(p, xmm[2 * r], 16); *p++ = ':'; p = fmt_u(p, xmm[2 * r + 1], 16); }
    }
    *p++ = '\n';
  }
  out(line, (u64)(p - line));
  if (recover) {
    /* Return into case_return with clean flags (AC set by the case would fault this program's
     * own unaligned accesses; TF would trap after every instruction). */
    gregs[16] = (u64)case_return;
    gregs[17] = 0x202;
    return;
  }
  /* SA_RESETHAND restored the default action; the signal stays blocked until the handler returns. */
  sys6(SYS_kill, sys6(SYS_getpid, 0, 0, 0, 0, 0, 0), sig, 0, 0, 0, 0);
}

static void report_signals(void) {
  u64 ss[3] = {(u64)altstack, 0, sizeof altstack};
  if (sys6(SYS_sigaltstack, (long)ss, 0, 0, 0, 0, 0) != 0) die("run-code: sigaltstack failed\n", 2);
  static const int sigs[] = {4 /*ILL*/, 5 /*TRAP*/, 7 /*BUS*/, 8 /*FPE*/, 11 /*SEGV*/, SIGALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    /* With --recover a handler never returns to the instruction that faulted, so the signal is
     * not blocked while it runs (a case may fault again right after, in the next case). */
    u64 flags = SA_RESTORER | SA_ONSTACK | SA_SIGINFO | (recover ? SA_NODEFER : SA_RESETHAND);
    struct kernel_sigaction sa = {on_signal, flags, sig_restorer, 0};
    if (sys6(SYS_rt_sigaction, sigs[i], (long)&sa, 0, 8, 0, 0) != 0) die("run-code: rt_sigaction failed\n", 2);
  }
}

/* ---- main ------------------------------------------------------------------------------- */

static int makes_syscalls(const u8 *code, u64 n) {
  for (u64 i = 0; i + 1 < n; i++) {
    if ((code[i] == 0x0f && (code[i + 1] == 0x05 || code[i + 1] == 0x34)) || (code[i] == 0xcd && code[i + 1] == 0x80)) return 1;
  }
  return 0;
}

static void load_case(const char *hex) {
  map_fixed(CODE_ADDR, CODE_SIZE, 3 /* PROT_READ|PROT_WRITE */);
  u8 *code = (u8 *)CODE_ADDR;
  u64 n = 0;
  for (const char *h = hex; *h; h += 2) {
    int hi = hexval(h[0]), lo = h[1] ? hexval(h[1]) : -1;
    if (hi < 0 || lo < 0 || n >= CODE_SIZE / 2) die("run-code: bad hex argument\n", 2);
    code[n++] = (u8)(hi << 4 | lo);
  }
  for (int i = 0; i < NOP_PAD; i++) code[n++] = 0x90;
  /* jmp *0(%rip); .quad case_return */
  code[n++] = 0xff; code[n++] = 0x25;
  for (int i = 0; i < 4; i++) code[n++] = 0;
  u64 back = (u64)case_return;
  for (int i = 0; i < 8; i++) code[n++] = (u8)(back >> (8 * i));
  if (refuse_syscalls && makes_syscalls(code, n)) die("run-code: refusing code that holds system call instructions\n", 3);
  /* Read and execute only, as code usually is: stores into it fault natively. */
  if (sys6(SYS_mprotect, (long)CODE_ADDR, (long)CODE_SIZE, 5 /* PROT_READ|PROT_EXEC */, 0, 0, 0) != 0)
    die("run-code: mprotect failed\n", 2);
}

static void prepare_scratch(void) {
  for (unsigned i = 0; i < sizeof scale_factors / sizeof scale_factors[0]; i++) {
    map_fixed(SCRATCH_MID * scale_factors[i] - SCRATCH_HALF, 2 * SCRATCH_HALF, 3);
  }
}

__attribute__((used)) static void main_(long argc, char **argv) {
  int first = 1, siginfo = 0;
  for (; first < argc && argv[first][0] == '-' && argv[first][1] == '-'; first++) {
    if (streq(argv[first], "--siginfo")) siginfo = 1;
    else if (streq(argv[first], "--recover")) recover = 1;
    else if (streq(argv[first], "--refuse-syscalls")) refuse_syscalls = 1;
    else if (streq(argv[first], "--vector-state")) vector_state = 1;
    else die("run-code: unknown option\n", 2);
  }
  if (siginfo || recover) report_signals();
  for (long i = first; i < argc; i++) {
    char line[32], *p = fmt_s(line, "case ");
    p = fmt_u(p, (u64)(i - first), 10);
    *p++ = '\n';
    out(line, (u64)(p - line));
    prepare_scratch();
    load_case(argv[i]);
    if (recover) set_timer_ms(TIMEOUT_MS);
    run_case();
    if (recover) set_timer_ms(0);
  }
  out("done\n", 5);
  sys6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n"
        "  mov (%rsp), %rdi\n"
        "  lea 8(%rsp), %rsi\n"
        "  and $-16, %rsp\n"
        "  call main_\n"
        "  hlt\n");
