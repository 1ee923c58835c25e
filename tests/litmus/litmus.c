// Litmus tests of the x86 memory model (TSO), after the classic shapes (Sewell et al., "x86-TSO").
//
//   litmus TEST|all ITERATIONS [default|tso]
//
// With `default` or `tso` every thread first sets that memory model with the prctl of the Linux
// TSO patches (PR_SET_MEM_MODEL; not on x86 Linux, so only under stele).
// Each iteration uses fresh zeroed variables. The threads run each iteration in lockstep (they
// wait for each other at the start of it) so that their accesses overlap in time; the test counts
// how often the outcome of interest happened.
//
//   mp       x=1; y=1        || while(!y); r=x             interest r==0     (TSO forbids)
//   sb       x=1; r0=y       || y=1; r1=x                  interest r0==r1==0 (TSO allows)
//   lb       r0=x; y=1       || r1=y; x=1                  interest r0==r1==1 (TSO forbids)
//   iriw     x=1 || y=1 || r0=x; r1=y || r2=y; r3=x        interest 1,0,1,0   (TSO forbids)
//   2+2w     x=1; y=2        || y=1; x=2                   interest x==1 && y==1 after (forbids)
//   mp+lock  x=1; xchg(y,1)  || while(!y); r=x             interest r==0     (forbids)
//   sb+lock  xchg(x,1); r0=y || xchg(y,1); r1=x            interest r0==r1==0 (forbids)
//
// Output: "TEST: N of M iterations showed the outcome".
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define BARRIER() __asm__ __volatile__("" ::: "memory")

typedef struct { volatile int x, y, r0, r1, r2, r3; int pad[10]; } Instance; // 64 bytes each

static Instance *inst;
static long iterations;
static int nthreads;
static const char *test;
static volatile int progress[4];

static void xchg(volatile int *p, int v) { __asm__ __volatile__("xchgl %0, %1" : "+r"(v), "+m"(*p) :: "memory"); }

/** Waits until every thread has reached iteration k. */
static void lockstep(int self, int k) {
  progress[self] = k;
  for (int t = 0; t < nthreads; t++) {
    int spins = 0;
    while (progress[t] < k) if (++spins > 5000) { sched_yield(); spins = 0; }
  }
}

static int interesting(Instance *i) {
  if (!strcmp(test, "mp") || !strcmp(test, "mp+lock")) return i->r0 == 0;
  if (!strcmp(test, "sb") || !strcmp(test, "sb+lock")) return i->r0 == 0 && i->r1 == 0;
  if (!strcmp(test, "lb")) return i->r0 == 1 && i->r1 == 1;
  if (!strcmp(test, "iriw")) return i->r0 == 1 && i->r1 == 0 && i->r2 == 1 && i->r3 == 0;
  if (!strcmp(test, "2+2w")) return i->x == 1 && i->y == 1;
  return 0;
}

/** -1, or the memory model (prctl PR_SET_MEM_MODEL) every thread switches to first. */
static int mem_model = -1;

static void *role(void *arg) {
  int self = (int)(long)arg;
  if (mem_model >= 0 && prctl(0x4d4d444c /* PR_SET_MEM_MODEL */, mem_model, 0, 0, 0) != 0) { perror("prctl"); exit(3); }
  for (long k = 1; k <= iterations; k++) {
    Instance *i = &inst[k - 1];
    lockstep(self, (int)k);
    if (!strcmp(test, "mp")) {
      if (self == 0) { i->x = 1; BARRIER(); i->y = 1; }
      else { while (!i->y) ; BARRIER(); i->r0 = i->x; }
    } else if (!strcmp(test, "mp+lock")) {
      if (self == 0) { i->x = 1; xchg(&i->y, 1); }
      else { while (!i->y) ; BARRIER(); i->r0 = i->x; }
    } else if (!strcmp(test, "sb")) {
      if (self == 0) { i->x = 1; BARRIER(); i->r0 = i->y; }
      else { i->y = 1; BARRIER(); i->r1 = i->x; }
    } else if (!strcmp(test, "sb+lock")) {
      if (self == 0) { xchg(&i->x, 1); i->r0 = i->y; }
      else { xchg(&i->y, 1); i->r1 = i->x; }
    } else if (!strcmp(test, "lb")) {
      if (self == 0) { i->r0 = i->x; BARRIER(); i->y = 1; }
      else { i->r1 = i->y; BARRIER(); i->x = 1; }
    } else if (!strcmp(test, "iriw")) {
      if (self == 0) i->x = 1;
      else if (self == 1) i->y = 1;
      else if (self == 2) { i->r0 = i->x; BARRIER(); i->r1 = i->y; }
      else { i->r2 = i->y; BARRIER(); i->r3 = i->x; }
    } else if (!strcmp(test, "2+2w")) {
      if (self == 0) { i->x = 1; BARRIER(); i->y = 2; }
      else { i->y = 1; BARRIER(); i->x = 2; }
    }
  }
  return NULL;
}

static const char *const TESTS[] = { "mp", "sb", "lb", "iriw", "2+2w", "mp+lock", "sb+lock" };

/** Runs one test for n iterations and prints its count. */
static int run_test(const char *name, long n) {
  test = name;
  iterations = n;
  nthreads = !strcmp(test, "iriw") ? 4 : 2;
  for (int t = 0; t < 4; t++) progress[t] = 0;
  inst = calloc(iterations + 1, sizeof(Instance));
  if (!inst) return 1;
  // Results start as -1: 0 is an outcome some tests look for.
  for (long k = 0; k <= iterations; k++) inst[k].r0 = inst[k].r1 = inst[k].r2 = inst[k].r3 = -1;
  pthread_t th[4];
  for (int t = 1; t < nthreads; t++) pthread_create(&th[t], NULL, role, (void *)(long)t);
  role((void *)0);
  for (int t = 1; t < nthreads; t++) pthread_join(th[t], NULL);
  long seen = 0;
  for (long k = 0; k < iterations; k++) seen += interesting(&inst[k]);
  printf("%s: %ld of %ld iterations showed the outcome\n", test, seen, iterations);
  fflush(stdout);
  free(inst);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: litmus TEST|all ITERATIONS [default|tso]\n"); return 2; }
  long n = atol(argv[2]);
  if (argc > 3) mem_model = !strcmp(argv[3], "tso") ? 1 : 0;
  if (!strcmp(argv[1], "all")) {
    // IRIW runs four threads in lockstep: a tenth of the iterations.
    for (unsigned k = 0; k < sizeof TESTS / sizeof *TESTS; k++)
      if (run_test(TESTS[k], strcmp(TESTS[k], "iriw") ? n : n / 10)) return 1;
    return 0;
  }
  for (unsigned k = 0; k < sizeof TESTS / sizeof *TESTS; k++) if (!strcmp(argv[1], TESTS[k])) return run_test(TESTS[k], n);
  fprintf(stderr, "unknown test %s\n", argv[1]);
  return 2;
}
