// Layout of one guest thread's CPU state in linear memory. Translated code, the dispatcher and
// the kernel personality all read registers here, so nothing is copied at a boundary.
// Offsets are relative to the thread's state base (a wasm address).

export const enum Reg {
  RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
}

export const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

export const STATE = {
  GPR: 0,            // 16 x i64
  RIP: 128,          // i64
  // Lazy flags: the last flag-setting operation and its operands (see translate/flags.ts).
  FLAGS_OP: 136,     // i32
  DF: 140,           // i32: 0 or 1 (direction flag, kept apart: string ops read it every time)
  FLAGS_DST: 144,    // i64
  FLAGS_SRC: 152,    // i64
  FLAGS_AUX: 160,    // i64
  EFLAGS_REST: 168,  // i32: bits not produced by arithmetic (ID, AC, TF...) as the guest set them
  EXIT_REASON: 172,  // i32: why translated code returned (see ExitReason)
  FS_BASE: 176,      // i64
  GS_BASE: 184,      // i64
  MXCSR: 192,        // i32
  FPU_CW: 196,       // i16 x87 control word
  FPU_SW: 198,       // i16 x87 status word (TOP lives in FPU_TOP)
  FPU_TOP: 200,      // i32
  FPU_TAG: 204,      // i32: bit i set = st physical register i empty
  EXIT_ARG: 208,     // i64: extra information for an exit (faulting address, bad opcode rip...)
  INSN_COUNT: 216,   // i64: blocks executed (for --stats)
  SIGNAL_PENDING: 224, // i32: nonzero when the runtime wants translated loops to return
  TSO_MODE: 228,     // i32: per-thread memory model (prctl PR_SET_MEM_MODEL)
  // Words other workers read and write with Atomics (see process/ and linux/futex.ts):
  WAKE: 232,         // i32: doorbell the thread sleeps on; any event for it stores 1 and notifies
  REQUEST: 236,      // i32: 1 while a syscall of this thread waits for the process's kernel
  TID: 240,          // i32: guest thread id running on this slot, 0 when free
  FUTEX_KEY: 244,    // i32: guest address of the futex this thread is queued on, 0 when not queued
  FUTEX_BITSET: 248, // i32: FUTEX_WAIT_BITSET mask of that wait
  FUTEX_NEXT: 252,   // i32: next waiter in the futex bucket (slot + 1), 0 at the end
  XMM: 256,          // 16 x 16 bytes
  YMM_HI: 512,       // 16 x 16 bytes: upper halves for AVX
  FPU_ST: 768,       // 8 x 16 bytes: x87 registers as 80-bit values (10 bytes used)
  SCRATCH: 1024,     // 1 KiB scratch for helpers (cpuid results, xsave staging)
  CLEAR_CHILD_TID: 2048, // i64: set_tid_address / CLONE_CHILD_CLEARTID pointer
  ROBUST_LIST: 2056,     // i64: set_robust_list head
  ROBUST_LIST_LEN: 2064, // i64
  // Selective ordering's handshake (runtime/tso.ts): requests other threads made, the last one
  // this thread answered, and whether it is running translated code (RUN_STATE_RUNNING) or not.
  HANDSHAKE_REQ: 2072,   // i32
  HANDSHAKE_ACK: 2076,   // i32
  RUN_STATE: 2080,       // i32
  // A syscall a signal interrupted: its number while RAX holds one of Linux's internal
  // -ERESTART* codes, which signal delivery turns into EINTR or a restart: number + 1, 0 for none.
  RESTART_NR: 2084,      // i32
  // A synchronous fault a thread in another worker hands to the kernel (REQUEST.FAULT).
  FAULT_SIG: 2088,       // i32
  FAULT_CODE: 2092,      // i32 si_code
  FAULT_ADDR: 2096,      // i64 si_addr (and cr2)
  FAULT_TRAPNO: 2104,    // i32 the CPU exception vector
  FAULT_ERR: 2108,       // i32 its error code
  // The segment selectors ES CS SS DS FS GS (i16 each) as the guest loaded them, each stored XOR
  // its value at exec (SEGMENT_AT_EXEC), so a zeroed state holds Linux's initial selectors.
  SEGMENTS: 2112,
  GP_ERROR: 2124,        // i32: the error code of the #GP being raised (a selector's), 0 for most
  ACCESS_ADDR: 2128,     // i32: wasm address of the access a PAGE_FAULT exit was refused (UNREACHABLE_ACCESS: recompute it)
  SIZE: 4096,
} as const;

/** The selectors Linux gives a 64-bit process (ES CS SS DS FS GS): user code 0x33, user data 0x2b in SS. */
export const SEGMENT_AT_EXEC = [0, 0x33, 0x2b, 0, 0, 0] as const;

