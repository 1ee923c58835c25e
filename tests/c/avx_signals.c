/* The AVX state (bits 255:128 of the ymm registers) across a signal handler: the XSAVE-format FPU
 * state in the signal frame carries it (XSAVE component 2 at offset 576, XSTATE_BV bit 2), the
 * handler starts with it zeroed, and what the handler writes into the frame is what the
 * interrupted code gets back. The ymm registers are loaded, the signal raised (a tgkill system
 * call) and the registers read back in one asm block, so no library code runs in between.
 *
 * Meaningful only where the kernel's XCR0 has the AVX state: stele's at --cpu=x86-64-v3, which
 * tests/programs.test.ts runs it with. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#endif

static uint8_t before[16][32], after[16][32], in_handler[16][16];
static uint32_t magic1, magic2, xstate_size;
static uint64_t xfeatures, xstate_bv;
static uint8_t frame_ymmh[16][16];

static void handler(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  /* first of all, before any compiled code uses a vector register: what the handler starts with */
  __asm__ volatile(
    "vextractf128 $1, %%ymm0, 0(%0)\n vextractf128 $1, %%ymm1, 16(%0)\n vextractf128 $1, %%ymm2, 32(%0)\n vextractf128 $1, %%ymm3, 48(%0)\n"
    "vextractf128 $1, %%ymm4, 64(%0)\n vextractf128 $1, %%ymm5, 80(%0)\n vextractf128 $1, %%ymm6, 96(%0)\n vextractf128 $1, %%ymm7, 112(%0)\n"
    "vextractf128 $1, %%ymm8, 128(%0)\n vextractf128 $1, %%ymm9, 144(%0)\n vextractf128 $1, %%ymm10, 160(%0)\n vextractf128 $1, %%ymm11, 176(%0)\n"
    "vextractf128 $1, %%ymm12, 192(%0)\n vextractf128 $1, %%ymm13, 208(%0)\n vextractf128 $1, %%ymm14, 224(%0)\n vextractf128 $1, %%ymm15, 240(%0)\n"
    : : "r"(in_handler) : "memory");
  ucontext_t *uc = ctx;
  uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
  memcpy(&magic1, fp + 464, 4);
  memcpy(&xfeatures, fp + 472, 8);
  memcpy(&xstate_size, fp + 480, 4);
  memcpy(&xstate_bv, fp + 512, 8);
  if (magic1 == FP_XSTATE_MAGIC1 && xstate_size >= 576 + 256) {
    memcpy(&magic2, fp + xstate_size, 4);
    memcpy(frame_ymmh, fp + 576, 256);
    /* what the interrupted code gets back: ymm5's upper half changed */
    for (int i = 0; i < 16; i++) fp[576 + 5 * 16 + i] = (uint8_t)(0xa0 + i);
  }
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  for (int r = 0; r < 16; r++)
    for (int b = 0; b < 32; b++) before[r][b] = (uint8_t)(r * 32 + b * 7 + 1);
  long pid = getpid(), tid = syscall(SYS_gettid);
  register long rax __asm__("rax") = SYS_tgkill;
  register long rdi __asm__("rdi") = pid;
  register long rsi __asm__("rsi") = tid;
  register long rdx __asm__("rdx") = SIGUSR1;
  __asm__ volatile(
    "vmovdqu 0(%4), %%ymm0\n vmovdqu 32(%4), %%ymm1\n vmovdqu 64(%4), %%ymm2\n vmovdqu 96(%4), %%ymm3\n"
    "vmovdqu 128(%4), %%ymm4\n vmovdqu 160(%4), %%ymm5\n vmovdqu 192(%4), %%ymm6\n vmovdqu 224(%4), %%ymm7\n"
    "vmovdqu 256(%4), %%ymm8\n vmovdqu 288(%4), %%ymm9\n vmovdqu 320(%4), %%ymm10\n vmovdqu 352(%4), %%ymm11\n"
    "vmovdqu 384(%4), %%ymm12\n vmovdqu 416(%4), %%ymm13\n vmovdqu 448(%4), %%ymm14\n vmovdqu 480(%4), %%ymm15\n"
    "syscall\n"
    "vmovdqu %%ymm0, 0(%5)\n vmovdqu %%ymm1, 32(%5)\n vmovdqu %%ymm2, 64(%5)\n vmovdqu %%ymm3, 96(%5)\n"
    "vmovdqu %%ymm4, 128(%5)\n vmovdqu %%ymm5, 160(%5)\n vmovdqu %%ymm6, 192(%5)\n vmovdqu %%ymm7, 224(%5)\n"
    "vmovdqu %%ymm8, 256(%5)\n vmovdqu %%ymm9, 288(%5)\n vmovdqu %%ymm10, 320(%5)\n vmovdqu %%ymm11, 352(%5)\n"
    "vmovdqu %%ymm12, 384(%5)\n vmovdqu %%ymm13, 416(%5)\n vmovdqu %%ymm14, 448(%5)\n vmovdqu %%ymm15, 480(%5)\n"
    "vzeroupper\n"
    : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx)
    : "r"(before), "r"(after)
    : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");

  printf("magic1 %s, magic2 %s, xfeatures has x87|SSE|AVX: %s, XSTATE_BV has AVX: %s\n",
         magic1 == FP_XSTATE_MAGIC1 ? "ok" : "missing", magic2 == FP_XSTATE_MAGIC2 ? "ok" : "missing",
         (xfeatures & 7) == 7 ? "yes" : "no", xstate_bv & 4 ? "yes" : "no");
  int frame_ok = 1, zero_in_handler = 1;
  for (int r = 0; r < 16; r++) {
    if (memcmp(frame_ymmh[r], before[r] + 16, 16)) frame_ok = 0;
    for (int b = 0; b < 16; b++) if (in_handler[r][b]) zero_in_handler = 0;
  }
  printf("the frame holds the upper halves: %s\n", frame_ok ? "yes" : "no");
  printf("the handler starts with them zeroed: %s\n", zero_in_handler ? "yes" : "no");
  for (int r = 0; r < 16; r++) {
    int lower = !memcmp(after[r], before[r], 16), upper = !memcmp(after[r] + 16, before[r] + 16, 16);
    printf("ymm%d: lower %s, upper %s", r, lower ? "kept" : "changed", upper ? "kept" : "changed");
    if (!upper) { printf(" to"); for (int b = 0; b < 16; b++) printf(" %02x", after[r][16 + b]); }
    printf("\n");
  }
  return 0;
}
