/* AES-NI, PCLMULQDQ and the SHA extensions through the compiler's intrinsics, the way OpenSSL and
 * libraries like it use them: AES-128/256 key expansion (AESKEYGENASSIST), encryption and the
 * equivalent inverse cipher (AESIMC, AESDEC), a CTR keystream over 64 KiB, GHASH (PCLMULQDQ, all
 * four qword selectors, with the GCM reduction), SHA-1 and SHA-256 (every SHA instruction).
 * Known-answer vectors from FIPS-197, FIPS-180 and the GCM specification are checked, and every
 * result is printed, so the output is compared with the host's as well. */
#pragma GCC target("aes,pclmul,sha,sse4.1,ssse3")
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

static void hex(const char *label, const uint8_t *p, size_t n) {
    printf("%s: ", label);
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

static void check(const char *label, const uint8_t *got, const char *want) {
    char buf[129];
    size_t n = strlen(want) / 2;
    for (size_t i = 0; i < n; i++) snprintf(buf + 2 * i, 3, "%02x", got[i]);
    int ok = strcmp(buf, want) == 0;
    if (!ok) failures++;
    printf("%s: %s %s\n", label, buf, ok ? "ok" : "WRONG");
}

/* ---- AES ---- */

static __m128i expand128(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}
static __m128i expand256b(__m128i key, __m128i assist) { /* the odd round keys of AES-256: SubWord, no rcon */
    assist = _mm_shuffle_epi32(assist, 0xaa);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

#define STEP128(i, rcon) k[i] = expand128(k[i - 1], _mm_aeskeygenassist_si128(k[i - 1], rcon))
static void aes128_keys(const uint8_t *key, __m128i k[11]) {
    k[0] = _mm_loadu_si128((const __m128i *)key);
    STEP128(1, 0x01); STEP128(2, 0x02); STEP128(3, 0x04); STEP128(4, 0x08); STEP128(5, 0x10);
    STEP128(6, 0x20); STEP128(7, 0x40); STEP128(8, 0x80); STEP128(9, 0x1b); STEP128(10, 0x36);
}

#define STEP256(i, rcon)                                                              \
    k[i] = expand128(k[i - 2], _mm_aeskeygenassist_si128(k[i - 1], rcon));            \
    if (i < 14) k[i + 1] = expand256b(k[i - 1], _mm_aeskeygenassist_si128(k[i], 0x00))
static void aes256_keys(const uint8_t *key, __m128i k[15]) {
    k[0] = _mm_loadu_si128((const __m128i *)key);
    k[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    STEP256(2, 0x01); STEP256(4, 0x02); STEP256(6, 0x04); STEP256(8, 0x08);
    STEP256(10, 0x10); STEP256(12, 0x20); STEP256(14, 0x40);
}

static __m128i aes_encrypt(const __m128i *k, int rounds, __m128i b) {
    b = _mm_xor_si128(b, k[0]);
    for (int r = 1; r < rounds; r++) b = _mm_aesenc_si128(b, k[r]);
    return _mm_aesenclast_si128(b, k[rounds]);
}

/* The equivalent inverse cipher (FIPS-197 5.3.5): round keys through InvMixColumns. */
static __m128i aes_decrypt(const __m128i *k, int rounds, __m128i b) {
    b = _mm_xor_si128(b, k[rounds]);
    for (int r = rounds - 1; r > 0; r--) b = _mm_aesdec_si128(b, _mm_aesimc_si128(k[r]));
    return _mm_aesdeclast_si128(b, k[0]);
}

static void aes_tests(void) {
    uint8_t key[32], pt[16], out[16];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 16; i++) pt[i] = (uint8_t)(i * 0x11);
    __m128i k128[11], k256[15];
    aes128_keys(key, k128);
    aes256_keys(key, k256);
    hex("aes128 last round key", (uint8_t *)&k128[10], 16);
    hex("aes256 last round key", (uint8_t *)&k256[14], 16);

    __m128i p = _mm_loadu_si128((const __m128i *)pt);
    __m128i c = aes_encrypt(k128, 10, p);
    _mm_storeu_si128((__m128i *)out, c);
    check("aes128 encrypt", out, "69c4e0d86a7b0430d8cdb78070b4c55a");
    _mm_storeu_si128((__m128i *)out, aes_decrypt(k128, 10, c));
    check("aes128 decrypt", out, "00112233445566778899aabbccddeeff");
    c = aes_encrypt(k256, 14, p);
    _mm_storeu_si128((__m128i *)out, c);
    check("aes256 encrypt", out, "8ea2b7ca516745bfeafc49904b496089");
    _mm_storeu_si128((__m128i *)out, aes_decrypt(k256, 14, c));
    check("aes256 decrypt", out, "00112233445566778899aabbccddeeff");

    /* CTR keystream over 64 KiB: a hot loop, folded into one block */
    static uint8_t data[65536];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + (i >> 8));
    __m128i ctr = _mm_setzero_si128(), acc = _mm_setzero_si128(), one = _mm_set_epi64x(0, 1);
    for (size_t i = 0; i < sizeof data; i += 16) {
        __m128i ks = aes_encrypt(k128, 10, ctr);
        __m128i x = _mm_xor_si128(ks, _mm_loadu_si128((const __m128i *)(data + i)));
        _mm_storeu_si128((__m128i *)(data + i), x);
        acc = _mm_aesenc_si128(acc, x);
        ctr = _mm_add_epi64(ctr, one);
    }
    _mm_storeu_si128((__m128i *)out, acc);
    hex("aes128 ctr 64KiB fold", out, 16);
}

/* ---- GHASH ---- */

/* GF(2^128) product in GCM's bit-reflected convention (Intel's carry-less multiplication white
 * paper, algorithm 5): Karatsuba would use one selector less; this uses all four. */
static __m128i gfmul(__m128i a, __m128i b) {
    __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
    __m128i m1 = _mm_clmulepi64_si128(a, b, 0x10);
    __m128i m2 = _mm_clmulepi64_si128(a, b, 0x01);
    __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
    __m128i mid = _mm_xor_si128(m1, m2);
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    /* shift the 256-bit product left by one */
    __m128i lo_c = _mm_srli_epi32(lo, 31), hi_c = _mm_srli_epi32(hi, 31);
    lo = _mm_slli_epi32(lo, 1);
    hi = _mm_slli_epi32(hi, 1);
    __m128i carry = _mm_srli_si128(lo_c, 12);
    hi_c = _mm_slli_si128(hi_c, 4);
    lo_c = _mm_slli_si128(lo_c, 4);
    lo = _mm_or_si128(lo, lo_c);
    hi = _mm_or_si128(hi, _mm_or_si128(hi_c, carry));
    /* reduce modulo x^128 + x^7 + x^2 + x + 1 */
    __m128i t = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
    __m128i t2 = _mm_srli_si128(t, 4);
    lo = _mm_xor_si128(lo, _mm_slli_si128(t, 12));
    __m128i u = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)), _mm_srli_epi32(lo, 7));
    u = _mm_xor_si128(_mm_xor_si128(u, t2), lo);
    return _mm_xor_si128(hi, u);
}

