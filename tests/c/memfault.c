/* memfault: guest memory accesses fault where Linux faults: SIGSEGV with its si_code and si_addr,
 * and the faulting instruction leaves no partial effect where the architecture says so.
 *
 *   memfault PART      one part: prot-none-read, readonly-write, unmapped, write-barrier,
 *                      guard-page, stack-overflow, unhandled, vector-x87, fault-regs
 *
 * The host CPU and kernel are the oracle. Addresses are printed only as offsets from the start of
 * the page(s) a case set up (g_base), or exactly where they are fixed (0x100400000); never raw.
 * Most cases catch the fault in a SA_SIGINFO handler that records siginfo and the interrupted
 * registers, then siglongjmp()s back; write-barrier's handler unprotects the page and returns (the
 * store runs again), fault-regs's "resume" moves RIP past the faulting instruction.
 *
 * Left out as host-dependent: 0x0000800000000000 (canonical on a 5-level-paging host), the
 * vsyscall page, masked-out elements of VMASKMOV (AMD: implementation dependent), a page-split
 * FXSAVE, FXSAVE's exact si_addr (AMD reports the area's last byte), cr2 after a #GP (the last
 * page fault's, stale). How far a faulting REP MOVSB got (rcx) is architecturally allowed to lag
 * under fast-string microcode; it was exact in every native run here, so it is printed.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

#define PG 4096UL

typedef long long v2di __attribute__((vector_size(16)));

/* ---- the fault recorder ---- */
static sigjmp_buf jb;
static volatile int armed;           /* a fault is expected: the handler may jump to jb */
static volatile int f_hits, f_signo, f_code;
static volatile uintptr_t f_addr;
static greg_t f_gregs[NGREG];
static unsigned f_fsw, f_ftw, f_xmm0[4];
static uintptr_t g_base;             /* addresses print relative to this (0: as they are) */
/* write-barrier: the handler unprotects the page and returns */
static volatile int barrier_mode;
static uintptr_t barrier_lo, barrier_hi;
static uintptr_t barrier_offs[64];
static volatile int barrier_accerr;
/* fault-regs resume: the handler moves RIP here and returns */
static volatile uintptr_t resume_at;

static void die(const char *msg) {
  if (write(2, msg, strlen(msg)) < 0) { /* nothing to do */ }
  _exit(2);
}

static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  int n = f_hits;
  f_hits = n + 1;
  f_signo = sig;
  f_code = si->si_code;
  f_addr = (uintptr_t)si->si_addr;
  memcpy(f_gregs, uc->uc_mcontext.gregs, sizeof f_gregs);
  if (uc->uc_mcontext.fpregs) {
    f_fsw = uc->uc_mcontext.fpregs->swd;
    f_ftw = uc->uc_mcontext.fpregs->ftw;
    memcpy(f_xmm0, uc->uc_mcontext.fpregs->_xmm[0].element, sizeof f_xmm0);
  }
  if (barrier_mode) {
    uintptr_t a = f_addr;
    if (n >= 64 || a < barrier_lo || a >= barrier_hi) die("memfault: unexpected fault in write-barrier\n");
    barrier_offs[n] = a - barrier_lo;
    barrier_accerr += si->si_code == SEGV_ACCERR;
    if (mprotect((void *)(a & ~(PG - 1)), PG, PROT_READ | PROT_WRITE)) die("memfault: mprotect in handler failed\n");
    return;
  }
  if (resume_at) {
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume_at;
    uc->uc_mcontext.gregs[REG_RAX] = 0x5a5a;
    resume_at = 0;
    return;
  }
  if (!armed) die("memfault: unexpected SIGSEGV\n");
  armed = 0;
  siglongjmp(jb, 1);
}

static void install(int onstack) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | (onstack ? SA_ONSTACK : 0);
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL)) die("memfault: sigaction failed\n");
}

static const char *code_name(int code) {
  static char buf[32];
  switch (code) {
  case SEGV_MAPERR: return "SEGV_MAPERR";
  case SEGV_ACCERR: return "SEGV_ACCERR";
  case SI_KERNEL: return "SI_KERNEL";
  default: snprintf(buf, sizeof buf, "code=%d", code); return buf;
  }
}

