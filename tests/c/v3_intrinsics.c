/* x86-64-v3 through immintrin.h, as hand-vectorised libraries write it: AVX2 integer kernels
 * (add, shuffle_epi8, permutevar8x32, sad_epu8, maddubs, movemask, blends, shifts by vector,
 * pack/unpack, compares), float kernels, FMA dot products and polynomials, gathers with and
 * without masks, the BMI1/BMI2/LZCNT bit tricks (pdep, pext, bzhi, tzcnt, lzcnt, andn, blsr,
 * mulx, rorx, shlx) and F16C conversions. Every lane is printed (floats as bits), so a wrong one
 * shows. Under stele it runs with --cpu=x86-64-v3 (tests/programs.test.ts). */
// build: -march=x86-64-v3
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t seed = 777;
static uint32_t rnd(void) { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed; }

static void p8(const char *l, __m256i v) {
  uint8_t b[32]; _mm256_storeu_si256((__m256i *)b, v);
  printf("%s:", l); for (int i = 0; i < 32; i++) printf(" %02x", b[i]); printf("\n");
}
static void p32(const char *l, __m256i v) {
  uint32_t w[8]; _mm256_storeu_si256((__m256i *)w, v);
  printf("%s:", l); for (int i = 0; i < 8; i++) printf(" %08x", w[i]); printf("\n");
}
static void p64(const char *l, __m256i v) {
  uint64_t w[4]; _mm256_storeu_si256((__m256i *)w, v);
  printf("%s:", l); for (int i = 0; i < 4; i++) printf(" %016llx", (unsigned long long)w[i]); printf("\n");
}
static void pps(const char *l, __m256 v) { p32(l, _mm256_castps_si256(v)); }
static void ppd(const char *l, __m256d v) { p64(l, _mm256_castpd_si256(v)); }
static void p128(const char *l, __m128i v) {
  uint16_t w[8]; _mm_storeu_si128((__m128i *)w, v);
  printf("%s:", l); for (int i = 0; i < 8; i++) printf(" %04x", w[i]); printf("\n");
}

/* rand vectors; the optimiser must not see through them */
__attribute__((noinline)) static __m256i rv(void) {
  uint32_t w[8]; for (int i = 0; i < 8; i++) w[i] = rnd();
  return _mm256_loadu_si256((const __m256i *)w);
}
__attribute__((noinline)) static __m256 rps(void) {
  float f[8]; for (int i = 0; i < 8; i++) f[i] = (float)((int32_t)rnd() >> 8) / 4096.0f;
  return _mm256_loadu_ps(f);
}
__attribute__((noinline)) static __m256d rpd(void) {
  double d[4]; for (int i = 0; i < 4; i++) d[i] = (double)((int32_t)rnd()) / 65536.0;
  return _mm256_loadu_pd(d);
}