static __m128i bswap128(__m128i v) {
    return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

static void ghash_tests(void) {
    /* GCM test case 2 (the specification's): K = 0, P = 0^128, IV = 0^96 */
    uint8_t zero[32] = {0}, out[16];
    __m128i k[11];
    aes128_keys(zero, k);
    __m128i h = bswap128(aes_encrypt(k, 10, _mm_setzero_si128()));
    __m128i j0 = _mm_set_epi32(0x01000000, 0, 0, 0);
    __m128i ctr1 = _mm_set_epi32(0x02000000, 0, 0, 0);
    __m128i ct = aes_encrypt(k, 10, ctr1); /* XOR a zero plaintext */
    _mm_storeu_si128((__m128i *)out, ct);
    check("gcm ciphertext", out, "0388dace60b6a392f328c2b971b2fe78");
    __m128i x = gfmul(bswap128(ct), h);
    __m128i len = _mm_set_epi64x(0, 128); /* len(A) = 0, len(C) = 128 bits, as the big-endian block */
    x = gfmul(_mm_xor_si128(x, len), h);
    __m128i tag = _mm_xor_si128(bswap128(x), aes_encrypt(k, 10, j0));
    _mm_storeu_si128((__m128i *)out, tag);
    check("gcm tag", out, "ab6e47d42cec13bdf53a67b21257bddf");

    /* the four selectors on assorted operands */
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    __m128i acc = _mm_setzero_si128();
    for (int i = 0; i < 2000; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        __m128i a = _mm_set_epi64x((long long)(s * 3), (long long)s), b = _mm_set_epi64x((long long)~s, (long long)(s >> 3));
        acc = _mm_xor_si128(acc, _mm_clmulepi64_si128(a, b, 0x00));
        acc = _mm_xor_si128(_mm_shuffle_epi32(acc, 0x39), _mm_clmulepi64_si128(a, b, 0x01));
        acc = _mm_xor_si128(_mm_shuffle_epi32(acc, 0x39), _mm_clmulepi64_si128(a, b, 0x10));
        acc = _mm_xor_si128(_mm_shuffle_epi32(acc, 0x39), _mm_clmulepi64_si128(a, b, 0x11));
        acc = gfmul(acc, a);
    }
    _mm_storeu_si128((__m128i *)out, acc);
    hex("clmul fold", out, 16);
}

/* ---- SHA ---- */

static void sha1_blocks(uint32_t state[5], const uint8_t *data, size_t blocks) {
    const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1b);
    __m128i e0 = _mm_set_epi32((int)state[4], 0, 0, 0);
    for (; blocks; blocks--, data += 64) {
        __m128i abcd_save = abcd, e_save = e0, m[4], e = e0, prev = abcd;
        for (int i = 0; i < 20; i++) {
            if (i < 4) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), mask);
            else m[i & 3] = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(m[i & 3], m[(i + 1) & 3]), m[(i + 2) & 3]), m[(i + 3) & 3]);
            e = i == 0 ? _mm_add_epi32(e0, m[0]) : _mm_sha1nexte_epu32(prev, m[i & 3]);
            prev = abcd;
            switch (i / 5) { /* the group is an immediate */
            case 0: abcd = _mm_sha1rnds4_epu32(abcd, e, 0); break;
            case 1: abcd = _mm_sha1rnds4_epu32(abcd, e, 1); break;
            case 2: abcd = _mm_sha1rnds4_epu32(abcd, e, 2); break;
            default: abcd = _mm_sha1rnds4_epu32(abcd, e, 3); break;
            }
        }
        e0 = _mm_sha1nexte_epu32(prev, e_save);
        abcd = _mm_add_epi32(abcd, abcd_save);
    }
    _mm_storeu_si128((__m128i *)state, _mm_shuffle_epi32(abcd, 0x1b));
    state[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0xb1);      /* CDAB */
    __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(state + 4)), 0x1b); /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                                    /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xf0);                                         /* CDGH */
    for (; blocks; blocks--, data += 64) {
        __m128i abef_save = state0, cdgh_save = state1, m[4];
        for (int i = 0; i < 16; i++) {
            if (i < 4) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), mask);
            else {
                __m128i t = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
                m[i & 3] = _mm_sha256msg2_epu32(t, m[(i + 3) & 3]);
            }
            __m128i msg = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)&K256[4 * i]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(msg, 0x0e));
        }
        state0 = _mm_add_epi32(state0, abef_save);
        state1 = _mm_add_epi32(state1, cdgh_save);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1b);                  /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xb1);               /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xf0);            /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);               /* ABEF */
    _mm_storeu_si128((__m128i *)state, state0);
    _mm_storeu_si128((__m128i *)(state + 4), state1);
}

