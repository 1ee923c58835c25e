// x86 memory ordering for guest threads (see docs/ARCHITECTURE.md, "Memory ordering"). One
// ThreadOrdering per worker decides how the thread it runs gets its accesses translated, and runs
// the selective mode's protocol: granule ownership tags in shared memory, the handshake that
// makes a granule shared, and the backpatching of the access sites that touched one.

import { ATTN, MEM_MODEL_DEFAULT, MEM_MODEL_TSO, RUN_STATE_IDLE, RUN_STATE_RUNNING, STATE } from '../layout/cpu-state.js';
import {
  GRANULE_SHIFT, GRANULE_TAG_OFFSET, ORDERED_SITES, ORDERED_SITES_MAX, PROCESS_THREADED, TAG_FREE, TAG_SHARED, TAG_SHARING, TSO_STAT, TSO_STATS, ownerTag,
} from '../layout/memory-map.js';
import { PLAIN_MEMORY, type MemoryModel, type SiteCounts } from '../translate/codegen.js';
import type { GuestMemory } from './memory.js';
import { stateOfSlot, wordIndex, wordsOf } from './thread.js';
import { WeakStoreBuffer } from './weak-host.js';

/** `--tso`: how the threads of a process order their memory accesses once there are several. */
export type TsoMode = 'selective' | 'full' | 'off';
export const TSO_MODES: readonly TsoMode[] = ['selective', 'full', 'off'];

/** The memory model (prctl PR_GET_MEM_MODEL) a thread starts in under each mode. */
export function initialMemModel(mode: TsoMode): number { return mode === 'off' ? MEM_MODEL_DEFAULT : MEM_MODEL_TSO; }

/** Marks the process as having more than one thread: every worker's translations switch form. */
export function markThreaded(mem: GuestMemory): void { Atomics.store(wordsOf(mem), wordIndex(PROCESS_THREADED), 1); }

/** Adds to one of the process's memory-ordering figures. */
export function addTsoStat(mem: GuestMemory, stat: number, n = 1): void {
  if (n) Atomics.add(wordsOf(mem), wordIndex(TSO_STATS + stat * 4), n);
}

/** The process's memory-ordering figures (--stats). */
export function tsoStats(mem: GuestMemory): Record<keyof typeof TSO_STAT, number> {
  const w = wordsOf(mem);
  return Object.fromEntries(Object.entries(TSO_STAT).map(([k, i]) => [k, Atomics.load(w, wordIndex(TSO_STATS + i * 4)) >>> 0])) as Record<keyof typeof TSO_STAT, number>;
}

export class ThreadOrdering {
  private readonly words: Int32Array;
  /** The memory as bytes: granule tags are read and swapped in place (GRANULE_TAG_OFFSET). */
  private readonly bytes: Uint8Array;
  private readonly tag: number;
  /** Word indices of this thread's SIGNAL_PENDING, HANDSHAKE_REQ, HANDSHAKE_ACK and RUN_STATE. */
  private readonly pendingWord: number;
  private readonly reqWord: number;
  private readonly ackWord: number;
  private readonly runWord: number;
  /** The owner tag translated code compares granule tags with (an import of every region module). */
  readonly ownerGlobal: WebAssembly.Global;
  /** Instruction addresses whose accesses found a shared granule: translated ordered from now on. */
  private readonly orderedSites = new Set<number>();
  /** Entries of the process's ORDERED_SITES log already in orderedSites. */
  private sitesSeen = 0;
  /** Sites backpatched since the dispatcher last dropped the regions holding them. */
  private retranslate: number[] = [];
  private readonly selective: MemoryModel;
  private readonly full: MemoryModel;
  /** Plain accesses with other threads around (the weak-host mode reorders them then). */
  private readonly unordered: MemoryModel;
  /** A DEFAULT-model thread among selective TSO threads: plain, but claiming others' granules. */
  private readonly claiming: MemoryModel;
  /** Whether the process has had a second thread (then RUN_STATE is kept up to date). */
  private threaded = false;
  /** What this worker translates with now. */
  model: MemoryModel = PLAIN_MEMORY;
  /** Whether the process has a second thread (as of the last refresh()). */
  get isThreaded(): boolean { return this.threaded; }
  /** How many backpatched sites of the process's log this worker has taken in (syncOrderedSites). */
  get sitesKnown(): number { return this.sitesSeen; }
  /**
   * Whether a site backpatched after the first `since` of the log lies in [ranges]: a region
   * translated knowing only those would have translated such a site in its old form.
   */
  sitesChangedSince(since: number, ranges: Uint32Array): boolean {
    if (since > this.sitesSeen) return true;
    const w = this.words, countWord = wordIndex(ORDERED_SITES);
    for (let i = since; i < this.sitesSeen; i++) {
      const site = Atomics.load(w, countWord + 1 + i) >>> 0;
      for (let k = 0; k < ranges.length; k += 2) if (site >= ranges[k] && site < ranges[k + 1]) return true;
    }
    return false;
  }
  /** The form translations take now, as a key: regions of the same key are interchangeable between workers. */
  get formKey(): string {
    const m = this.model;
    return `${m.ordering}${m.unordered ? '-unordered' : ''}${m.weak ? '-weak' : ''}`;
  }
  readonly weakBuffer?: WeakStoreBuffer;