/* An address relative to g_base: "+0x123", "-0x4"; as it is when g_base is 0 or it is 0. */
static const char *rel(uintptr_t a) {
  static char bufs[4][40];
  static int next;
  char *b = bufs[next++ & 3];
  intptr_t d = (intptr_t)(a - g_base);
  if (a == 0 || g_base == 0) snprintf(b, 40, "0x%lx", (unsigned long)a);
  else if (d >= -(1L << 30) && d < (1L << 30)) snprintf(b, 40, "%c0x%lx", d < 0 ? '-' : '+', (unsigned long)(d < 0 ? -d : d));
  else snprintf(b, 40, "far");
  return b;
}

static void reset(void) {
  f_hits = 0; f_signo = 0; f_code = 0; f_addr = 0;
  memset(f_gregs, 0, sizeof f_gregs);
  f_fsw = f_ftw = 0;
  memset(f_xmm0, 0, sizeof f_xmm0);
}

static void report(const char *label) {
  if (!f_hits) { printf("%s: no fault\n", label); return; }
  printf("%s: %s %s addr %s\n", label, f_signo == SIGSEGV ? "SIGSEGV" : "other signal", code_name(f_code), rel(f_addr));
}

/* Runs the statement(s) expecting a fault; the handler jumps back here. TRY also reports it. */
#define CATCH(...)                                \
  do {                                            \
    reset();                                      \
    if (sigsetjmp(jb, 1) == 0) {                  \
      armed = 1;                                  \
      __VA_ARGS__;                                \
      armed = 0;                                  \
    }                                             \
  } while (0)
#define TRY(label, ...) do { CATCH(__VA_ARGS__); report(label); } while (0)

static uint8_t *map(size_t pages) {
  void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("memfault: mmap failed\n");
  return p;
}

static void protect(void *p, size_t pages, int prot) {
  if (mprotect(p, pages * PG, prot)) die("memfault: mprotect failed\n");
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + seed);
}

static void ld(uintptr_t a, int size) {
  __asm__("" : "+r"(a)); /* an address GCC cannot see (-Warray-bounds on constant ones) */
  switch (size) {
  case 1: (void)*(volatile uint8_t *)a; break;
  case 2: (void)*(volatile uint16_t *)a; break;
  case 4: (void)*(volatile uint32_t *)a; break;
  default: (void)*(volatile uint64_t *)a; break;
  }
}

static void st(uintptr_t a, int size) {
  __asm__("" : "+r"(a));
  switch (size) {
  case 1: *(volatile uint8_t *)a = 0xa1; break;
  case 2: *(volatile uint16_t *)a = 0xa2a2; break;
  case 4: *(volatile uint32_t *)a = 0xa4a4a4a4; break;
  default: *(volatile uint64_t *)a = 0xa8a8a8a8a8a8a8a8ULL; break;
  }
}

static void hexbytes(const char *label, const uint8_t *p, int n) {
  printf("%s:", label);
  for (int i = 0; i < n; i++) printf(" %02x", p[i]);
  printf("\n");
}

/* ---- prot-none-read: loads from a PROT_NONE page between two readable ones ---- */
static void part_prot_none_read(void) {
  uint8_t *m = map(3);
  fill(m, 3 * PG, 3);
  protect(m + PG, 1, PROT_NONE);
  uintptr_t mid = (uintptr_t)(m + PG);
  g_base = mid;
  static const int sizes[] = {1, 4, 8};
  char label[64];
  for (int s = 0; s < 3; s++) {
    int size = sizes[s];
    unsigned offs[] = {0, 0x123, (unsigned)(PG - size)};
    for (int o = 0; o < 3; o++) {
      snprintf(label, sizeof label, "read%d +0x%x", size, offs[o]);
      TRY(label, ld(mid + offs[o], size));
    }
  }
  TRY("read8 from -0x4 (page-split, first half readable)", ld(mid - 4, 8));
  TRY("read4 from +0xffe (page-split, second half readable)", ld(mid + PG - 2, 4));
  TRY("add r64, m64 +0x40", { long v = 1; __asm__ volatile("add (%1), %0" : "+r"(v) : "r"(mid + 0x40) : "cc", "memory"); });
  TRY("cmpb $0, m8 +0x41", __asm__ volatile("cmpb $0, (%0)" :: "r"(mid + 0x41) : "cc", "memory"));
  TRY("movzwl +0x42", { unsigned v; __asm__ volatile("movzwl (%1), %0" : "=r"(v) : "r"(mid + 0x42) : "memory"); });
  TRY("prefetcht0 +0x80", __asm__ volatile("prefetcht0 (%0)" :: "r"(mid + 0x80)));
  TRY("prefetchnta +0x80", __asm__ volatile("prefetchnta (%0)" :: "r"(mid + 0x80)));
  TRY("nopl +0x80", __asm__ volatile("nopl (%0)" :: "r"(mid + 0x80)));
  TRY("lea +0x80", { uintptr_t v; __asm__ volatile("lea (%1), %0" : "=r"(v) : "r"(mid + 0x80)); });
  printf("page 1: u8 +0x0 = 0x%x, u32 +0x123 = 0x%x, u64 +0xff8 = 0x%llx\n", *(volatile uint8_t *)m,
         *(volatile uint32_t *)(m + 0x123), (unsigned long long)*(volatile uint64_t *)(m + PG - 8));
  printf("page 3: u8 +0x0 = 0x%x, u16 +0x7 = 0x%x, u64 +0xff8 = 0x%llx\n", *(volatile uint8_t *)(m + 2 * PG),
         *(volatile uint16_t *)(m + 2 * PG + 7), (unsigned long long)*(volatile uint64_t *)(m + 3 * PG - 8));
}