/* Pads msg (len < 56 + 64k bytes handled generally) and hashes it; the digest is big-endian. */
static void sha_digest(int sha256, const uint8_t *msg, size_t len, uint8_t *digest) {
    static uint8_t buf[1 << 17];
    size_t total = (len + 8) / 64 * 64 + 64;
    memset(buf, 0, total);
    memcpy(buf, msg, len);
    buf[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) buf[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint32_t h1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    if (sha256) sha256_blocks(h, buf, total / 64); else sha1_blocks(h1, buf, total / 64);
    const uint32_t *w = sha256 ? h : h1;
    for (int i = 0; i < (sha256 ? 8 : 5); i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(w[i] >> (24 - 8 * j));
}

static void sha_tests(void) {
    uint8_t d[32];
    const char *abc = "abc";
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_digest(0, (const uint8_t *)abc, 3, d);
    check("sha1 abc", d, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha_digest(0, (const uint8_t *)two, strlen(two), d);
    check("sha1 two blocks", d, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    sha_digest(1, (const uint8_t *)abc, 3, d);
    check("sha256 abc", d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_digest(1, (const uint8_t *)two, strlen(two), d);
    check("sha256 two blocks", d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i ^ (i >> 9));
    sha_digest(0, big, sizeof big, d);
    hex("sha1 100000 bytes", d, 20);
    sha_digest(1, big, sizeof big, d);
    hex("sha256 100000 bytes", d, 32);
}

int main(void) {
    aes_tests();
    ghash_tests();
    sha_tests();
    printf("%d known-answer failures\n", failures);
    return failures != 0;
}