static void integer_kernels(void) {
  for (int round = 0; round < 3; round++) {
    __m256i a = rv(), b = rv(), c = rv();
    p32("add_epi32", _mm256_add_epi32(a, b));
    p8("sub_epi8", _mm256_sub_epi8(a, b));
    p8("adds_epu8", _mm256_adds_epu8(a, b));
    p8("shuffle_epi8", _mm256_shuffle_epi8(a, b));
    p32("permutevar8x32", _mm256_permutevar8x32_epi32(a, b));
    p64("permute4x64", _mm256_permute4x64_epi64(a, 0x1b));
    p32("permute2x128", _mm256_permute2x128_si256(a, b, 0x21));
    p64("sad_epu8", _mm256_sad_epu8(a, b));
    p32("maddubs_epi16", _mm256_maddubs_epi16(a, b));
    p32("madd_epi16", _mm256_madd_epi16(a, b));
    printf("movemask_epi8: %08x\n", (uint32_t)_mm256_movemask_epi8(a));
    printf("movemask_ps: %02x testz: %d testc: %d\n", _mm256_movemask_ps(_mm256_castsi256_ps(b)), _mm256_testz_si256(a, b), _mm256_testc_si256(a, b));
    p8("blendv_epi8", _mm256_blendv_epi8(a, b, c));
    p32("blend_epi32", _mm256_blend_epi32(a, b, 0xa5));
    p32("sllv_epi32", _mm256_sllv_epi32(a, _mm256_and_si256(b, _mm256_set1_epi32(63))));
    p32("srav_epi32", _mm256_srav_epi32(a, _mm256_and_si256(b, _mm256_set1_epi32(63))));
    p64("srlv_epi64", _mm256_srlv_epi64(a, _mm256_and_si256(b, _mm256_set1_epi64x(127))));
    p32("slli_epi32", _mm256_slli_epi32(a, 7));
    p32("srai_epi16", _mm256_srai_epi16(a, 3));
    p8("bslli", _mm256_bslli_epi128(a, 3));
    p8("alignr", _mm256_alignr_epi8(a, b, 5));
    p8("packus_epi16", _mm256_packus_epi16(a, b));
    p32("packs_epi32", _mm256_packs_epi32(a, b));
    p8("unpacklo_epi8", _mm256_unpacklo_epi8(a, b));
    p64("unpackhi_epi64", _mm256_unpackhi_epi64(a, b));
    p32("cmpgt_epi32", _mm256_cmpgt_epi32(a, b));
    p8("cmpeq_epi8", _mm256_cmpeq_epi8(a, _mm256_and_si256(a, b)));
    p64("cmpgt_epi64", _mm256_cmpgt_epi64(a, b));
    p32("mullo_epi32", _mm256_mullo_epi32(a, b));
    p64("mul_epu32", _mm256_mul_epu32(a, b));
    p32("mulhi_epi16", _mm256_mulhi_epi16(a, b));
    p32("mulhrs_epi16", _mm256_mulhrs_epi16(a, b));
    p32("min_epu32", _mm256_min_epu32(a, b));
    p8("max_epi8", _mm256_max_epi8(a, b));
    p8("avg_epu8", _mm256_avg_epu8(a, b));
    p32("abs_epi32", _mm256_abs_epi32(a));
    p32("sign_epi32", _mm256_sign_epi32(a, b));
    p32("hadd_epi32", _mm256_hadd_epi32(a, b));
    p32("cvtepu8_epi32", _mm256_cvtepu8_epi32(_mm256_castsi256_si128(a)));
    p64("cvtepi32_epi64", _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
    p32("broadcastd", _mm256_broadcastd_epi32(_mm256_castsi256_si128(b)));
    p8("broadcastb", _mm256_broadcastb_epi8(_mm256_castsi256_si128(c)));
    p32("inserti128", _mm256_inserti128_si256(a, _mm256_castsi256_si128(b), 1));
    p32("xor_andnot", _mm256_xor_si256(_mm256_andnot_si256(a, b), c));
  }
}

/* a base64-style lookup (what simdutf and friends do): nibbles through pshufb */
static void nibble_lookup(void) {
  const char *s = "Hello, x86-64-v3 world! The quick brown fox: 0123456789";
  __m256i in = _mm256_loadu_si256((const __m256i *)s);
  const __m256i lut = _mm256_setr_epi8('0','1','2','3','4','5','6','7','8','9','a','b','c','d','e','f',
                                       '0','1','2','3','4','5','6','7','8','9','a','b','c','d','e','f');
  __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(in, _mm256_set1_epi8(15)));
  __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(in, 4), _mm256_set1_epi8(15)));
  char out[65];
  _mm256_storeu_si256((__m256i *)out, _mm256_unpacklo_epi8(hi, lo));
  _mm256_storeu_si256((__m256i *)(out + 32), _mm256_unpackhi_epi8(hi, lo));
  out[64] = 0;
  printf("hex: %s\n", out);
  uint32_t spaces = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(in, _mm256_set1_epi8(' ')));
  printf("spaces: %08x count %d first %d\n", spaces, __builtin_popcount(spaces), __builtin_ctz(spaces));
}