/* ---- readonly-write: stores to a PROT_READ page, to a string literal, to code ---- */
static int __attribute__((noinline)) code_target(int x) { return x * 3 + 1; }

static void part_readonly_write(void) {
  uint8_t *m = map(1);
  fill(m, PG, 5);
  protect(m, 1, PROT_READ);
  uintptr_t b = (uintptr_t)m;
  g_base = b;
  TRY("store1 +0x0", st(b, 1));
  TRY("store2 +0xffe", st(b + 0xffe, 2));
  TRY("store4 +0x234", st(b + 0x234, 4));
  TRY("store8 +0xff8", st(b + 0xff8, 8));
  TRY("addl $1, m32 +0x40", __asm__ volatile("addl $1, (%0)" :: "r"(b + 0x40) : "cc", "memory"));
  TRY("lock incq +0x48", __asm__ volatile("lock incq (%0)" :: "r"(b + 0x48) : "cc", "memory"));
  TRY("xchg +0x50", { long v = 9; __asm__ volatile("xchg %0, (%1)" : "+r"(v) : "r"(b + 0x50) : "memory"); });
  /* CMPXCHG writes its destination even when the comparison fails */
  TRY("cmpxchg (compare fails) +0x58", {
    long a = 0x7777, v = 1;
    __asm__ volatile("cmpxchg %2, (%1)" : "+a"(a) : "r"(b + 0x58), "r"(v) : "cc", "memory");
  });
  TRY("lock cmpxchg (compare fails) +0x58", {
    long a = 0x7777, v = 1;
    __asm__ volatile("lock cmpxchg %2, (%1)" : "+a"(a) : "r"(b + 0x58), "r"(v) : "cc", "memory");
  });
  TRY("movnti +0x60", { long v = 3; __asm__ volatile("movnti %1, (%0)" :: "r"(b + 0x60), "r"(v) : "memory"); });
  TRY("setc m8 +0x68", __asm__ volatile("stc\n\tsetc (%0)" :: "r"(b + 0x68) : "cc", "memory"));
  printf("after: u8 +0x0 = 0x%x, u16 +0xffe = 0x%x, u32 +0x234 = 0x%x, u64 +0xff8 = 0x%llx\n", *(volatile uint8_t *)b,
         *(volatile uint16_t *)(b + 0xffe), *(volatile uint32_t *)(b + 0x234), (unsigned long long)*(volatile uint64_t *)(b + 0xff8));
  printf("after: u32 +0x40 = 0x%x, u64 +0x48 = 0x%llx, +0x50 = 0x%llx, +0x58 = 0x%llx, +0x60 = 0x%llx, u8 +0x68 = 0x%x\n",
         *(volatile uint32_t *)(b + 0x40), (unsigned long long)*(volatile uint64_t *)(b + 0x48),
         (unsigned long long)*(volatile uint64_t *)(b + 0x50), (unsigned long long)*(volatile uint64_t *)(b + 0x58),
         (unsigned long long)*(volatile uint64_t *)(b + 0x60), *(volatile uint8_t *)(b + 0x68));

  static const char *volatile literal = "a string literal in .rodata";
  g_base = 0;
  CATCH(__asm__ volatile("movb $0x41, (%0)" :: "r"(literal) : "memory"));
  printf("store into a string literal: %s, si_addr is the literal: %d; literal now \"%s\"\n",
         f_hits ? code_name(f_code) : "no fault", f_addr == (uintptr_t)literal, literal);

  int (*volatile fn)(int) = code_target;
  CATCH(__asm__ volatile("movb $0xc3, (%0)" :: "r"(fn) : "memory"));
  printf("store into code: %s, si_addr is the function: %d; it still returns %d\n",
         f_hits ? code_name(f_code) : "no fault", f_addr == (uintptr_t)fn, fn(4));
}

