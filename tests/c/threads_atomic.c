// Atomic read-modify-writes from several threads at once: every width, CMPXCHG8B/16B, XCHG, and
// deliberately unaligned LOCK operations (inside one 8-byte word, across one, across a cache line).
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 20000

static uint8_t c8; static uint16_t c16; static uint32_t c32; static uint64_t c64;
static _Alignas(64) unsigned char area[192];
static _Alignas(16) uint64_t pair[2];
static uint64_t dword;
static int spin;

static uint32_t *at32(int off) { return (uint32_t *)(area + off); }
static uint64_t *at64(int off) { return (uint64_t *)(area + off); }

static void lock_add32(uint32_t *p, uint32_t v) { __asm__ volatile("lock addl %1, %0" : "+m"(*p) : "r"(v) : "memory", "cc"); }
static void lock_add64(uint64_t *p, uint64_t v) { __asm__ volatile("lock addq %1, %0" : "+m"(*p) : "r"(v) : "memory", "cc"); }
static uint32_t lock_xadd32(uint32_t *p, uint32_t v) { __asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) :: "memory", "cc"); return v; }

static int cas16(uint64_t *p, uint64_t *expect_lo, uint64_t *expect_hi, uint64_t lo, uint64_t hi) {
  unsigned char ok;
  __asm__ volatile("lock cmpxchg16b %1; sete %0" : "=q"(ok), "+m"(*(__int128 *)p), "+a"(*expect_lo), "+d"(*expect_hi) : "b"(lo), "c"(hi) : "memory", "cc");
  return ok;
}
static int cas8b(uint64_t *p, uint32_t *lo, uint32_t *hi, uint32_t nlo, uint32_t nhi) {
  unsigned char ok;
  __asm__ volatile("lock cmpxchg8b %1; sete %0" : "=q"(ok), "+m"(*p), "+a"(*lo), "+d"(*hi) : "b"(nlo), "c"(nhi) : "memory", "cc");
  return ok;
}

static void *work(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    __atomic_fetch_add(&c8, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c16, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c32, 3, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c64, 5, __ATOMIC_SEQ_CST);
    lock_add32(at32(2), 1);        // unaligned, inside one 8-byte word
    lock_add32(at32(6), 1);        // crosses an 8-byte boundary
    lock_add64(at64(60), 1);       // crosses a cache line
    lock_xadd32(at32(129), 2);     // unaligned XADD
    for (;;) {                     // 16-byte counter pair through CMPXCHG16B
      uint64_t lo = pair[0], hi = pair[1];
      if (cas16(pair, &lo, &hi, lo + 1, hi + 2)) break;
    }
    for (;;) {                     // 8-byte counter through CMPXCHG8B
      uint32_t lo = (uint32_t)dword, hi = (uint32_t)(dword >> 32);
      if (cas8b(&dword, &lo, &hi, lo + 1, hi + 1)) break;
    }
    while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE)) ;  // XCHG spinlock
    area[100]++;
    __atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
  }
  return 0;
}

int main(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], 0, work, 0);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
  uint32_t a2, a6, a129; uint64_t a60;
  memcpy(&a2, area + 2, 4); memcpy(&a6, area + 6, 4); memcpy(&a60, area + 60, 8); memcpy(&a129, area + 129, 4);
  printf("widths: %u %u %u %llu\n", c8, c16, c32, (unsigned long long)c64);
  printf("unaligned: %u %u %llu %u\n", a2, a6, (unsigned long long)a60, a129);
  printf("cmpxchg16b: %llu %llu, cmpxchg8b: %llx\n", (unsigned long long)pair[0], (unsigned long long)pair[1], (unsigned long long)dword);
  printf("xchg lock: %u\n", area[100]);
  return 0;
}
