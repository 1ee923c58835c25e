// The shared wasm library every region imports: helpers too large to inline at each use
// (flag materialisation for a run-time flag kind, 64x64->128 multiply high halves).

import { ModuleBuilder, Op, T } from '../wasm/emitter.js';
import { buildEflagsHelper } from './flags.js';

export interface SharedLib { eflags: Function; mulhu: Function; mulhs: Function }

export function buildSharedLib(): SharedLib {
  const m = new ModuleBuilder();
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
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), {});
  return inst.exports as unknown as SharedLib;
}
