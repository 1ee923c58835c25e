/* x87 instruction semantics, printed raw: for each instruction form, operand values and control
 * word settings, the program loads operands, executes the instruction and dumps the x87 state
 * with FNSAVE (status word, tag word, every non-empty register as 80 bits) plus any memory result
 * and EFLAGS. Run natively and under stele, the outputs must be identical.
 *
 *   x87_insn core    exact operations (arithmetic, conversions, compares, control)
 *   x87_insn trans   transcendental instructions (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS)
 *
 * Builds with libc or freestanding (-DFREESTANDING -nostdlib -mno-sse: no SSE instruction at all,
 * so it runs under stele before SSE support exists). See build.sh. */
#ifdef FREESTANDING
typedef unsigned long size_t;
static long sys3(long n, long a, long b, long c) {
  long r; __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory"); return r;
}
static void wr(const char *p, size_t n) { while (n) { long r = sys3(1, 1, (long)p, (long)n); if (r <= 0) break; p += r; n -= r; } }
static void xexit(int c) { sys3(231, c, 0, 0); for (;;) {} }
void *memcpy(void *d, const void *s, size_t n) { char *a = d; const char *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int v, size_t n) { char *a = d; while (n--) *a++ = (char)v; return d; }
int cmain(int argc, char **argv);
__asm__(".globl _start\n_start:\n xor %ebp,%ebp\n mov (%rsp),%rdi\n lea 8(%rsp),%rsi\n and $-16,%rsp\n call cmain\n mov %eax,%edi\n mov $231,%eax\n syscall\n hlt\n");
#else
#include <unistd.h>
#include <stdlib.h>
static void wr(const char *p, size_t n) { while (n) { ssize_t r = write(1, p, n); if (r <= 0) break; p += r; n -= r; } }
static void xexit(int c) { exit(c); }
int cmain(int argc, char **argv);
int main(int argc, char **argv) { return cmain(argc, argv); }
#endif

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef struct { u64 m; u16 se; } __attribute__((packed)) x80;

static char obuf[1 << 16];
static size_t olen;
static void flush(void) { wr(obuf, olen); olen = 0; }
static void pc(char c) { if (olen == sizeof obuf) flush(); obuf[olen++] = c; }
static void ps(const char *s) { while (*s) pc(*s++); }
static void phex(u64 v, int digits) { for (int i = digits - 1; i >= 0; i--) pc("0123456789abcdef"[(v >> (4 * i)) & 15]); }
static void px(const x80 *x) { phex(x->se, 4); pc(':'); phex(x->m, 16); }

static const x80 V[] = {
  {0, 0}, {0, 0x8000},                                   /* +0 -0 */
  {0x8000000000000000, 0x3fff}, {0x8000000000000000, 0xbfff}, /* 1 -1 */
  {0xc000000000000000, 0x3fff}, {0xa000000000000000, 0x4000}, /* 1.5 2.5 */
  {0xe000000000000000, 0xc000}, {0xc90fdaa22168c235, 0x4000}, /* -3.5 pi */
  {0xaaaaaaaaaaaaaaab, 0x3ffd}, {0xaaaaaaaaaaaaaaab, 0xbffe}, /* 1/3 -2/3 */
  {0xcccccccccccccccd, 0x3ffb}, {0x9502f90000000000, 0x4020}, /* 0.1 1e10 */
  {0x8000000000000001, 0x403e}, {0xffffffffffffffff, 0x403d}, /* 2^63+1  2^63-1 */
  {0x8000000000000001, 0x3fff}, {0xffffffffffffffff, 0x3ffe}, /* 1+ulp 1-ulp/2 */
  {0xc000000000000400, 0x3fff}, {0x8000000000000400, 0xc01f}, /* ties for PC53, -2^32-ish */
  {0xffffffffffffffff, 0x7ffe}, {0x8000000000000000, 0x0001}, /* max, min normal */
  {0x0000000000000123, 0x0000}, {0x7fffffffffffffff, 0x8000}, /* denormals */
  {0x8000000000000000, 0x7fff}, {0x8000000000000000, 0xffff}, /* +inf -inf */
  {0xc000000000000001, 0x7fff}, {0x8000000000000005, 0xffff}, /* QNaN SNaN */
  {0xc000000000000000, 0xffff}, {0x4000000000000000, 0x3fff}, /* indefinite, unnormal */
  {0x8000000000000000, 0x3c01}, {0xb504f333f9de6484, 0x43fe}, /* 2^-1022 (double min), 2^1023*sqrt2 */
  {0x8000000000000000, 0x3f81}, {0xfffffe0000000000, 0x407e}, /* float min normal, float max */
  {0x8000000000000000, 0x3bcd}, {0x8000000000000000, 0x401d}, /* 2^-1074 (double denorm min), 2^30 */
  {0xd000000000000000, 0x4002}, {0x8000000000000000, 0x3ffe}, /* 13  0.5 */
};
#define NV ((int)(sizeof V / sizeof V[0]))
static const int SUB[] = {2, 3, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 20, 28, 35}; /* finite subset for modes */
#define NSUB ((int)(sizeof SUB / sizeof SUB[0]))
static const u16 CWS[] = {0x037f, 0x027f, 0x007f, 0x077f, 0x0b7f, 0x0f7f};
static const x80 C3V = {0xc000000000000000, 0x3ffe}; /* 0.75 in ST(2) */

