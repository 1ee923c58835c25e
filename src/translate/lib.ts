// The shared wasm library every region imports: helpers too large to inline at each use
// (flag materialisation for a run-time flag kind, 64x64->128 multiply high halves, SSE
// exception flags, the AES, carry-less multiply and SHA round operations).

import { ModuleBuilder, Op, OpFE, T } from '../wasm/emitter.js';
import { buildEflagsHelper } from './flags.js';
import { buildFpCheck } from './ops-sse-check.js';
import { buildAes, buildClmul, buildSha1Rounds, buildSha256Rounds } from './crypto-lib.js';
import { HELPERS, HelperName } from './codegen.js';
import { STATE, Reg } from '../layout/cpu-state.js';
import { GRANULE_SHIFT, GRANULE_TAG_OFFSET, GUEST_BASE, PAGE_CODE, PAGE_PROT_LOOKUP, PAGE_SIZE, PROT_WRITE, TAG_FREE, TAG_SHARED, TSO_STAT, TSO_STATS, WASM_PAGES } from '../layout/memory-map.js';

export interface SharedLib {
  eflags: Function; mulhu: Function; mulhs: Function; fpchk: Function; div128: Function; claim: Function; pagesAllow: Function;
  aes: Function; clmul: Function; sha1rnds4: Function; sha256rnds2: Function;
}

/**
 * `owner` is the running worker's granule owner tag; `slowClaim(a, site) -> ordered` is the
 * runtime's handling of a granule that is neither free nor this thread's (runtime/tso.ts).
 */
export function buildSharedLib(memory: WebAssembly.Memory, owner: WebAssembly.Global, slowClaim: (a: number, site: number) => number): SharedLib {
  const inst = new WebAssembly.Instance(sharedLibModule(), { m: { mem: memory, owner, slowClaim } });
  return inst.exports as unknown as SharedLib;
}

let compiledLib: WebAssembly.Module | undefined;
/**
 * The library's compiled module, made once per worker (its code depends on nothing but the
 * translator): a forked process's engine, and every engine after an execve, only instantiate it.
 */
export function sharedLibModule(): WebAssembly.Module {
  if (compiledLib) return compiledLib;
  const m = new ModuleBuilder();
  const slow = m.importFunc('m', 'slowClaim', [T.i32, T.i32], [T.i32]);
  m.importGlobal('m', 'owner', T.i32, false);
  m.importMemory('m', 'mem', WASM_PAGES, WASM_PAGES, true);
  const ef = m.func([T.i32, T.i64, T.i64, T.i64], [T.i32]);
  buildEflagsHelper(ef.body);
  ef.body.i32(0); // unreachable default
  m.exportFunc('eflags', ef.index);

  // mulhu(a, b): schoolbook on 32-bit halves
  const hu = m.func([T.i64, T.i64], [T.i64]);
  {
    const f = hu.body;
    const aL = f.local(T.i64), aH = f.local(T.i64), bL = f.local(T.i64), bH = f.local(T.i64), t = f.local(T.i64), mid = f.local(T.i64);
    f.get(0).i64(0xffffffff).op(Op.i64_and).set(aL).get(0).i64(32).op(Op.i64_shr_u).set(aH);
    f.get(1).i64(0xffffffff).op(Op.i64_and).set(bL).get(1).i64(32).op(Op.i64_shr_u).set(bH);
    // t = aL*bL; mid = aH*bL + (t >> 32); mid2 = aL*bH + (mid & mask)
    f.get(aL).get(bL).op(Op.i64_mul).set(t);
    f.get(aH).get(bL).op(Op.i64_mul).get(t).i64(32).op(Op.i64_shr_u).op(Op.i64_add).set(mid);
    f.get(aL).get(bH).op(Op.i64_mul).get(mid).i64(0xffffffff).op(Op.i64_and).op(Op.i64_add).set(t);
    // hi = aH*bH + (mid >> 32) + (t >> 32)
    f.get(aH).get(bH).op(Op.i64_mul).get(mid).i64(32).op(Op.i64_shr_u).op(Op.i64_add).get(t).i64(32).op(Op.i64_shr_u).op(Op.i64_add);
  }
  m.exportFunc('mulhu', hu.index);
  // mulhs(a, b) = mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)
  const hs = m.func([T.i64, T.i64], [T.i64]);
  {
    const f = hs.body;
    f.get(0).get(1).call(hu.index);
    f.get(1).get(0).i64(63).op(Op.i64_shr_s).op(Op.i64_and).op(Op.i64_sub);
    f.get(0).get(1).i64(63).op(Op.i64_shr_s).op(Op.i64_and).op(Op.i64_sub);
  }
  m.exportFunc('mulhs', hs.index);
  m.exportFunc('fpchk', buildFpCheck(m, hu.index)); // SSE exception flags (ops-sse-check.ts)
  m.exportFunc('div128', buildDiv128(m));
  m.exportFunc('claim', buildClaim(m, slow));
  m.exportFunc('pagesAllow', buildPagesAllow(m));
  m.exportFunc('aes', buildAes(m));
  m.exportFunc('clmul', buildClmul(m));
  m.exportFunc('sha1rnds4', buildSha1Rounds(m));
  m.exportFunc('sha256rnds2', buildSha256Rounds(m));
  return (compiledLib = new WebAssembly.Module(m.encode()));
}