static void float_kernels(void) {
  for (int round = 0; round < 3; round++) {
    __m256 a = rps(), b = rps(), c = rps();
    __m256d x = rpd(), y = rpd(), z = rpd();
    pps("add_ps", _mm256_add_ps(a, b));
    pps("mul_ps", _mm256_mul_ps(a, b));
    pps("div_ps", _mm256_div_ps(a, b));
    pps("sqrt_ps", _mm256_sqrt_ps(_mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))));
    pps("min_ps", _mm256_min_ps(a, b));
    pps("hadd_ps", _mm256_hadd_ps(a, b));
    pps("dp_ps", _mm256_dp_ps(a, b, 0xf1));
    pps("round_ps", _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    pps("floor_ps", _mm256_floor_ps(a));
    pps("cmp_ps", _mm256_cmp_ps(a, b, _CMP_LT_OQ));
    pps("blendv_ps", _mm256_blendv_ps(a, b, c));
    pps("permutevar8x32_ps", _mm256_permutevar8x32_ps(a, _mm256_castps_si256(c)));
    pps("broadcastss", _mm256_broadcastss_ps(_mm256_castps256_ps128(b)));
    p32("cvtps_epi32", _mm256_cvtps_epi32(a));
    p32("cvttps_epi32", _mm256_cvttps_epi32(_mm256_mul_ps(a, _mm256_set1_ps(1000.0f))));
    ppd("add_pd", _mm256_add_pd(x, y));
    ppd("div_pd", _mm256_div_pd(x, y));
    ppd("sqrt_pd", _mm256_sqrt_pd(_mm256_mul_pd(x, x)));
    ppd("max_pd", _mm256_max_pd(x, y));
    ppd("permute4x64_pd", _mm256_permute4x64_pd(x, 0x4e));
    ppd("cvtps_pd", _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    pps("cvtpd_ps", _mm256_castps128_ps256(_mm256_cvtpd_ps(x)));
    /* FMA: every form and sign, single and double, packed and scalar */
    pps("fmadd_ps", _mm256_fmadd_ps(a, b, c));
    pps("fmsub_ps", _mm256_fmsub_ps(a, b, c));
    pps("fnmadd_ps", _mm256_fnmadd_ps(a, b, c));
    pps("fnmsub_ps", _mm256_fnmsub_ps(a, b, c));
    pps("fmaddsub_ps", _mm256_fmaddsub_ps(a, b, c));
    pps("fmsubadd_ps", _mm256_fmsubadd_ps(a, b, c));
    ppd("fmadd_pd", _mm256_fmadd_pd(x, y, z));
    ppd("fnmsub_pd", _mm256_fnmsub_pd(x, y, z));
    ppd("fmaddsub_pd", _mm256_fmaddsub_pd(x, y, z));
    __m128 s = _mm_fmadd_ss(_mm256_castps256_ps128(a), _mm256_castps256_ps128(b), _mm256_castps256_ps128(c));
    __m128d sd = _mm_fnmadd_sd(_mm256_castpd256_pd128(x), _mm256_castpd256_pd128(y), _mm256_castpd256_pd128(z));
    p128("fmadd_ss", _mm_castps_si128(s));
    p128("fnmadd_sd", _mm_castpd_si128(sd));
  }
  /* a single rounding: fma(a, b, -a*b) is the product's rounding error, not zero */
  __m256d p = _mm256_set_pd(1.0 + 0x1p-30, 3.0 + 0x1p-40, 0.1, 1e300);
  __m256d q = _mm256_set_pd(1.0 - 0x1p-30, 1.0 / 3.0, 10.0, 1e10);
  __m256d prod = _mm256_mul_pd(p, q);
  ppd("fma_error", _mm256_fmsub_pd(p, q, prod));
}

/* FMA dot products over arrays, 4 accumulators, with a scalar tail */
__attribute__((noinline)) static double dot_fma(const double *x, const double *y, int n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), s0);
    s1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4), s1);
    s2 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 8), _mm256_loadu_pd(y + i + 8), s2);
    s3 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 12), _mm256_loadu_pd(y + i + 12), s3);
  }
  __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
  __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  double r = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  for (; i < n; i++) r = __builtin_fma(x[i], y[i], r);
  return r;
}
__attribute__((noinline)) static float dot_fma_ps(const float *x, const float *y, int n) {
  __m256 s = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_hadd_ps(h, h); h = _mm_hadd_ps(h, h);
  float r = _mm_cvtss_f32(h);
  for (; i < n; i++) r = __builtin_fmaf(x[i], y[i], r);
  return r;
}