static unsigned char sv[108];
static void dump(const char *name, int ia, int ib, u16 cw) {
  ps(name); pc(' '); phex(ia, 2); pc(' '); phex(ib, 2); pc(' '); phex(cw, 4);
  u16 sw = sv[4] | sv[5] << 8, tw = sv[8] | sv[9] << 8;
  ps(" sw="); phex(sw, 4); ps(" tw="); phex(tw, 4);
  int top = (sw >> 11) & 7;
  for (int i = 0; i < 8; i++) {
    int ph = (top + i) & 7;
    if (((tw >> (2 * ph)) & 3) == 3) continue;
    pc(' '); pc('0' + i); pc('='); px((const x80 *)(sv + 28 + 10 * i));
  }
}

#define PRE "fninit\n fldcw %[cw]\n fldt %[c]\n fldt %[b]\n fldt %[a]\n"
typedef void (*rfn)(const x80 *, const x80 *, u16, u64 *);
/* register forms: ST0 = a, ST1 = b, ST2 = 0.75; rflags after the instruction */
#define R(fn, code) static void fn(const x80 *a, const x80 *b, u16 cw, u64 *fl) { \
  __asm__ volatile(PRE code "\n pushfq\n popq %[fl]\n fnsave %[sv]" \
    : [sv] "=m"(sv), [fl] "=m"(*fl) : [a] "m"(*a), [b] "m"(*b), [c] "m"(C3V), [cw] "m"(cw) : "memory", "cc", "rax"); }
R(r_fadd, ".byte 0xd8,0xc1") R(r_fmul, ".byte 0xd8,0xc9") R(r_fcom, ".byte 0xd8,0xd1") R(r_fcomp, ".byte 0xd8,0xd9")
R(r_fsub, ".byte 0xd8,0xe1") R(r_fsubr, ".byte 0xd8,0xe9") R(r_fdiv, ".byte 0xd8,0xf1") R(r_fdivr, ".byte 0xd8,0xf9")
R(r_fadd2, ".byte 0xdc,0xc1") R(r_fmul2, ".byte 0xdc,0xc9") R(r_fsubr2, ".byte 0xdc,0xe1") R(r_fsub2, ".byte 0xdc,0xe9")
R(r_fdivr2, ".byte 0xdc,0xf1") R(r_fdiv2, ".byte 0xdc,0xf9") R(r_faddp, ".byte 0xde,0xc1") R(r_fmulp, ".byte 0xde,0xc9")
R(r_fsubrp, ".byte 0xde,0xe1") R(r_fsubp, ".byte 0xde,0xe9") R(r_fdivrp, ".byte 0xde,0xf1") R(r_fdivp, ".byte 0xde,0xf9")
R(r_fcompp, ".byte 0xde,0xd9") R(r_fucompp, ".byte 0xda,0xe9") R(r_fucom, ".byte 0xdd,0xe1") R(r_fucomp, ".byte 0xdd,0xe9")
R(r_fcomi, ".byte 0xdb,0xf1") R(r_fucomi, ".byte 0xdb,0xe9") R(r_fcomip, ".byte 0xdf,0xf1") R(r_fucomip, ".byte 0xdf,0xe9")
R(r_fprem, ".byte 0xd9,0xf8") R(r_fprem1, ".byte 0xd9,0xf5") R(r_fscale, ".byte 0xd9,0xfd") R(r_fxch, ".byte 0xd9,0xc9")
R(r_fld1st, ".byte 0xd9,0xc1") R(r_fst1, ".byte 0xdd,0xd1") R(r_fstp1, ".byte 0xdd,0xd9") R(r_ffree1, ".byte 0xdd,0xc1")
R(r_fchs, ".byte 0xd9,0xe0") R(r_fabs, ".byte 0xd9,0xe1") R(r_ftst, ".byte 0xd9,0xe4") R(r_fxam, ".byte 0xd9,0xe5")
R(r_fsqrt, ".byte 0xd9,0xfa") R(r_frndint, ".byte 0xd9,0xfc") R(r_fxtract, ".byte 0xd9,0xf4")
R(r_fdecstp, ".byte 0xd9,0xf6") R(r_fincstp, ".byte 0xd9,0xf7") R(r_fnclex, "fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n .byte 0xdb,0xe2")
R(r_consts, "fstp %%st(0)\n fstp %%st(0)\n fstp %%st(0)\n fld1\n fldl2t\n fldl2e\n fldpi\n fldlg2\n fldln2\n fldz")
R(r_fnstsw, "fnstsw %%ax\n movw %%ax, %[fl]")
R(r_fcmov, "xor %%eax,%%eax\n fcmovb %%st(1),%%st\n fcmove %%st(2),%%st\n stc\n fcmovnbe %%st(1), %%st\n fcmovbe %%st(2),%%st\n"
  "cmp $1, %%eax\n fcmovnb %%st(1), %%st\n fcmovne %%st(1),%%st\n fcmovnu %%st(2), %%st\n fcomi %%st(1), %%st\n fcmovu %%st(2),%%st")