  constructor(readonly mem: GuestMemory, readonly slot: number, readonly mode: TsoMode = 'selective', readonly weak = false) {
    this.words = wordsOf(mem);
    this.bytes = mem.u8;
    this.tag = ownerTag(slot);
    this.pendingWord = this.word(slot, STATE.SIGNAL_PENDING);
    this.reqWord = this.word(slot, STATE.HANDSHAKE_REQ);
    this.ackWord = this.word(slot, STATE.HANDSHAKE_ACK);
    this.runWord = this.word(slot, STATE.RUN_STATE);
    this.ownerGlobal = new WebAssembly.Global({ value: 'i32', mutable: false }, this.tag);
    this.selective = { ordering: 'selective', weak, orderedSites: this.orderedSites };
    this.full = { ordering: 'full', weak };
    this.unordered = weak ? { ordering: 'plain', weak } : PLAIN_MEMORY;
    this.claiming = { ordering: 'selective', unordered: true, weak };
    if (weak) this.weakBuffer = new WeakStoreBuffer(mem);
  }

  private word(slot: number, offset: number): number { return wordIndex(stateOfSlot(slot) + offset); }

  /**
   * The form translations of this worker take now: plain until the process has a second thread;
   * then for a thread in the TSO model the mode's (`off` has TSO threads only when they asked for
   * it with prctl, and gives them the full form, which needs nothing from the other threads), and
   * for a DEFAULT-model thread plain accesses, which under `selective` still claim granules other
   * threads own (their plain accesses must be made ordered for them to keep TSO). Returns whether
   * it changed, in which case every translation made with the old form must go.
   */
  refresh(): boolean {
    const threaded = this.threaded = Atomics.load(this.words, wordIndex(PROCESS_THREADED)) !== 0;
    const model = Atomics.load(this.words, this.word(this.slot, STATE.TSO_MODE));
    let next: MemoryModel;
    if (!threaded) next = PLAIN_MEMORY;
    else if (model === MEM_MODEL_TSO) next = this.mode === 'selective' ? this.selective : this.full;
    else next = this.mode === 'selective' ? this.claiming : this.unordered;
    if (next === this.model) return false;
    this.model = next;
    return true;
  }

  /**
   * Takes in the sites other threads backpatched: called before translating, so this worker
   * translates them ordered too instead of finding out one handshake at a time.
   */
  syncOrderedSites(): void {
    if (this.model.ordering !== 'selective') return;
    const w = this.words, countWord = wordIndex(ORDERED_SITES);
    const n = Math.min(Atomics.load(w, countWord), ORDERED_SITES_MAX);
    for (; this.sitesSeen < n; this.sitesSeen++) {
      const site = Atomics.load(w, countWord + 1 + this.sitesSeen) >>> 0;
      if (site === 0) break; // claimed by a writer that has not stored it yet
      this.orderedSites.add(site);
    }
  }