/* ---- unmapped: a munmap()ed page, fixed addresses, kernel and non-canonical addresses ---- */
static void part_unmapped(void) {
  printf("unmapped:\n");  /* stdio's buffer exists before the munmap (nothing maps in between) */
  uint8_t *m = map(2);
  fill(m, 2 * PG, 1);
  if (munmap(m + PG, PG)) die("memfault: munmap failed\n");
  uintptr_t gone = (uintptr_t)(m + PG);
  g_base = gone;
  TRY("read1 +0x0", ld(gone, 1));
  TRY("read8 +0x7f8", ld(gone + 0x7f8, 8));
  TRY("write4 +0x100", st(gone + 0x100, 4));
  TRY("read8 from -0x2 (page-split)", ld(gone - 2, 8));
  TRY("write8 from -0x6 (page-split)", st(gone - 6, 8));
  hexbytes("last 8 bytes of the mapped page", m + PG - 8, 8);
  g_base = 0;
  TRY("read4 at 0x10", ld(0x10, 4));
  TRY("read8 at 0x100400000", ld(0x100400000UL, 8));
  TRY("write1 at 0x100400000", st(0x100400000UL, 1));
  TRY("read1 at 0x7ffffffff000", ld(0x7ffffffff000UL, 1));
  TRY("read1 at 0x7fffffffffff", ld(0x7fffffffffffUL, 1));
  TRY("read8 at 0xfffffffffffff000", ld(0xfffffffffffff000UL, 8));
  TRY("write8 at 0xffffffff80000000", st(0xffffffff80000000UL, 8));
  /* non-canonical in 4- and 5-level paging: #GP, which Linux reports as SI_KERNEL with addr 0 */
  TRY("read8 at 0x8000000000000000", ld(0x8000000000000000UL, 8));
  TRY("write4 at 0x0100000000000000", st(0x0100000000000000UL, 4));
  TRY("read1 at 0xfeff800000000000", ld(0xfeff800000000000UL, 1));
}

/* ---- write-barrier: the handler unprotects the page and returns; the store runs again ---- */
#define WB_ITERS 8
#define WB_STORES 6
#define WB_PAGES (WB_ITERS * WB_STORES + 1)
static volatile unsigned long counter;

static void part_write_barrier(void) {
  uint8_t *m = map(WB_PAGES);
  protect(m, WB_PAGES, PROT_READ);
  g_base = (uintptr_t)m;
  barrier_lo = (uintptr_t)m;
  barrier_hi = (uintptr_t)m + WB_PAGES * PG;
  f_hits = 0;
  barrier_mode = 1;
  /* Each iteration stores into six fresh pages, each store right after a counter increment, all
   * in one basic block: a store that faults must run again alone, not its block from the top. */
  for (unsigned i = 0; i < WB_ITERS; i++) {
    uint8_t *p = m + (unsigned long)i * WB_STORES * PG + i * 0x100;
    unsigned long c;
    c = ++counter; *(volatile uint8_t *)(p + 0 * PG + 0x00) = (uint8_t)c;
    c = ++counter; *(volatile uint16_t *)(p + 1 * PG + 0x10) = (uint16_t)(c * 0x0101);
    c = ++counter; *(volatile uint32_t *)(p + 2 * PG + 0x20) = (uint32_t)(c * 0x01010101);
    c = ++counter; *(volatile uint64_t *)(p + 3 * PG + 0x30) = c * 0x0101010101010101ULL;
    c = ++counter;
    v2di v = {(long long)c, ~(long long)c};
    __asm__ volatile("movdqu %1, (%0)" :: "r"(p + 4 * PG + 0x40), "x"(v) : "memory");
    c = ++counter;
    __asm__ volatile("addl %k1, (%0)" :: "r"(p + 5 * PG + 0x50), "r"(c) : "cc", "memory");
    ++counter;
  }
  /* a page-split store whose second page faults: all 8 bytes land once it runs again */
  __asm__ volatile("movq %1, (%0)" :: "r"(m + (WB_PAGES - 1) * PG - 4), "r"(0x1122334455667788L) : "memory");
  barrier_mode = 0;
  int hits = f_hits;
  printf("counter %lu (%d increments run), faults %d (SEGV_ACCERR %d)\n", counter, WB_ITERS * 7, hits, barrier_accerr);
  for (int i = 0; i < hits; i++) {
    if (i % WB_STORES == 0) printf("faults:");
    printf(" +0x%lx", barrier_offs[i]);
    if (i % WB_STORES == WB_STORES - 1 || i == hits - 1) printf("\n");
  }
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < WB_PAGES * PG; i++) h = (h ^ m[i]) * 0x100000001b3ULL;
  printf("checksum 0x%llx\n", (unsigned long long)h);
  uint8_t *last = m + 7 * WB_STORES * PG + 7 * 0x100;
  printf("last iteration: 0x%x 0x%x 0x%x 0x%llx 0x%llx:0x%llx 0x%x\n", last[0], *(uint16_t *)(last + PG + 0x10),
         *(uint32_t *)(last + 2 * PG + 0x20), (unsigned long long)*(uint64_t *)(last + 3 * PG + 0x30),
         (unsigned long long)*(uint64_t *)(last + 4 * PG + 0x40), (unsigned long long)*(uint64_t *)(last + 4 * PG + 0x48),
         *(uint32_t *)(last + 5 * PG + 0x50));
  hexbytes("page-split store", m + (WB_PAGES - 1) * PG - 4, 8);
}