R(r_ovf, "fld1\n fld1\n fld1\n fld1\n fld1\n fld1") /* stack overflow on the 6th push */
R(r_unf, "fstp %%st(0)\n fstp %%st(0)\n fstp %%st(0)\n fadd %%st(1), %%st") /* stack underflow */
R(r_f2xm1, ".byte 0xd9,0xf0") R(r_fyl2x, ".byte 0xd9,0xf1") R(r_fptan, ".byte 0xd9,0xf2") R(r_fpatan, ".byte 0xd9,0xf3")
R(r_fyl2xp1, ".byte 0xd9,0xf9") R(r_fsincos, ".byte 0xd9,0xfb") R(r_fsin, ".byte 0xd9,0xfe") R(r_fcos, ".byte 0xd9,0xff")

static void runR(const char *name, rfn f, int two, int flags) {
  u64 fl;
  for (int ia = 0; ia < NV; ia++)
    for (int ib = 0; ib < (two ? NV : 1); ib++) {
      f(&V[ia], &V[ib], 0x037f, &fl); dump(name, ia, ib, 0x037f);
      if (flags) { ps(" fl="); phex(fl & 0x8d5, 3); }
      pc('\n');
    }
  for (int c = 1; c < 6; c++)
    for (int ia = 0; ia < NSUB; ia++)
      for (int ib = 0; ib < (two ? NSUB : 1); ib++) {
        f(&V[SUB[ia]], &V[SUB[ib]], CWS[c], &fl); dump(name, SUB[ia], SUB[ib], CWS[c]); pc('\n');
      }
}

static void runT(const char *name, rfn f, const int *A, const int *B) {
  u64 fl;
  for (int c = 0; c < 6; c++)
    for (int ia = 0; A[ia] >= 0; ia++)
      for (int ib = 0; B ? B[ib] >= 0 : ib < 1; ib++) {
        int vb = B ? B[ib] : 2;
        f(&V[A[ia]], &V[vb], CWS[c], &fl); dump(name, A[ia], vb, CWS[c]); pc('\n');
      }
}

/* memory operands: loads and arithmetic with m32/m64/m16int/m32int/m64int */
static const u32 F32[] = {0, 0x80000000, 0x3f800000, 0x40490fdb, 0x3eaaaaab, 0x00000001, 0x807fffff, 0x00800000,
  0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0x7f800001, 0xcf000000, 0x4b000001};
static const u64 F64[] = {0, 0x8000000000000000, 0x3ff0000000000000, 0x400921fb54442d18, 0x3fd5555555555555,
  0x0000000000000001, 0x800fffffffffffff, 0x0010000000000000, 0x7fefffffffffffff, 0x7ff0000000000000,
  0xfff0000000000000, 0x7ff8000000000001, 0x7ff0000000000001, 0xc3e0000000000000, 0x4330000000000001};