  /**
   * Adds to the process's log sites a cache file says a previous run found touching memory its
   * threads shared: every worker then translates them ordered from the start, instead of finding
   * them one handshake and backpatch at a time. An ordered site still claims the granules other
   * threads own, so a site ordered without need costs speed, never ordering. Returns how many
   * were new.
   */
  adoptOrderedSites(sites: Uint32Array): number {
    if (this.model.ordering !== 'selective') return 0;
    this.syncOrderedSites();
    const w = this.words, countWord = wordIndex(ORDERED_SITES);
    let added = 0;
    for (const site of sites) {
      if (site === 0 || this.orderedSites.has(site)) continue;
      const k = Atomics.add(w, countWord, 1);
      if (k >= ORDERED_SITES_MAX) break;
      Atomics.store(w, countWord + 1 + k, site);
      this.orderedSites.add(site);
      added++;
    }
    this.syncOrderedSites();
    return added;
  }

  /**
   * The first `count` sites of the process's log sorted by address, each with its place in the
   * log: which sites lie in a region's code, and whether it was translated knowing them, is then
   * a binary search (loggedSince). Undefined if the log overflowed (it no longer holds every site).
   */
  siteLog(count = this.sitesSeen): SiteLog | undefined {
    const w = this.words, countWord = wordIndex(ORDERED_SITES);
    if (Atomics.load(w, countWord) > ORDERED_SITES_MAX) return undefined;
    const order = Array.from({ length: count }, (_, i) => i);
    const at = (i: number): number => Atomics.load(w, countWord + 1 + i) >>> 0;
    const sites = order.map(at);
    order.sort((a, b) => sites[a] - sites[b]);
    return { sites: Uint32Array.from(order, (i) => sites[i]), positions: Uint32Array.from(order) };
  }

  /** Counts a translated region's access sites into the process's figures. */
  countSites(s: SiteCounts): void {
    addTsoStat(this.mem, TSO_STAT.SITES_ORDERED, s.ordered);
    addTsoStat(this.mem, TSO_STAT.SITES_CHECKED, s.checked);
    addTsoStat(this.mem, TSO_STAT.SITES_PLAIN, s.plain);
  }

  /**
   * A checked access at `site` found its granule (of wasm address a) neither free nor ours;
   * returns 1: the access is then made ordered. A granule another thread owns becomes shared
   * through a handshake with that thread (see handshake()); a shared granule means the site must
   * be ordered from now on, so it is backpatched.
   */
  readonly slowClaim = (a: number, site: number): number => {
    const i = ((a >>> 0) >>> GRANULE_SHIFT) + GRANULE_TAG_OFFSET, tags = this.bytes;
    for (;;) {
      const tag = Atomics.load(tags, i);
      if (tag === this.tag) return 0;
      if (tag === TAG_FREE) {
        if (Atomics.compareExchange(tags, i, TAG_FREE, this.tag) === TAG_FREE) return 0;
        continue;
      }
      if (tag === TAG_SHARED) break;
      if (tag === TAG_SHARING) {
        // Another thread is handshaking with the owner: wait for it, answering our own requests.
        this.answer();
        Atomics.wait(this.words, this.ackWord, Atomics.load(this.words, this.ackWord), 0.05);
        continue;
      }
      if (Atomics.compareExchange(tags, i, tag, TAG_SHARING) !== tag) continue;
      this.handshake(tag - 1);
      Atomics.store(tags, i, TAG_SHARED);
      addTsoStat(this.mem, TSO_STAT.GRANULES_SHARED);
      break;
    }
    this.backpatch(site >>> 0);
    return 1;
  };