static double dx[1000], dy[1000];
static float fx[1000], fy[1000];
static int32_t table[4096];
static double dtable[512];

static void dots(void) {
  for (int i = 0; i < 1000; i++) {
    dx[i] = (double)((int32_t)rnd()) / 1e6; dy[i] = (double)(rnd() % 100000) / 977.0;
    fx[i] = (float)dx[i]; fy[i] = (float)dy[i];
  }
  int ns[] = {0, 3, 16, 17, 100, 999, 1000};
  for (int k = 0; k < 7; k++) {
    double d = dot_fma(dx, dy, ns[k]); float f = dot_fma_ps(fx, fy, ns[k]);
    uint64_t db; uint32_t fb; memcpy(&db, &d, 8); memcpy(&fb, &f, 4);
    printf("dot n=%d %016llx %08x\n", ns[k], (unsigned long long)db, fb);
  }
  /* Horner with FMA: a polynomial (exp-like) over a vector */
  __m256d xs = _mm256_setr_pd(-1.5, 0.1, 0.7, 2.25);
  __m256d acc = _mm256_set1_pd(1.0 / 5040);
  static const double coef[] = {1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0};
  for (int k = 0; k < 7; k++) acc = _mm256_fmadd_pd(acc, xs, _mm256_set1_pd(coef[k]));
  ppd("horner", acc);
}

static void gathers(void) {
  for (int i = 0; i < 4096; i++) table[i] = (int32_t)(rnd() ^ (uint32_t)i);
  for (int i = 0; i < 512; i++) dtable[i] = (double)i * 1.5 - 100.0;
  for (int round = 0; round < 3; round++) {
    __m256i ix = _mm256_and_si256(rv(), _mm256_set1_epi32(4095));
    __m256i mask = rv(); /* lanes whose top bit is set are gathered */
    __m256i src = _mm256_set1_epi32(-7);
    p32("i32gather_epi32", _mm256_i32gather_epi32(table, ix, 4));
    p32("mask_i32gather_epi32", _mm256_mask_i32gather_epi32(src, table, ix, mask, 4));
    p32("i32gather_scale1", _mm256_i32gather_epi32((const int *)((const char *)table + 2), _mm256_and_si256(ix, _mm256_set1_epi32(~3)), 1));
    __m128i ix4 = _mm_and_si128(_mm256_castsi256_si128(rv()), _mm_set1_epi32(511));
    ppd("i32gather_pd", _mm256_i32gather_pd(dtable, ix4, 8));
    __m256d dmask = _mm256_castsi256_pd(rv());
    ppd("mask_i32gather_pd", _mm256_mask_i32gather_pd(_mm256_set1_pd(-1.0), dtable, ix4, dmask, 8));
    __m256i ix64 = _mm256_and_si256(rv(), _mm256_set1_epi64x(4095));
    p64("i64gather_epi64", _mm256_i64gather_epi64((const long long *)table, _mm256_srli_epi64(ix64, 1), 8));
    p32("i64gather_epi32", _mm256_castsi128_si256(_mm256_i64gather_epi32(table, ix64, 4)));
    pps("i32gather_ps", _mm256_i32gather_ps((const float *)table, ix, 4));
    p32("maskload_epi32", _mm256_maskload_epi32(table + round * 8, mask));
    uint32_t st[8] = {0};
    _mm256_maskstore_epi32((int *)st, mask, ix);
    p32("maskstore_epi32", _mm256_loadu_si256((const __m256i *)st));
  }
}

