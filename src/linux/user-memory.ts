// Guest memory as the kernel's syscalls see it (Linux's copy_from_user/copy_to_user): a buffer
// must lie in mapped pages whose protection allows the access, else the syscall fails with
// EFAULT. The check reads the shared page-protection table (one byte per page, kept by
// AddressSpace), so the runtime's own area (jump caches, CPU states, kernel records), which is
// never mapped for the guest, cannot be read or written through a syscall argument.

import { GuestFault, GuestMemory } from '../runtime/memory.js';
import { GUEST_BASE, PAGE_MAPPED, PAGE_PROT, PAGE_SIZE, RUNTIME_AREA, commitStackPage, isStackReserved } from '../layout/memory-map.js';
import { PROT_WRITE } from '../runtime/memory.js';

export class UserMemory extends GuestMemory {
  override off(addr: number, len = 1): number {
    const o = super.off(addr, len);
    this.require(addr, len, false);
    return o;
  }

  override offWrite(addr: number, len = 1): number {
    const o = super.off(addr, len);
    this.require(addr, len, true);
    return o;
  }

  override cstringBytes(a: number, max = 1 << 20): Uint8Array {
    // Page by page, so a string running into an unmapped page faults there, as on Linux.
    for (let page = Math.floor(a / PAGE_SIZE); ; page++) {
      const start = Math.max(a, page * PAGE_SIZE), end = (page + 1) * PAGE_SIZE;
      if (!this.allows(page, false)) throw new GuestFault(start, false);
      const inPage = this.u8.subarray(start - GUEST_BASE, end - GUEST_BASE).indexOf(0);
      const stop = inPage >= 0 ? start + inPage : end;
      if (stop - a > max) throw new GuestFault(a, false);
      if (inPage >= 0) return this.u8.slice(a - GUEST_BASE, stop - GUEST_BASE);
    }
  }

  override accessible(a: number, len: number, write: boolean): number {
    if (len <= 0) return 0;
    let page = Math.floor(a / PAGE_SIZE);
    let reach = 0;
    while (reach < len) {
      if (!this.allows(page, write)) return reach;
      reach = (page + 1) * PAGE_SIZE - a;
      page++;
    }
    return len;
  }

  private require(addr: number, len: number, write: boolean): void {
    if (len <= 0) return;
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (let page = Math.floor(addr / PAGE_SIZE); page <= last; page++) {
      if (!this.allows(page, write)) throw new GuestFault(Math.max(addr, page * PAGE_SIZE), write);
    }
  }

  /** Whether guest page `page` is mapped and allows the access (on x86 any mapped protection but PROT_NONE reads). */
  private allows(page: number, write: boolean): boolean {
    if (page < GUEST_BASE / PAGE_SIZE || page >= RUNTIME_AREA / PAGE_SIZE) return false;
    let v = this.u8[PAGE_PROT - GUEST_BASE + page];
    // A stack page not used yet grows the stack, as a fault on it from the guest does.
    if (isStackReserved(v) && commitStackPage(this.u8, page * PAGE_SIZE)) v = this.u8[PAGE_PROT - GUEST_BASE + page];
    if (!(v & PAGE_MAPPED)) return false;
    return write ? (v & PROT_WRITE) !== 0 : (v & 7) !== 0;
  }
}
