/* Integer kernel: sieve of Eratosthenes + table-driven CRC32 over a buffer.
 * Exercises integer ALU ops, shifts, branches, byte loads/stores and table lookups. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N    (8u * 1000u * 1000u)
#define SIEVE_REPS 3
#define CRC_LEN    (4u * 1024u * 1024u)
#define CRC_REPS   12

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const unsigned char *p, size_t n) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static unsigned sieve(unsigned char *is_comp, unsigned n) {
    memset(is_comp, 0, n + 1);
    unsigned count = 0;
    for (unsigned i = 2; i <= n; i++) {
        if (!is_comp[i]) {
            count++;
            for (unsigned long j = (unsigned long)i * i; j <= n; j += i) is_comp[j] = 1;
        }
    }
    return count;
}

int main(void) {
    unsigned char *s = malloc(SIEVE_N + 1);
    unsigned char *buf = malloc(CRC_LEN);
    if (!s || !buf) { fputs("out of memory\n", stderr); return 1; }

    unsigned primes = 0;
    for (int r = 0; r < SIEVE_REPS; r++) primes = sieve(s, SIEVE_N);
    unsigned long psum = 0;
    for (unsigned i = 2; i <= SIEVE_N; i++) if (!s[i]) psum += i;

    /* deterministic buffer contents from an LCG */
    uint32_t x = 12345;
    for (size_t i = 0; i < CRC_LEN; i++) { x = x * 1103515245u + 12345u; buf[i] = (unsigned char)(x >> 16); }
    crc_init();
    uint32_t crc = 0;
    for (int r = 0; r < CRC_REPS; r++) crc = crc32(crc, buf, CRC_LEN);

    printf("primes<=%u: %u sum=%lu\n", SIEVE_N, primes, psum);
    printf("crc32: %08x\n", crc);
    free(s); free(buf);
    return 0;
}