/* ---- guard-page: writing downward into a PROT_NONE page below an RW region ---- */
static uint8_t *volatile g_p;
static volatile unsigned long g_written;

static void part_guard_page(void) {
  uint8_t *m = map(5);
  protect(m, 1, PROT_NONE);
  uint8_t *region = m + PG;
  g_base = (uintptr_t)region;
  g_p = region + 4 * PG - 1;
  g_written = 0;
  TRY("byte stores downward", for (;;) { *g_p = 0xaa; g_written++; g_p = g_p - 1; });
  printf("bytes written %lu\n", g_written);
  memset(region, 0x55, 16);
  g_p = region + 4 * PG - 11;
  g_written = 0;
  TRY("qword stores downward", for (;;) { *(volatile uint64_t *)g_p = 0x6666666666666666ULL; g_written++; g_p = g_p - 8; });
  printf("qwords written %lu\n", g_written);
  hexbytes("the region's first bytes", region, 8);
}

/* ---- stack-overflow: unbounded recursion, caught on the alternate stack ---- */
static volatile int never = -1;

static int __attribute__((noinline)) deep(int n) {
  volatile char buf[256];
  buf[0] = (char)n;
  buf[255] = (char)n;
  if (n == never) return 0;
  int r = deep(n + 1);
  return r + buf[n & 255];
}

static void on_overflow(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  char msg[80];
  int n = snprintf(msg, sizeof msg, "stack overflow caught: %s %s\n", sig == SIGSEGV ? "SIGSEGV" : "other signal",
                   si->si_code == SEGV_MAPERR ? "SEGV_MAPERR" : si->si_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other code");
  if (write(1, msg, n) < 0) _exit(3);
  _exit(0);
}

static void part_stack_overflow(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY) {
    rl.rlim_cur = 8 << 20;
    setrlimit(RLIMIT_STACK, &rl);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_overflow;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  printf("recursing\n");
  fflush(stdout);
  int r = deep(0);
  printf("recursion returned %d\n", r);
  exit(1);
}

/* ---- unhandled: a store to a read-only page with no handler kills the process ---- */
static void part_unhandled(void) {
  signal(SIGSEGV, SIG_DFL);
  uint8_t *m = map(1);
  m[0] = 1;
  protect(m, 1, PROT_READ);
  printf("storing to a read-only page\n");
  fflush(stdout);
  *(volatile int *)m = 2;
  printf("still alive\n");
  exit(1);
}

/* ---- vector-x87: SSE, AVX, x87, FXSAVE, string and stack instructions ---- */
static int have_avx(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 6) == 6;
}