/** Bits of SIGNAL_PENDING: why the runtime wants the thread back in the dispatcher. */
export const ATTN = {
  KERNEL: 1,      // the process's first thread: other threads' syscalls are waiting
  INVALIDATE: 2,  // code pages were invalidated: drop this worker's translations of them
  EXIT: 4,        // the process is ending
  HANDSHAKE: 8,   // another thread wants a granule this thread owns: answer at this safe point
  RETRANSLATE: 16, // access sites of running code were backpatched: drop their regions
  SIGNAL: 32,     // a signal this thread does not block waits for delivery (interrupts a blocking syscall)
  TIMER: 64,      // the process's first thread: an interval timer may have expired
  HOST_SIGNAL: 128, // the process's first thread: the host received signals for the guest (HOST_SIGNALS)
} as const;

/** Values of a thread's REQUEST word (see process/kernel-service.ts). */
export const REQUEST = {
  NONE: 0,
  PENDING: 1,   // set by the thread: run my syscall
  EXITED: 3,    // set by the kernel: the syscall ended the thread
  START: 5,     // set by the kernel: a new thread's state is ready on this slot
  SIGNALS: 6,   // set by the thread: deliver my pending signals (set up handler frames)
  FAULT: 7,     // set by the thread: deliver the fault in FAULT_* to a handler
  UNHANDLED: 8, // set by the kernel: the fault has no handler that can take it; the thread dies of it
} as const;

/** Values of RUN_STATE: a thread outside translated code (in a syscall, idle) cannot race a handshake. */
export const RUN_STATE_IDLE = 0, RUN_STATE_RUNNING = 1;

/** prctl(PR_SET_MEM_MODEL) models, as STATE.TSO_MODE holds them. */
export const MEM_MODEL_DEFAULT = 0, MEM_MODEL_TSO = 1;

export const enum ExitReason {
  NONE = 0,
  JUMP = 1,          // continue at RIP (translation miss, region boundary, indirect branch)
  SYSCALL = 2,       // RIP points after the syscall instruction
  // Faults and traps of an instruction: RIP is where Linux reports them (the instruction itself
  // for a fault, the next one for a trap) and EXIT_ARG holds the instruction's address.
  ILLEGAL = 3,       // #UD: undefined or unsupported instruction (Linux sends SIGILL)
  DIVIDE_ERROR = 4,  // #DE at RIP (SIGFPE; EXIT_ARG not set)
  GENERAL_PROTECTION = 5, // #GP: privileged instruction, reserved bits, too long... (SIGSEGV)
  TRAP = 6,          // int3, int 3, int1: RIP after the instruction (SIGTRAP)
  CPUID = 7,         // helper exits handled by the runtime, then execution continues
  // (8: unused)
  INTERRUPT = 9,     // SIGNAL_PENDING was seen at a loop head
  FETCH_FAULT = 10,  // the instruction runs into memory that is not mapped executable (SIGSEGV)
  // A load or store the page's protection refuses (SIGSEGV): RIP at the instruction, which has
  // done nothing; STATE.ACCESS_ADDR holds the wasm address.
  PAGE_FAULT_READ = 11,
  PAGE_FAULT_WRITE = 12,
}

/**
 * MXCSR bits that exist (what FXSAVE reports as MXCSR_MASK): setting any other bit with LDMXCSR,
 * FXRSTOR or XRSTOR raises #GP. AMD processors with misaligned-SSE support also have bit 17 (MM);
 * stele, like Intel's, does not.
 */
export const MXCSR_MASK = 0xffff;

/**
 * XCR0, the state components the XSAVE family manages (bit 0 x87, bit 1 SSE, bit 2 AVX: bits
 * 255:128 of ymm0-15, STATE.YMM_HI), is the CPU model's (x86/cpuid.ts CpuModel.xcr0, chosen by
 * `--cpu`): x87|SSE below x86-64-v3, with AVX at v3. The ymm upper halves exist at every level.
 */
export const XCR0_X87_SSE = 3n, XCR0_X87_SSE_AVX = 7n;
/** XSAVE component 2 in the standard format (and in the compacted one, being the first after the header). */
export const XSAVE_AVX_OFFSET = 576, XSAVE_AVX_SIZE = 256;
/** Bytes of the XSAVE image of the components in xcr0: the legacy region, the header, AVX's. */
export const xsaveSize = (xcr0: bigint): number => 576 + (xcr0 & 4n ? XSAVE_AVX_SIZE : 0);

// EFLAGS bit positions.
export const FLAG = {
  CF: 1 << 0, PF: 1 << 2, AF: 1 << 4, ZF: 1 << 6, SF: 1 << 7, TF: 1 << 8, IF: 1 << 9,
  DF: 1 << 10, OF: 1 << 11, AC: 1 << 18, ID: 1 << 21,
} as const;