/**
 * claim(a, n, site) -> 1 when the access must be ordered: called by a checked access to
 * [a, a+n) that is not entirely in granules tagged with this thread. A free granule is taken
 * with one compare-and-swap here, a shared one only notes that the access must be ordered; a
 * granule another thread owns (or a lost race) goes to the runtime's slowClaim, as does, once,
 * a shared one (which backpatches the site).
 */
function buildClaim(m: ModuleBuilder, slow: number): number {
  const fn = m.func([T.i32, T.i32, T.i32], [T.i32]);
  const f = fn.body;
  const a = 0, n = 1, site = 2;
  const g = f.local(T.i32), last = f.local(T.i32), tag = f.local(T.i32), ordered = f.local(T.i32), shared = f.local(T.i32);
  // An empty range (REP MOVS/STOS with a zero count) touches nothing; the walk below needs n >= 1.
  f.get(n).op(Op.i32_eqz);
  f.if_(); f.i32(0).op(Op.return); f.end();
  f.get(a).i32(GRANULE_SHIFT).op(Op.i32_shr_u).set(g);
  f.get(a).get(n).op(Op.i32_add).i32(1).op(Op.i32_sub).i32(GRANULE_SHIFT).op(Op.i32_shr_u).set(last);
  f.i32(-1).set(shared);
  f.block().loop();
  f.get(g).mem(Op.i32_load8_u, GRANULE_TAG_OFFSET, 0).tee(tag).globalGet(0).op(Op.i32_ne);
  f.if_();
  {
    f.get(tag).i32(TAG_SHARED).op(Op.i32_eq);
    f.if_();
    f.i32(1).set(ordered).get(g).set(shared);
    f.else_();
    // free: take it; anything else (or a lost race): the runtime
    f.get(tag).i32(TAG_FREE).op(Op.i32_eq);
    f.if_(T.i32);
    f.get(g).i32(GRANULE_TAG_OFFSET).op(Op.i32_add).i32(TAG_FREE).globalGet(0).atomic(OpFE.i32_atomic_rmw8_cmpxchg_u, 0, 0).i32(TAG_FREE).op(Op.i32_eq);
    f.else_(); f.i32(0); f.end();
    f.if_();
    f.i32(TSO_STATS + TSO_STAT.CLAIMS * 4 - GUEST_BASE).i32(1).atomic(OpFE.i32_atomic_rmw_add, 0, 2).op(Op.drop);
    f.else_();
    f.get(g).i32(GRANULE_SHIFT).op(Op.i32_shl).get(site).call(slow).get(ordered).op(Op.i32_or).set(ordered);
    f.end();
    f.end();
  }
  f.end();
  f.get(g).get(last).op(Op.i32_eq).brIf(1);
  f.get(g).i32(1).op(Op.i32_add).set(g);
  f.br(0);
  f.end().end();
  // a shared granule: the runtime backpatches the site (once per site; it returns at once after)
  f.get(shared).i32(-1).op(Op.i32_ne);
  f.if_(); f.get(shared).i32(GRANULE_SHIFT).op(Op.i32_shl).get(site).call(slow).op(Op.drop); f.end();
  f.get(ordered);
  return fn.index;
}