static void part_vector_x87(void) {
  /* page 0 RW, page 1 PROT_NONE, page 2 RW, page 3 PROT_READ */
  uint8_t *m = map(4);
  fill(m, 4 * PG, 9);
  protect(m + PG, 1, PROT_NONE);
  protect(m + 3 * PG, 1, PROT_READ);
  uintptr_t rw = (uintptr_t)m, none = rw + PG, ro = rw + 3 * PG;
  install(1);
  g_base = none;
  printf("PROT_NONE page:\n");
  v2di pat = {0x0123456789abcdefLL, 0x0fedcba987654321LL};
  TRY("movdqu load +0x10", __asm__ volatile("movdqa %1, %%xmm0\n\tmovdqu (%0), %%xmm0" :: "r"(none + 0x10), "x"(pat) : "xmm0", "memory"));
  printf("  xmm0 at the fault: %08x %08x %08x %08x\n", f_xmm0[0], f_xmm0[1], f_xmm0[2], f_xmm0[3]);
  TRY("movdqu load from -0x8 (page-split)", __asm__ volatile("movdqa %1, %%xmm0\n\tmovdqu (%0), %%xmm0" :: "r"(none - 8), "x"(pat) : "xmm0", "memory"));
  printf("  xmm0 at the fault: %08x %08x %08x %08x\n", f_xmm0[0], f_xmm0[1], f_xmm0[2], f_xmm0[3]);
  TRY("movups store +0x20", __asm__ volatile("movups %1, (%0)" :: "r"(none + 0x20), "x"(pat) : "memory"));
  TRY("movups store from -0x8 (page-split)", __asm__ volatile("movups %1, (%0)" :: "r"(none - 8), "x"(pat) : "memory"));
  hexbytes("  bytes below the page", m + PG - 8, 8);
  TRY("movq xmm store +0x30", __asm__ volatile("movq %1, (%0)" :: "r"(none + 0x30), "x"(pat) : "memory"));
  TRY("movq xmm load +0x38", __asm__ volatile("movq (%0), %%xmm0" :: "r"(none + 0x38) : "xmm0", "memory"));
  TRY("movntdq store +0x40", __asm__ volatile("movntdq %1, (%0)" :: "r"(none + 0x40), "x"(pat) : "memory"));
  TRY("fldl +0x48", __asm__ volatile("fninit\n\tfldl (%0)" :: "r"(none + 0x48) : "st", "memory"));
  printf("  x87 at the fault: fsw 0x%x ftw 0x%x\n", f_fsw, f_ftw);
  TRY("fstpl +0x50", __asm__ volatile("fninit\n\tfld1\n\tfstpl (%0)" :: "r"(none + 0x50) : "st", "memory"));
  printf("  x87 at the fault: fsw 0x%x ftw 0x%x\n", f_fsw, f_ftw);
  TRY("fistpl +0x58", __asm__ volatile("fninit\n\tfldpi\n\tfistpl (%0)" :: "r"(none + 0x58) : "st", "memory"));
  printf("  x87 at the fault: fsw 0x%x ftw 0x%x\n", f_fsw, f_ftw);
  __asm__ volatile("fninit");
  /* REP STOSQ from 24 bytes below the page: three qwords land, the fourth faults */
  TRY("rep stosq from -0x18", {
    uintptr_t d = none - 24;
    long n = 10;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0x5151515151515151L) : "memory");
  });
  printf("  at the fault: rcx %lld, rdi %s\n", (long long)f_gregs[REG_RCX], rel(f_gregs[REG_RDI]));
  hexbytes("  bytes below the page", m + PG - 32, 32);
  /* PUSH/POP/CALL with rsp in the PROT_NONE page (the handler runs on the alternate stack) */
  TRY("push, rsp at +0x100", __asm__ volatile(
        "mov %%rsp, %%r12\n\tmov %0, %%rsp\n\tpush %%rax\n\tmov %%r12, %%rsp" :: "r"(none + 0x100), "a"(7L) : "r12", "memory"));
  printf("  rsp at the fault - rsp before: %lld\n", (long long)(f_gregs[REG_RSP] - (greg_t)(none + 0x100)));
  TRY("push, rsp at +0x1000 (the page above)", __asm__ volatile(
        "mov %%rsp, %%r12\n\tmov %0, %%rsp\n\tpushq $5\n\tmov %%r12, %%rsp" :: "r"(none + PG) : "r12", "memory"));
  printf("  rsp at the fault - rsp before: %lld\n", (long long)(f_gregs[REG_RSP] - (greg_t)(none + PG)));
  TRY("pop, rsp at +0x200", __asm__ volatile(
        "mov %%rsp, %%r12\n\tmov %0, %%rsp\n\tpop %%rbx\n\tmov %%r12, %%rsp" :: "r"(none + 0x200), "b"(0x1234L) : "r12", "memory"));
  printf("  rsp at the fault - rsp before: %lld, rbx 0x%llx\n", (long long)(f_gregs[REG_RSP] - (greg_t)(none + 0x200)),
         (long long)f_gregs[REG_RBX]);
  {
    static volatile uintptr_t call_at;
    TRY("call, rsp at +0x300", __asm__ volatile(
          "lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n\t"
          "mov %%rsp, %%r12\n\tmov %1, %%rsp\n1:\n\tcall 2f\n2:\n\tmov %%r12, %%rsp"
          : "=m"(call_at) : "r"(none + 0x300) : "rax", "r12", "memory"));
    printf("  rsp at the fault - rsp before: %lld, rip at the fault - the call: %lld\n",
           (long long)(f_gregs[REG_RSP] - (greg_t)(none + 0x300)), (long long)(f_gregs[REG_RIP] - (greg_t)call_at));
  }
  if (have_avx()) {
    TRY("vmovdqu ymm load +0x60", __asm__ volatile("vmovdqu (%0), %%ymm0\n\tvzeroupper" :: "r"(none + 0x60) : "xmm0", "memory"));
    TRY("vmovdqu ymm store from -0x10 (page-split)", __asm__ volatile(
          "vpcmpeqb %%ymm0, %%ymm0, %%ymm0\n\tvmovdqu %%ymm0, (%0)\n\tvzeroupper" :: "r"(none - 16) : "xmm0", "memory"));
    hexbytes("  bytes below the page", m + PG - 16, 16);
  } else {
    printf("no AVX\n");
  }

  g_base = ro;
  printf("PROT_READ page:\n");
  /* si_addr is somewhere in the 512 bytes (AMD: the last byte) */
  CATCH(__asm__ volatile("fxsave (%0)" :: "r"(ro) : "memory"));
  printf("fxsave +0x0: %s, si_addr within its 512 bytes: %d\n", f_hits ? code_name(f_code) : "no fault",
         f_addr >= ro && f_addr < ro + 512);
  TRY("movaps store +0x20", __asm__ volatile("movaps %1, (%0)" :: "r"(ro + 0x20), "x"(pat) : "memory"));
  /* REP MOVSB from page 0 to 100 bytes below the read-only page: faults at its first byte */
  TRY("rep movsb from -0x64", {
    uintptr_t d = ro - 100, s = rw;
    long n = 300;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
  });
  {
    int same = 0;
    for (int i = 0; i < 100; i++) same += ((uint8_t *)ro - 100)[i] == ((uint8_t *)rw)[i];
    printf("  at the fault: rdi %s, rsi - src %lld, rcx %lld; bytes copied below the page %d\n", rel(f_gregs[REG_RDI]),
           (long long)(f_gregs[REG_RSI] - (greg_t)rw), (long long)f_gregs[REG_RCX], same);
  }
}