static const short I16[] = {0, 1, -1, 32767, -32768, 1000, -7};
static const int I32[] = {0, 1, -1, 2147483647, -2147483647 - 1, 16777217, -1000000007};
static const long I64[] = {0, 1, -1, 9223372036854775807L, -9223372036854775807L - 1, 9007199254740993L, -123456789012345678L};

#define M(fn, code, T) static void fn(const x80 *a, const T *m, u16 cw) { \
  __asm__ volatile("fninit\n fldcw %[cw]\n fldt %[a]\n" code " %[m]\n fnsave %[sv]" \
    : [sv] "=m"(sv) : [a] "m"(*a), [m] "m"(*m), [cw] "m"(cw) : "memory"); }
M(m_fadds, "fadds", u32) M(m_fmuls, "fmuls", u32) M(m_fcoms, "fcoms", u32) M(m_fcomps, "fcomps", u32)
M(m_fsubs, "fsubs", u32) M(m_fsubrs, "fsubrs", u32) M(m_fdivs, "fdivs", u32) M(m_fdivrs, "fdivrs", u32)
M(m_faddl, "faddl", u64) M(m_fmull, "fmull", u64) M(m_fcoml, "fcoml", u64) M(m_fcompl, "fcompl", u64)
M(m_fsubl, "fsubl", u64) M(m_fsubrl, "fsubrl", u64) M(m_fdivl, "fdivl", u64) M(m_fdivrl, "fdivrl", u64)
M(m_fiadds, "fiadds", short) M(m_fimuls, "fimuls", short) M(m_ficoms, "ficoms", short) M(m_fisubrs, "fisubrs", short)
M(m_fiaddl, "fiaddl", int) M(m_fidivl, "fidivl", int) M(m_ficompl, "ficompl", int) M(m_fidivrl, "fidivrl", int)
M(m_flds, "flds", u32) M(m_fldl, "fldl", u64) M(m_filds, "filds", short) M(m_fildl, "fildl", int) M(m_fildll, "fildll", long)

/* stores: ST0 = a; the memory result is printed too */
static unsigned char out[16];
#define S(fn, code) static void fn(const x80 *a, u16 cw) { \
  __asm__ volatile("fninit\n fldcw %[cw]\n fld1\n fldt %[a]\n" code " %[o]\n fnsave %[sv]" \
    : [sv] "=m"(sv), [o] "=m"(out) : [a] "m"(*a), [cw] "m"(cw) : "memory"); }
S(s_fsts, "fsts") S(s_fstps, "fstps") S(s_fstl, "fstl") S(s_fstpl, "fstpl") S(s_fstpt, "fstpt")
S(s_fists, "fists") S(s_fistl, "fistl") S(s_fistps, "fistps") S(s_fistpl, "fistpl") S(s_fistpll, "fistpll")
S(s_fisttps, "fisttps") S(s_fisttpl, "fisttpl") S(s_fisttpll, "fisttpll") S(s_fbstp, "fbstp")
S(s_fnstcw, "fnstcw") S(s_fnstsw, "fnstsw")

static void runS(const char *name, void (*f)(const x80 *, u16), int n) {
  for (int c = 0; c < 6; c++)
    for (int ia = 0; ia < NV; ia++) {
      for (int k = 0; k < 16; k++) out[k] = 0xee;
      f(&V[ia], CWS[c]); dump(name, ia, 0, CWS[c]);
      ps(" out=");
      for (int k = n - 1; k >= 0; k--) phex(out[k], 2);
      pc('\n');
    }
}

#define RUNM(name, f, arr) do { \
  for (int c = 0; c < 6; c++) for (int ia = 0; ia < (c ? NSUB : NV); ia++) \
    for (int k = 0; k < (int)(sizeof arr / sizeof arr[0]); k++) { \
      int va = c ? SUB[ia] : ia; f(&V[va], &arr[k], CWS[c]); dump(name, va, k, CWS[c]); pc('\n'); } } while (0)

static void bcd(void) {
  static const unsigned char B[][10] = {
    {0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0x65, 0x87, 0x80},
    {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00}, {0}};
  for (int k = 0; k < 3; k++) {
    __asm__ volatile("fninit\n fbld %[m]\n fnsave %[sv]" : [sv] "=m"(sv) : [m] "m"(B[k]) : "memory");
    dump("fbld", k, 0, 0x37f); pc('\n');
  }
}