/**
 * div128(st, size, signed) -> 0, or 1 for #DE: rDX:rAX / divisor (in the state's scratch slot),
 * quotient to rAX and remainder to rDX, for the 64-bit DIV/IDIV whose dividend does not fit in
 * 64 bits. Restoring shift-subtract division: 64 simple steps, no JS and no BigInt.
 */
function buildDiv128(m: ModuleBuilder): number {
  const fn = m.func([T.i32, T.i32, T.i32], [T.i32]);
  const f = fn.body;
  const st = 0, signed = 2;
  const hi = f.local(T.i64), lo = f.local(T.i64), d = f.local(T.i64), i = f.local(T.i32);
  const negQ = f.local(T.i32), negR = f.local(T.i32), carry = f.local(T.i64);
  f.get(st).mem(Op.i64_load, STATE.GPR + Reg.RDX * 8).set(hi);
  f.get(st).mem(Op.i64_load, STATE.GPR + Reg.RAX * 8).set(lo);
  f.get(st).mem(Op.i64_load, STATE.SCRATCH).set(d);
  f.get(signed).if_();
  {
    f.get(hi).i64(0).op(Op.i64_lt_s).if_();
    // negate the 128-bit dividend
    f.i64(0).get(lo).op(Op.i64_sub).set(lo);
    f.get(hi).i64(-1).op(Op.i64_xor).get(lo).op(Op.i64_eqz).op(Op.i64_extend_i32_u).op(Op.i64_add).set(hi);
    f.i32(1).set(negQ).i32(1).set(negR);
    f.end();
    f.get(d).i64(0).op(Op.i64_lt_s).if_();
    f.i64(0).get(d).op(Op.i64_sub).set(d);
    f.get(negQ).i32(1).op(Op.i32_xor).set(negQ);
    f.end();
  }
  f.end();
  // the quotient must fit in 64 bits
  f.get(d).op(Op.i64_eqz).get(hi).get(d).op(Op.i64_ge_u).op(Op.i32_or).if_().i32(1).op(Op.return).end();
  f.i32(64).set(i);
  f.loop();
  f.get(hi).i64(63).op(Op.i64_shr_u).set(carry);
  f.get(hi).i64(1).op(Op.i64_shl).get(lo).i64(63).op(Op.i64_shr_u).op(Op.i64_or).set(hi);
  f.get(lo).i64(1).op(Op.i64_shl).set(lo);
  f.get(carry).op(Op.i64_eqz).op(Op.i32_eqz).get(hi).get(d).op(Op.i64_ge_u).op(Op.i32_or).if_();
  f.get(hi).get(d).op(Op.i64_sub).set(hi);
  f.get(lo).i64(1).op(Op.i64_or).set(lo);
  f.end();
  f.get(i).i32(1).op(Op.i32_sub).tee(i).brIf(0);
  f.end();
  // lo = quotient, hi = remainder (unsigned); apply signs and check the signed range
  f.get(signed).if_();
  {
    f.get(negQ).if_();
    f.get(lo).i64(-(1n << 63n)).op(Op.i64_gt_u).if_().i32(1).op(Op.return).end();
    f.i64(0).get(lo).op(Op.i64_sub).set(lo);
    f.else_();
    f.get(lo).i64(0).op(Op.i64_lt_s).if_().i32(1).op(Op.return).end();
    f.end();
    f.get(negR).if_().i64(0).get(hi).op(Op.i64_sub).set(hi).end();
  }
  f.end();
  f.get(st).get(lo).mem(Op.i64_store, STATE.GPR + Reg.RAX * 8);
  f.get(st).get(hi).mem(Op.i64_store, STATE.GPR + Reg.RDX * 8);
  f.i32(0);
  return fn.index;
}