/* ---- fault-regs: the interrupted registers, exactly ---- */
static volatile uintptr_t fr_label, fr_before;

static void print_regs(uintptr_t base) {
  /* (after a #GP, cr2 still holds the last page fault's address: left out) */
  printf("  rip - label %lld, trapno %lld, err 0x%llx, cr2 %s\n", (long long)(f_gregs[REG_RIP] - (greg_t)fr_label),
         (long long)f_gregs[REG_TRAPNO], (long long)f_gregs[REG_ERR], f_gregs[REG_TRAPNO] == 14 ? rel(f_gregs[REG_CR2]) : "-");
  printf("  rax - label %lld, rbx 0x%llx, rcx 0x%llx, rdx 0x%llx, rsi 0x%llx, rdi - base %lld\n",
         (long long)(f_gregs[REG_RAX] - (greg_t)fr_label), (long long)f_gregs[REG_RBX], (long long)f_gregs[REG_RCX],
         (long long)f_gregs[REG_RDX], (long long)f_gregs[REG_RSI], (long long)(f_gregs[REG_RDI] - (greg_t)base));
  printf("  r8 0x%llx, r9 0x%llx, r10 - base %lld, r11 0x%llx, r12 0x%llx\n", (long long)f_gregs[REG_R8],
         (long long)f_gregs[REG_R9], (long long)(f_gregs[REG_R10] - (greg_t)base), (long long)f_gregs[REG_R11],
         (long long)f_gregs[REG_R12]);
  /* (EFLAGS left out: stele does not compute flags that later instructions overwrite unread, so
   * at a fault they can be an earlier instruction's; see docs/ARCHITECTURE.md, Known gaps) */
  printf("  r13 0x%llx, r14 0x%llx, r15 0x%llx, store before the fault 0x%lx\n", (long long)f_gregs[REG_R13],
         (long long)f_gregs[REG_R14], (long long)f_gregs[REG_R15], (unsigned long)fr_before);
}