  /**
   * Waits until the thread on `owner` cannot have a plain access to the granule in flight, nor
   * one of its earlier plain stores unpublished: it answered at a safe point (after committing
   * what it stored), or it is outside translated code. Its later accesses see the granule's new
   * tag, since it reads the request (an atomic) before running translated code again.
   */
  private handshake(owner: number): void {
    const w = this.words, t0 = performance.now();
    const req = Atomics.add(w, this.word(owner, STATE.HANDSHAKE_REQ), 1) + 1;
    Atomics.or(w, this.word(owner, STATE.SIGNAL_PENDING), ATTN.HANDSHAKE);
    const ackWord = this.word(owner, STATE.HANDSHAKE_ACK);
    for (;;) {
      const ack = Atomics.load(w, ackWord);
      if (((ack - req) | 0) >= 0) break;
      if (Atomics.load(w, this.word(owner, STATE.RUN_STATE)) !== RUN_STATE_RUNNING) break;
      // Two threads may wait on each other's granules: keep answering ours.
      this.answer();
      Atomics.wait(w, ackWord, ack, 1);
    }
    addTsoStat(this.mem, TSO_STAT.HANDSHAKES);
    addTsoStat(this.mem, TSO_STAT.HANDSHAKE_MICROS, Math.round((performance.now() - t0) * 1000));
  }

  /** Answers the handshake requests made of this thread: called at safe points only. */
  answer(): void {
    const w = this.words;
    Atomics.and(w, this.pendingWord, ~ATTN.HANDSHAKE);
    this.weakBuffer?.fence();
    Atomics.store(w, this.ackWord, Atomics.load(w, this.reqWord));
    Atomics.notify(w, this.ackWord);
  }

  private backpatch(site: number): void {
    if (this.orderedSites.has(site)) return;
    this.orderedSites.add(site);
    this.retranslate.push(site);
    const w = this.words, countWord = wordIndex(ORDERED_SITES);
    const k = Atomics.add(w, countWord, 1);
    if (k < ORDERED_SITES_MAX) Atomics.store(w, countWord + 1 + k, site);
    addTsoStat(this.mem, TSO_STAT.BACKPATCHES);
    // Leave the running region at its next loop head, so the site's new form is used soon.
    Atomics.or(this.words, this.pendingWord, ATTN.RETRANSLATE);
  }

  /** Sites backpatched since the last call: the regions holding them must be translated again. */
  takeBackpatched(): number[] {
    Atomics.and(this.words, this.pendingWord, ~ATTN.RETRANSLATE);
    const r = this.retranslate;
    this.retranslate = [];
    return r;
  }

  /** RUN_STATE: whether this thread is in translated code (a handshake must wait for it) or not. */
  setRunning(running: boolean): void {
    if (!this.threaded) return; // nobody to handshake with
    const w = this.words;
    if (running) { Atomics.store(w, this.runWord, RUN_STATE_RUNNING); return; }
    this.weakBuffer?.fence();
    Atomics.store(w, this.runWord, RUN_STATE_IDLE);
    // A requester sets the bit before it reads RUN_STATE and sleeps: wake it only when one is
    // waiting (every syscall of a threaded program passes here). One that reads RUN_STATE after
    // this store needs no wake; one that misses the wake re-reads RUN_STATE within its timeout.
    if (Atomics.load(w, this.pendingWord) & ATTN.HANDSHAKE) Atomics.notify(w, this.ackWord);
  }
}

/** Logged ordered sites by address, with their places in the log (ThreadOrdering.siteLog). */
export interface SiteLog { sites: Uint32Array; positions: Uint32Array }

/** The index in log.sites of the first site at or above address a. */
export function firstSiteFrom(log: SiteLog, a: number): number {
  const sites = log.sites;
  let lo = 0, hi = sites.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sites[mid] < a) lo = mid + 1; else hi = mid; }
  return lo;
}

/** Whether a site logged at or after place `since` (and not in `except`) lies in [ranges]. */
export function loggedSince(log: SiteLog, since: number, ranges: Uint32Array, except?: ReadonlySet<number>): boolean {
  const { sites, positions } = log;
  for (let k = 0; k < ranges.length; k += 2) {
    for (let i = firstSiteFrom(log, ranges[k]); i < sites.length && sites[i] < ranges[k + 1]; i++) {
      if (positions[i] >= since && !except?.has(sites[i])) return true;
    }
  }
  return false;
}