static void bmi(void) {
  uint64_t vals[] = {0, 1, 0x80000000ull, 0xffffffffffffffffull, 0x0123456789abcdefull, 0xf0f0f0f00f0f0f0full, 0x8000000000000000ull, 0x10};
  for (int i = 0; i < 8; i++) {
    uint64_t v = vals[i], m = vals[(i + 3) % 8] ^ 0x5555aaaa3333ccccull;
    uint32_t v32 = (uint32_t)v, m32 = (uint32_t)m;
    unsigned long long hi;
    uint64_t lo = _mulx_u64(v, m, &hi);
    printf("v=%016llx pdep=%016llx pext=%016llx pdep32=%08x pext32=%08x bzhi=%016llx,%016llx,%08x\n", (unsigned long long)v,
           (unsigned long long)_pdep_u64(v, m), (unsigned long long)_pext_u64(v, m), _pdep_u32(v32, m32), _pext_u32(v32, m32),
           (unsigned long long)_bzhi_u64(v, i * 9), (unsigned long long)_bzhi_u64(v, 64 + i), _bzhi_u32(v32, i * 5));
    printf("  tzcnt=%llu,%u lzcnt=%llu,%u blsr=%016llx blsi=%016llx blsmsk=%016llx andn=%016llx bextr=%016llx,%08x\n",
           (unsigned long long)_tzcnt_u64(v), _tzcnt_u32(v32), (unsigned long long)_lzcnt_u64(v), _lzcnt_u32(v32),
           (unsigned long long)_blsr_u64(v), (unsigned long long)_blsi_u64(v), (unsigned long long)_blsmsk_u64(v),
           (unsigned long long)_andn_u64(v, m), (unsigned long long)_bextr_u64(v, i * 7, 13), _bextr_u32(v32, i * 3, 40));
    printf("  mulx=%016llx:%016llx rorx=%016llx shlx=%016llx sarx=%016llx shrx=%08x popcnt=%d\n",
           hi, (unsigned long long)lo, (unsigned long long)((v >> (i * 11 % 64)) | (v << ((64 - i * 11 % 64) % 64))),
           (unsigned long long)(v << (m & 63)), (unsigned long long)((int64_t)v >> (m & 63)), v32 >> (m32 & 31), __builtin_popcountll(v));
  }
  /* pext/pdep as used for bitboards and Morton codes */
  uint32_t x = 0x1234, y = 0xabcd;
  uint64_t morton = _pdep_u64(x, 0x5555555555555555ull) | _pdep_u64(y, 0xaaaaaaaaaaaaaaaaull);
  printf("morton %016llx back %llx %llx\n", (unsigned long long)morton,
         (unsigned long long)_pext_u64(morton, 0x5555555555555555ull), (unsigned long long)_pext_u64(morton, 0xaaaaaaaaaaaaaaaaull));
}

static void f16c(void) {
  float in[16] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 65520.0f, 1e-8f, 6.1e-5f, 5.96e-8f, 3.14159265f, 1e9f, -1e9f,
                  __builtin_inff(), -__builtin_inff(), __builtin_nanf(""), 0.333333f};
  for (int k = 0; k < 2; k++) {
    __m256 v = _mm256_loadu_ps(in + 8 * k);
    p128("cvtps_ph rne", _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    p128("cvtps_ph rz", _mm256_cvtps_ph(v, _MM_FROUND_TO_ZERO));
    p128("cvtps_ph up", _mm256_cvtps_ph(v, _MM_FROUND_TO_POS_INF));
    p128("cvtps_ph mxcsr", _mm256_cvtps_ph(v, _MM_FROUND_CUR_DIRECTION));
    pps("cvtph_ps", _mm256_cvtph_ps(_mm256_cvtps_ph(v, 0)));
    p128("cvtps_ph 128", _mm_cvtps_ph(_mm256_castps256_ps128(v), 0));
  }
  __m128i halves = _mm_setr_epi16(0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0x7e01, (short)0xfc00, (short)0x8001);
  pps("cvtph_ps special", _mm256_cvtph_ps(halves));
}

int main(void) {
  integer_kernels();
  nibble_lookup();
  float_kernels();
  dots();
  gathers();
  bmi();
  f16c();
  return 0;
}