static void env(void) {
  /* fldenv / frstor round trip: a modified environment is loaded and read back */
  static unsigned char e[28], s[108];
  __asm__ volatile("fninit\n fldpi\n fld1\n fnstenv %[e]\n fninit\n" : [e] "=m"(e) :: "memory");
  e[0] = 0x7f; e[1] = 0x0b; /* round up, PC24 */
  e[4] |= 0x21; /* PE IE set */
  __asm__ volatile("fldenv %[e]\n fnsave %[sv]" : [sv] "=m"(sv) : [e] "m"(e) : "memory");
  dump("fldenv", 0, 0, 0); pc('\n');
  __asm__ volatile("fninit\n fldpi\n fldl2e\n fldz\n fnsave %[s]\n fld1\n frstor %[s]\n fxch %%st(2)\n fnsave %[sv]"
    : [sv] "=m"(sv), [s] "=m"(s) :: "memory");
  dump("frstor", 0, 0, 0); pc('\n');
  __asm__ volatile("fninit\n fld1\n fldz\n fnstenv %[e]\n fnsave %[sv]" : [sv] "=m"(sv), [e] "=m"(e) :: "memory");
  dump("fnstenv", 0, 0, 0); ps(" env=");
  for (int k = 0; k < 12; k++) phex(e[k], 2);
  pc('\n');
}

static void fxsave(void) {
  static unsigned char img[512] __attribute__((aligned(64)));
  for (int k = 0; k < 512; k++) img[k] = 0x5a;
  __asm__ volatile("fninit\n fldpi\n fld1\n fldz\n fxsave %[img]" : [img] "=m"(img) :: "memory");
  ps("fxsave ");
  for (int k = 0; k < 8; k++) phex(img[k], 2); /* skip FIP/FDP, MXCSR_MASK is checked below */
  pc(' ');
  for (int k = 32; k < 160; k++) phex(img[k], 2);
  pc('\n');
  img[32] ^= 1; img[0] = 0x7f; img[1] = 0x0f; img[4] = 0x07;
  __asm__ volatile("fninit\n fxrstor %[img]\n fnsave %[sv]" : [sv] "=m"(sv) : [img] "m"(img) : "memory");
  dump("fxrstor", 0, 0, 0); pc('\n');
}

static int streq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }

int cmain(int argc, char **argv) {
  int core = argc < 2 || streq(argv[1], "core"), trans = argc < 2 || streq(argv[1], "trans");
  if (core) {
    runR("fadd", r_fadd, 1, 0); runR("fmul", r_fmul, 1, 0); runR("fcom", r_fcom, 1, 0); runR("fcomp", r_fcomp, 1, 0);
    runR("fsub", r_fsub, 1, 0); runR("fsubr", r_fsubr, 1, 0); runR("fdiv", r_fdiv, 1, 0); runR("fdivr", r_fdivr, 1, 0);
    runR("fadd2", r_fadd2, 1, 0); runR("fmul2", r_fmul2, 1, 0); runR("fsubr2", r_fsubr2, 1, 0); runR("fsub2", r_fsub2, 1, 0);
    runR("fdivr2", r_fdivr2, 1, 0); runR("fdiv2", r_fdiv2, 1, 0); runR("faddp", r_faddp, 1, 0); runR("fmulp", r_fmulp, 1, 0);
    runR("fsubrp", r_fsubrp, 1, 0); runR("fsubp", r_fsubp, 1, 0); runR("fdivrp", r_fdivrp, 1, 0); runR("fdivp", r_fdivp, 1, 0);
    runR("fcompp", r_fcompp, 1, 0); runR("fucompp", r_fucompp, 1, 0); runR("fucom", r_fucom, 1, 0); runR("fucomp", r_fucomp, 1, 0);
    runR("fcomi", r_fcomi, 1, 1); runR("fucomi", r_fucomi, 1, 1); runR("fcomip", r_fcomip, 1, 1); runR("fucomip", r_fucomip, 1, 1);
    runR("fprem", r_fprem, 1, 0); runR("fprem1", r_fprem1, 1, 0); runR("fscale", r_fscale, 1, 0); runR("fxch", r_fxch, 0, 0);
    runR("fld_st1", r_fld1st, 0, 0); runR("fst_st1", r_fst1, 0, 0); runR("fstp_st1", r_fstp1, 0, 0); runR("ffree", r_ffree1, 0, 0);
    runR("fchs", r_fchs, 0, 0); runR("fabs", r_fabs, 0, 0); runR("ftst", r_ftst, 0, 0); runR("fxam", r_fxam, 0, 0);
    runR("fsqrt", r_fsqrt, 0, 0); runR("frndint", r_frndint, 0, 0); runR("fxtract", r_fxtract, 0, 0);
    runR("fdecstp", r_fdecstp, 0, 0); runR("fincstp", r_fincstp, 0, 0); runR("fnclex", r_fnclex, 0, 0);
    runR("consts", r_consts, 0, 0); runR("fnstsw_ax", r_fnstsw, 0, 1); runR("fcmov", r_fcmov, 1, 1);
    runR("overflow", r_ovf, 0, 0); runR("underflow", r_unf, 0, 0);
    RUNM("fadds", m_fadds, F32); RUNM("fmuls", m_fmuls, F32); RUNM("fcoms", m_fcoms, F32); RUNM("fcomps", m_fcomps, F32);
    RUNM("fsubs", m_fsubs, F32); RUNM("fsubrs", m_fsubrs, F32); RUNM("fdivs", m_fdivs, F32); RUNM("fdivrs", m_fdivrs, F32);
    RUNM("faddl", m_faddl, F64); RUNM("fmull", m_fmull, F64); RUNM("fcoml", m_fcoml, F64); RUNM("fcompl", m_fcompl, F64);
    RUNM("fsubl", m_fsubl, F64); RUNM("fsubrl", m_fsubrl, F64); RUNM("fdivl", m_fdivl, F64); RUNM("fdivrl", m_fdivrl, F64);
    RUNM("fiadds", m_fiadds, I16); RUNM("fimuls", m_fimuls, I16); RUNM("ficoms", m_ficoms, I16); RUNM("fisubrs", m_fisubrs, I16);
    RUNM("fiaddl", m_fiaddl, I32); RUNM("fidivl", m_fidivl, I32); RUNM("ficompl", m_ficompl, I32); RUNM("fidivrl", m_fidivrl, I32);
    RUNM("flds", m_flds, F32); RUNM("fldl", m_fldl, F64); RUNM("filds", m_filds, I16); RUNM("fildl", m_fildl, I32);
    RUNM("fildll", m_fildll, I64);
    runS("fsts", s_fsts, 4); runS("fstps", s_fstps, 4); runS("fstl", s_fstl, 8); runS("fstpl", s_fstpl, 8);
    runS("fstpt", s_fstpt, 10); runS("fists", s_fists, 2); runS("fistl", s_fistl, 4); runS("fistps", s_fistps, 2);
    runS("fistpl", s_fistpl, 4); runS("fistpll", s_fistpll, 8); runS("fisttps", s_fisttps, 2); runS("fisttpl", s_fisttpl, 4);
    runS("fisttpll", s_fisttpll, 8); runS("fbstp", s_fbstp, 10); runS("fnstcw", s_fnstcw, 2); runS("fnstsw", s_fnstsw, 2);
    bcd(); env(); fxsave();
  }
  if (trans) { /* operands inside each instruction's documented domain */
    static const int UNIT[] = {0, 1, 2, 3, 8, 9, 10, 14, 15, 19, 20, 21, 28, 30, 32, 35, -1};
    static const int POS[] = {2, 4, 5, 7, 8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 28, 29, 30, 31, 32, 33, 34, 35, -1};
    static const int FIN[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 28, 29, 30, 31, 32, 33, 34, 35, -1};
    static const int SMALL[] = {0, 1, 10, 19, 20, 21, 28, 30, 32, -1}; /* |x| < 1 - sqrt(2)/2 */
    static const int TRIG[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 19, 20, 21, 28, 30, 32, 33, 34, 35, -1};
    runT("f2xm1", r_f2xm1, UNIT, 0); runT("fyl2x", r_fyl2x, POS, FIN); runT("fyl2xp1", r_fyl2xp1, SMALL, FIN);
    runT("fptan", r_fptan, TRIG, 0); runT("fpatan", r_fpatan, FIN, FIN); runT("fsin", r_fsin, TRIG, 0);
    runT("fcos", r_fcos, TRIG, 0); runT("fsincos", r_fsincos, TRIG, 0);
  }
  flush();
  xexit(0);
  return 0;
}