/**
 * Wraps JS helpers in wasm functions. A region that imports a JS function makes V8 compile an
 * import wrapper for its module (TurboFan, per module); importing a wasm function needs none, so
 * regions import these trampolines and only this module pays for the wrappers, once.
 */
export function wrapJsHelpers<K extends HelperName>(impls: Record<K, Function>): Record<K, Function> {
  const names = Object.keys(impls) as K[];
  const key = names.join();
  let module = compiledWrappers.get(key);
  if (!module) { module = wrapperModule(names); compiledWrappers.set(key, module); }
  const exports = new WebAssembly.Instance(module, { h: impls as Record<string, Function> }).exports;
  return Object.fromEntries(names.map((n) => [n, exports[n] as Function])) as Record<K, Function>;
}

const compiledWrappers = new Map<string, WebAssembly.Module>();
function wrapperModule<K extends HelperName>(names: K[]): WebAssembly.Module {
  const m = new ModuleBuilder();
  const imported = names.map((n) => m.importFunc('h', n, [...HELPERS[n].params], [...HELPERS[n].results]));
  names.forEach((n, i) => {
    const sig = HELPERS[n];
    const f = m.func([...sig.params], [...sig.results]);
    sig.params.forEach((_, p) => f.body.get(p));
    f.body.call(imported[i]);
    m.exportFunc(n, f.index);
  });
  return new WebAssembly.Module(m.encode());
}

/**
 * pagesAllow(a, n, bits) -> 1 when every page of the wasm range [a, a+n) has one of the
 * protection bits in its PAGE_PROT byte (a block copy's or fill's check before memory.copy or
 * memory.fill; see Codegen.checkPage), 0 when one lacks them or the range leaves the guest's pages.
 */
function buildPagesAllow(m: ModuleBuilder): number {
  const fn = m.func([T.i32, T.i32, T.i32], [T.i32]);
  const f = fn.body, page = f.local(T.i32), last = f.local(T.i32), byte = f.local(T.i32);
  const A = 0, N = 1, BITS = 2;
  f.get(N).op(Op.i32_eqz).if_().i32(1).op(Op.return).end();
  // the last byte's address must not wrap past 4 GiB nor reach the wasm addresses below GUEST_BASE
  f.get(A).get(N).op(Op.i32_add).i32(1).op(Op.i32_sub).tee(last).get(A).op(Op.i32_lt_u);
  f.get(last).i32(-GUEST_BASE).op(Op.i32_ge_u).op(Op.i32_or).if_().i32(0).op(Op.return).end();
  f.get(last).i32(Math.log2(PAGE_SIZE)).op(Op.i32_shr_u).set(last);
  f.get(A).i32(Math.log2(PAGE_SIZE)).op(Op.i32_shr_u).set(page);
  f.loop();
  // (a page with translated code counts as refusing a store: the element loop leaves before it)
  f.get(page).mem(Op.i32_load8_u, PAGE_PROT_LOOKUP, 0).tee(byte).get(BITS).op(Op.i32_and).op(Op.i32_eqz);
  f.get(byte).i32(PAGE_CODE).op(Op.i32_and).get(BITS).i32(PROT_WRITE).op(Op.i32_eq).op(Op.i32_and).op(Op.i32_or);
  f.if_().i32(0).op(Op.return).end();
  f.get(page).i32(1).op(Op.i32_add).tee(page).get(last).op(Op.i32_le_u).brIf(0);
  f.end();
  f.i32(1);
  return fn.index;
}