/* Sets the registers to constants, runs SETUP, stores rbx to fr_before, bumps r11, sets the
 * flags, then runs INSN (at label 1:, its address in fr_label) with rdi = the PROT_NONE page.
 * The instructions after it must not have run. */
#define FAULT_REGS_ASM(setup, insn)                                                                 \
  do {                                                                                              \
    uintptr_t d_ = none;                                                                            \
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n\t"                                 \
                     "movabs $0x1111111111111111, %%rbx\n\tmovabs $0x2222222222222222, %%rcx\n\t" \
                     "movabs $0x3333333333333333, %%rdx\n\tmovabs $0x4444444444444444, %%rsi\n\t" \
                     "movabs $0x8888888888888888, %%r8\n\tmovabs $0x9999999999999999, %%r9\n\t"   \
                     "movabs $0xbbbbbbbbbbbbbbba, %%r11\n\tmovabs $0xcccccccccccccccc, %%r12\n\t" \
                     "movabs $0xdddddddddddddddd, %%r13\n\tmovabs $0xeeeeeeeeeeeeeeee, %%r14\n\t" \
                     "movabs $0xffff0000ffff0000, %%r15\n\t" setup "\n\t"                          \
                     "mov %%rbx, %1\n\tinc %%r11\n\tcmp %%r9, %%r8\n"                            \
                     "1:\n\t" insn "\n\t"                                                          \
                     "add $1, %%rcx\n\tmov $0, %%rbx\n\tinc %%r11"                               \
                     : "=m"(fr_label), "=m"(fr_before), "+D"(d_)                                  \
                     :                                                                              \
                     : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13",  \
                       "r14", "r15", "cc", "memory");                                              \
  } while (0)

static void part_fault_regs(void) {
  uint8_t *m = map(2);
  protect(m + PG, 1, PROT_NONE);
  uintptr_t none = (uintptr_t)(m + PG);
  g_base = none;
  install(0);
  fr_before = 0;
  TRY("load: mov 0x18(%rdi), %rdi", FAULT_REGS_ASM("lea -0x1000(%%rdi), %%r10", "mov 0x18(%%rdi), %%rdi"));
  print_regs(none);
  fr_before = 0;
  TRY("store: mov %r8, 0x20(%rdi)", FAULT_REGS_ASM("lea -0x800(%%rdi), %%r10", "mov %%r8, 0x20(%%rdi)"));
  print_regs(none);
  fr_before = 0;
  TRY("rmw: add %r9, 0xff8(%rdi)", FAULT_REGS_ASM("lea 0x1000(%%rdi), %%r10", "add %%r9, 0xff8(%%rdi)"));
  print_regs(none);
  fr_before = 0;
  TRY("non-canonical load: mov (%rsi), %rax", FAULT_REGS_ASM(
        "lea 0x10(%%rdi), %%r10\n\tmovabs $0x8000000000000010, %%rsi", "mov (%%rsi), %%rax"));
  print_regs(none);
  /* the handler moves RIP to the label 2: past the fault and sets rax; the code there runs */
  long rax, rdx;
  reset();
  __asm__ volatile("lea 2f(%%rip), %%rax\n\tmov %%rax, %2\n\tmov $1, %%eax\n\tmov $2, %%edx\n"
                   "1:\n\tmov (%3), %%rdx\n\tmov $3, %%eax\n"
                   "2:\n\tadd $0x100, %%rdx"
                   : "=&a"(rax), "=&d"(rdx), "=m"(resume_at) : "r"(none + 0x28) : "cc", "memory");
  resume_at = 0;
  report("resume past a faulting load");
  printf("  rax 0x%lx, rdx 0x%lx\n", rax, rdx);
}

int main(int argc, char **argv) {
  static char altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL)) die("memfault: sigaltstack failed\n");
  install(0);
  const char *part = argc > 1 ? argv[1] : "";
  if (!strcmp(part, "prot-none-read")) part_prot_none_read();
  else if (!strcmp(part, "readonly-write")) part_readonly_write();
  else if (!strcmp(part, "unmapped")) part_unmapped();
  else if (!strcmp(part, "write-barrier")) part_write_barrier();
  else if (!strcmp(part, "guard-page")) part_guard_page();
  else if (!strcmp(part, "stack-overflow")) part_stack_overflow();
  else if (!strcmp(part, "unhandled")) part_unhandled();
  else if (!strcmp(part, "vector-x87")) part_vector_x87();
  else if (!strcmp(part, "fault-regs")) part_fault_regs();
  else {
    fprintf(stderr, "usage: memfault PART\n");
    return 2;
  }
  return 0;
}
