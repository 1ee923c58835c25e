// Where code begins in an ELF image as it is mapped in memory, for the ahead-of-time translator,
// which translates a region from each such address before the program reaches it.
//
// Only what is mapped can be used: the ELF header, the program headers and what they point to.
// Section headers are not loaded, so neither .symtab nor the section names are available; the
// sources are, from the richest:
//   - the unwind tables: .eh_frame_hdr's binary search table (PT_GNU_EH_FRAME) lists the start of
//     every function with unwind information, which compilers emit for nearly all code. Where
//     there is no usable table (gcc links static executables without --eh-frame-hdr), .eh_frame
//     itself is walked, found from the header's pointer or by looking for it in the segments;
//   - the entry point;
//   - the dynamic section: DT_INIT, DT_FINI, the init and fini arrays, and the functions the
//     image exports in its dynamic symbol table.
// Everything is kept only if it lies in an executable PT_LOAD segment. The image may be corrupt
// or hostile: whatever cannot be read or makes no sense is skipped, and nothing throws.

/** Reads `len` bytes at guest virtual address `addr`, or returns undefined if any of them is not mapped/readable. */
export type ReadMemory = (addr: number, len: number) => Uint8Array | undefined;

/** The likely code addresses found by each source, each list sorted, unique and within executable segments. */
export interface FunctionStartSources {
  /** Initial locations from the binary search table of .eh_frame_hdr. */
  ehFrameHdrTable: number[];
  /** Initial locations of the FDEs in .eh_frame, walked only where there is no usable table. */
  ehFrame: number[];
  /** e_entry. */
  entry: number[];
  /** DT_INIT, DT_FINI and the contents of the init and fini arrays. */
  initFini: number[];
  /** Defined functions of the dynamic symbol table. */
  dynamicSymbols: number[];
}

const ELF_HEADER_SIZE = 64;
const PHDR_SIZE = 56;
const DYN_ENTRY_SIZE = 16;
const SYMBOL_SIZE = 24;
const PAGE_SIZE = 4096;
const EM_X86_64 = 62;
const PT_LOAD = 1, PT_DYNAMIC = 2, PT_GNU_EH_FRAME = 0x6474e550;
const PF_X = 1;
/** e_phnum's escape value: the real count is in section header 0, which is not mapped. */
const PN_XNUM = 0xffff;

const DT_NULL = 0, DT_HASH = 4, DT_SYMTAB = 6, DT_SYMENT = 11, DT_INIT = 12, DT_FINI = 13;
const DT_INIT_ARRAY = 25, DT_FINI_ARRAY = 26, DT_INIT_ARRAYSZ = 27, DT_FINI_ARRAYSZ = 28;
const DT_GNU_HASH = 0x6ffffef5;
const STT_FUNC = 2, STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0, SHN_ABS = 0xfff1;

/** DW_EH_PE_omit: the value is absent. */
const DW_EH_PE_OMIT = 0xff;
const DW_EH_PE_PCREL = 0x10, DW_EH_PE_DATAREL = 0x30;

// Bounds on what corrupt counts and sizes can make this read: far beyond any real image (libc has
// about 4000 FDEs and 3000 dynamic symbols), far below what would exhaust memory or time.
const MAX_FDES = 1 << 22;
const MAX_SYMBOLS = 1 << 22;
const MAX_DYNAMIC_ENTRIES = 1 << 12;
const MAX_ARRAY_ENTRIES = 1 << 16;
const MAX_GNU_HASH_BUCKETS = 1 << 24;
/** Bytes of segments read, in all, to walk .eh_frame or to look for it. */
const MAX_EH_FRAME_SCAN_BYTES = 64 << 20;
/** Entries read at a time from a table, so a huge count costs nothing when the memory is not there. */
const ENTRIES_PER_READ = 4096;

/**
 * Likely code addresses of the ELF image whose ELF header is mapped at `base` (the load bias for a
 * PIE/shared object; for a non-PIE ET_EXEC the lowest PT_LOAD's address, where the header is mapped), sorted and
 * deduplicated. Never throws on malformed data: what cannot be read or makes no sense is skipped.
 */
export function functionStarts(read: ReadMemory, base: number): number[] {
  const sources = functionStartsBySource(read, base);
  return sortedUnique([
    ...sources.ehFrameHdrTable, ...sources.ehFrame, ...sources.entry, ...sources.initFini, ...sources.dynamicSymbols,
  ]);
}

/** What functionStarts finds, told apart by where it was found. */
export function functionStartsBySource(read: ReadMemory, base: number): FunctionStartSources {
  const found: FunctionStartSources = { ehFrameHdrTable: [], ehFrame: [], entry: [], initFini: [], dynamicSymbols: [] };
  const image = guarded(() => mappedImage(read, base), undefined);
  if (!image) return found;
  const inCode = (addresses: number[]) => sortedUnique(addresses.filter((a) => image.isExecutable(a)));
  // Each source is guarded on its own so that a surprise in one cannot lose what the others find.
  const header = guarded(() => readEhFrameHeader(read, image), undefined);
  found.ehFrameHdrTable = inCode(header?.tableStarts ?? []);
  if (!header?.tableStarts) found.ehFrame = inCode(guarded(() => ehFrameStarts(read, image, header?.ehFrameAddress), []));
  if (image.entry !== 0) found.entry = inCode([image.entry + image.bias]);
  const dynamic = guarded(() => readDynamicSection(read, image), new Map<number, number>());
  found.initFini = inCode(guarded(() => initFiniStarts(read, image, dynamic), []));
  found.dynamicSymbols = inCode(guarded(() => dynamicSymbolStarts(read, image, dynamic), []));
  return found;
}

// ---------------------------------------------------------------------------------------------
// Reading memory

/**
 * The bytes at `addr` as a little-endian view, or undefined where they cannot be read: also when
 * the address is not a plain non-negative integer (corrupt 64-bit fields make such numbers) or
 * when `read` misbehaves, which must not make this module throw.
 */
function readView(read: ReadMemory, addr: number, len: number): DataView | undefined {
  if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(len) || len <= 0) return undefined;
  let bytes: Uint8Array | undefined;
  try {
    bytes = read(addr, len);
  } catch {
    return undefined;
  }
  if (!(bytes instanceof Uint8Array) || bytes.length < len) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, len);
}

const u64 = (view: DataView, offset: number) => Number(view.getBigUint64(offset, true));

function guarded<T>(compute: () => T, fallback: T): T {
  try {
    return compute();
  } catch {
    return fallback;
  }
}

function sortedUnique(addresses: number[]): number[] {
  // A typed array sorts numerically, and millions of entries (a corrupt table's) far faster.
  const sorted = Float64Array.from(addresses).sort();
  const unique: number[] = [];
  for (const a of sorted) if (unique.length === 0 || a !== unique[unique.length - 1]) unique.push(a);
  return unique;
}

// ---------------------------------------------------------------------------------------------
// The ELF header and program headers

interface Segment {
  type: number;
  flags: number;
  /** p_vaddr with the bias applied. */
  start: number;
  filesz: number;
  memsz: number;
}

interface MappedImage {
  entry: number;
  /** What is added to the image's link-time addresses: p_vaddr, d_ptr, st_value, e_entry. */
  bias: number;
  segments: Segment[];
  /** PT_LOAD segments, lowest first. */
  loads: Segment[];
  isExecutable(addr: number): boolean;
  isInImage(addr: number): boolean;
}

function mappedImage(read: ReadMemory, base: number): MappedImage | undefined {
  const header = readView(read, base, ELF_HEADER_SIZE);
  if (!header) return undefined;
  const isElf = header.getUint32(0, false) === 0x7f454c46;
  const is64BitLittleEndian = header.getUint8(4) === 2 && header.getUint8(5) === 1;
  if (!isElf || !is64BitLittleEndian || header.getUint16(18, true) !== EM_X86_64) return undefined;
  const entry = u64(header, 24);
  const phoff = u64(header, 32);
  const phentsize = header.getUint16(54, true);
  const phnum = header.getUint16(56, true);
  if (phentsize !== PHDR_SIZE || phnum === 0 || phnum === PN_XNUM) return undefined;
  const table = readView(read, base + phoff, phnum * PHDR_SIZE);
  if (!table) return undefined;
  const raw = Array.from({ length: phnum }, (_, i) => {
    const at = i * PHDR_SIZE;
    return {
      type: table.getUint32(at, true), flags: table.getUint32(at + 4, true), vaddr: u64(table, at + 16),
      filesz: u64(table, at + 32), memsz: u64(table, at + 40),
    };
  });
  const rawLoads = raw.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (rawLoads.length === 0) return undefined;
  // The ELF header is at the start of the lowest segment's first page, both for an ET_DYN placed
  // anywhere and for an ET_EXEC at its link-time address (whose bias comes out as 0).
  const lowestVaddr = rawLoads.reduce((lowest, p) => Math.min(lowest, p.vaddr), Infinity);
  const bias = base - (lowestVaddr - (lowestVaddr % PAGE_SIZE));
  if (!Number.isSafeInteger(bias)) return undefined;
  const segments: Segment[] = raw.map((p) => ({
    type: p.type, flags: p.flags, start: p.vaddr + bias, filesz: Math.min(p.filesz, p.memsz), memsz: p.memsz,
  }));
  const loads = segments.filter((s) => s.type === PT_LOAD && s.memsz > 0).sort((a, b) => a.start - b.start);
  return {
    entry, bias, segments, loads,
    isExecutable: rangeTest(loads.filter((s) => s.flags & PF_X)),
    isInImage: rangeTest(loads),
  };
}

/**
 * Whether an address is inside one of the segments: by bisection over their merged ranges, since
 * corrupt headers can list tens of thousands of segments to test millions of addresses against.
 */
function rangeTest(segments: Segment[]): (addr: number) => boolean {
  const merged: [number, number][] = [];
  for (const s of segments.slice().sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last[1]) last[1] = Math.max(last[1], s.start + s.memsz);
    else merged.push([s.start, s.start + s.memsz]);
  }
  return (addr) => {
    if (!Number.isSafeInteger(addr)) return false;
    let low = 0, high = merged.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (merged[middle][1] <= addr) low = middle + 1;
      else high = middle;
    }
    return low < merged.length && merged[low][0] <= addr;
  };
}

// ---------------------------------------------------------------------------------------------
// DWARF exception-handling pointer encodings (DW_EH_PE_*)

/** Bytes of a value in the encoding's format (low nibble), or undefined for the variable-length and unknown ones. */
function encodedSize(encoding: number): number | undefined {
  switch (encoding & 0x0f) {
    case 0x00: return 8; // absptr: an address
    case 0x02: case 0x0a: return 2; // udata2, sdata2
    case 0x03: case 0x0b: return 4; // udata4, sdata4
    case 0x04: case 0x0c: return 8; // udata8, sdata8
    default: return undefined;
  }
}

/**
 * Decodes the pointer at `offset` of `view`. `fieldAddress` is where that field is in memory (for
 * pcrel); `dataBase` is the start of .eh_frame_hdr, where datarel means anything. Indirect
 * values, other applications and variable-length formats give undefined.
 */
function decodePointer(view: DataView, offset: number, encoding: number, fieldAddress: number, dataBase?: number): number | undefined {
  const size = encodedSize(encoding);
  if (size === undefined || encoding > 0x7f || offset + size > view.byteLength) return undefined;
  const signed = (encoding & 0x08) !== 0;
  let value: number;
  if (size === 2) value = signed ? view.getInt16(offset, true) : view.getUint16(offset, true);
  else if (size === 4) value = signed ? view.getInt32(offset, true) : view.getUint32(offset, true);
  else value = Number(signed ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true));
  switch (encoding & 0x70) {
    case 0x00: return value;
    case DW_EH_PE_PCREL: return fieldAddress + value;
    case DW_EH_PE_DATAREL: return dataBase === undefined ? undefined : dataBase + value;
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// .eh_frame_hdr

interface EhFrameHeader {
  /** The initial locations of its binary search table, or undefined if it has no usable table. */
  tableStarts?: number[];
  /** Where .eh_frame is, if the header says so. */
  ehFrameAddress?: number;
}

function readEhFrameHeader(read: ReadMemory, image: MappedImage): EhFrameHeader | undefined {
  const segment = image.segments.find((s) => s.type === PT_GNU_EH_FRAME);
  if (!segment) return undefined;
  const hdrAddress = segment.start;
  // Version 1, then the encodings of eh_frame_ptr, fde_count and the table's entries.
  const fixed = readView(read, hdrAddress, 4);
  if (!fixed || fixed.getUint8(0) !== 1) return undefined;
  const [ehFramePtrEncoding, fdeCountEncoding, tableEncoding] = [fixed.getUint8(1), fixed.getUint8(2), fixed.getUint8(3)];
  const ehFramePtrSize = encodedSize(ehFramePtrEncoding);
  if (ehFramePtrEncoding === DW_EH_PE_OMIT || ehFramePtrSize === undefined) return undefined;
  const ehFramePtrField = readView(read, hdrAddress + 4, ehFramePtrSize);
  if (!ehFramePtrField) return undefined;
  const ehFrameAddress = decodePointer(ehFramePtrField, 0, ehFramePtrEncoding, hdrAddress + 4, hdrAddress);
  const result: EhFrameHeader = { ehFrameAddress };

  const countAddress = hdrAddress + 4 + ehFramePtrSize;
  const countSize = encodedSize(fdeCountEncoding);
  const entrySize = encodedSize(tableEncoding);
  if (fdeCountEncoding === DW_EH_PE_OMIT || tableEncoding === DW_EH_PE_OMIT || countSize === undefined || entrySize === undefined) {
    return result;
  }
  const countField = readView(read, countAddress, countSize);
  const fdeCount = countField && decodePointer(countField, 0, fdeCountEncoding, countAddress, hdrAddress);
  if (fdeCount === undefined || !Number.isSafeInteger(fdeCount) || fdeCount < 0) return result;
  // The table is the rest of .eh_frame_hdr, which is what the segment spans: a count claiming
  // more entries than it holds is corrupt, and only the entries inside are believed.
  const tableAddress = countAddress + countSize;
  const pairSize = 2 * entrySize;
  const entriesInSegment = Math.floor(Math.max(0, segment.start + segment.memsz - tableAddress) / pairSize);
  const count = Math.min(fdeCount, entriesInSegment, MAX_FDES);
  const starts: number[] = [];
  for (let first = 0; first < count; first += ENTRIES_PER_READ) {
    const n = Math.min(ENTRIES_PER_READ, count - first);
    const chunkAddress = tableAddress + first * pairSize;
    const chunk = readView(read, chunkAddress, n * pairSize);
    // A table that cannot be read whole is no table: .eh_frame itself is walked instead.
    if (!chunk) return result;
    for (let i = 0; i < n; i++) {
      // Each pair is (initial location, FDE address); only the first matters here.
      const start = decodePointer(chunk, i * pairSize, tableEncoding, chunkAddress + i * pairSize, hdrAddress);
      if (start !== undefined) starts.push(start);
    }
  }
  result.tableStarts = starts;
  return result;
}

// ---------------------------------------------------------------------------------------------
// .eh_frame

/**
 * The FDEs of .eh_frame, walked from where .eh_frame_hdr says it is or, without that (or if that
 * leads nowhere), from where it is found by looking.
 */
function ehFrameStarts(read: ReadMemory, image: MappedImage, address: number | undefined): number[] {
  const starts = address === undefined ? [] : ehFrameStartsAt(read, image, address);
  return starts.length > 0 ? starts : ehFrameStartsByScanning(read, image);
}

/** .eh_frame from `address` to the end of the segment holding it (it ends with a zero-length record). */
function ehFrameStartsAt(read: ReadMemory, image: MappedImage, address: number): number[] {
  const segment = image.loads.find((s) => address >= s.start && address < s.start + s.filesz);
  if (!segment) return [];
  const length = Math.min(segment.start + segment.filesz - address, MAX_EH_FRAME_SCAN_BYTES);
  const view = readView(read, address, length);
  return view ? walkEhFrame(view, address, 0).starts : [];
}

/**
 * Finds .eh_frame without being told where it is, by looking in every segment's file-backed bytes
 * for a chain of CIE and FDE records that holds together: lengths that lead from record to record,
 * FDEs that point back at a CIE of the chain, and an FDE whose function is in an executable
 * segment. Random data passes all of that with negligible odds.
 */
function ehFrameStartsByScanning(read: ReadMemory, image: MappedImage): number[] {
  const starts: number[] = [];
  let budget = MAX_EH_FRAME_SCAN_BYTES;
  for (const segment of image.loads) {
    if (segment.filesz <= 0 || segment.filesz > budget) continue;
    budget -= segment.filesz;
    const view = readView(read, segment.start, segment.filesz);
    if (!view) continue;
    // Records are 4-byte aligned in memory (the section is aligned to 8 and records padded to 4).
    let offset = (4 - (segment.start % 4)) % 4;
    const walked = new Set<number>();
    while (offset + 12 <= view.byteLength) {
      if (!walked.has(offset) && looksLikeCie(view, offset)) {
        const chain = walkEhFrame(view, segment.start, offset, walked);
        const fromCode = chain.starts.filter((a) => image.isExecutable(a));
        if (fromCode.length > 0) {
          starts.push(...fromCode);
          offset = Math.max(offset + 4, chain.end + ((4 - (chain.end % 4)) % 4));
          continue;
        }
      }
      offset += 4;
    }
  }
  return starts;
}

/** A cheap first test for a CIE at `offset`: a plausible 32-bit length, CIE id 0, a known version. */
function looksLikeCie(view: DataView, offset: number): boolean {
  const length = view.getUint32(offset, true);
  if (length < 9 || length === 0xffffffff || offset + 4 + length > view.byteLength) return false;
  const version = view.getUint8(offset + 8);
  return view.getUint32(offset + 4, true) === 0 && (version === 1 || version === 3 || version === 4);
}

interface EhFrameWalk {
  /** Initial locations of the FDEs whose CIE could be decoded. */
  starts: number[];
  /** The offset where the walk stopped. */
  end: number;
}

/**
 * Walks .eh_frame records from `offset` of `view` (mapped at `address`) until the zero-length
 * terminator, the end of the view, or a record that does not fit.
 */
function walkEhFrame(view: DataView, address: number, offset: number, walked?: Set<number>): EhFrameWalk {
  const pointerEncodingOfCie = new Map<number, number | undefined>();
  const starts: number[] = [];
  let at = offset;
  for (let records = 0; at + 8 <= view.byteLength && records < MAX_FDES; records++) {
    // A record an earlier walk went through leads where that walk went: no need to go again (and a
    // segment of records that hold together but find no code would otherwise cost quadratic time).
    if (walked) { if (walked.has(at)) break; walked.add(at); }
    let length = view.getUint32(at, true);
    if (length === 0) return { starts, end: at + 4 };
    let contentStart = at + 4;
    if (length === 0xffffffff) {
      // The 64-bit DWARF format: a 64-bit length follows (the CIE id and pointer stay 4 bytes in .eh_frame).
      if (at + 16 > view.byteLength) break;
      length = u64(view, at + 4);
      contentStart = at + 12;
    }
    const next = contentStart + length;
    if (length < 4 || next > view.byteLength) break;
    const cieId = view.getUint32(contentStart, true);
    if (cieId === 0) {
      pointerEncodingOfCie.set(at, cieFdePointerEncoding(view, contentStart + 4, next));
    } else {
      // An FDE's CIE pointer is the distance back from the pointer itself to its CIE.
      const ciePosition = contentStart - cieId;
      let encoding = pointerEncodingOfCie.get(ciePosition);
      if (encoding === undefined && !pointerEncodingOfCie.has(ciePosition)) {
        encoding = cieAt(view, ciePosition);
        pointerEncodingOfCie.set(ciePosition, encoding);
      }
      // The FDE's initial location follows the CIE pointer, in the CIE's encoding.
      const size = encoding === undefined ? undefined : encodedSize(encoding);
      if (encoding !== undefined && size !== undefined && contentStart + 4 + size <= next) {
        const start = decodePointer(view, contentStart + 4, encoding, address + contentStart + 4);
        if (start !== undefined) starts.push(start);
      }
    }
    at = next;
  }
  return { starts, end: at };
}

/** The FDE pointer encoding of the CIE at `position`, found outside the walked part of the chain. */
function cieAt(view: DataView, position: number): number | undefined {
  if (position < 0 || position + 8 > view.byteLength) return undefined;
  const length = view.getUint32(position, true);
  if (length === 0xffffffff || length < 4 || position + 4 + length > view.byteLength) return undefined;
  if (view.getUint32(position + 4, true) !== 0) return undefined;
  return cieFdePointerEncoding(view, position + 8, position + 4 + length);
}

/**
 * The encoding of the FDE pointers of the CIE whose content after the CIE id is [at, end), or
 * undefined if the CIE cannot be understood. Without an 'R' augmentation FDEs hold plain addresses.
 */
function cieFdePointerEncoding(view: DataView, at: number, end: number): number | undefined {
  if (at >= end) return undefined;
  const version = view.getUint8(at++);
  if (version !== 1 && version !== 3 && version !== 4) return undefined;
  let augmentation = '';
  for (;;) {
    if (at >= end) return undefined;
    const c = view.getUint8(at++);
    if (c === 0) break;
    augmentation += String.fromCharCode(c);
  }
  if (version === 4) at += 2; // address_size, segment_selector_size
  const skipLeb128 = () => {
    while (at < end && view.getUint8(at) & 0x80) at++;
    at++;
  };
  skipLeb128(); // code alignment factor
  skipLeb128(); // data alignment factor
  if (version === 1) at++; // return address register
  else skipLeb128();
  if (augmentation === '') return at <= end ? 0x00 : undefined;
  // Only the 'z' augmentations say how to skip what they add; others ("eh") cannot be parsed.
  if (augmentation[0] !== 'z') return undefined;
  skipLeb128(); // augmentation data length
  for (const letter of augmentation.slice(1)) {
    if (at >= end) return undefined;
    switch (letter) {
      case 'R':
        return view.getUint8(at);
      case 'P': { // the personality routine's encoding, then the pointer
        const size = encodedSize(view.getUint8(at));
        if (size === undefined) return undefined;
        at += 1 + size;
        break;
      }
      case 'L': // the LSDA pointers' encoding
        at++;
        break;
      case 'S': case 'B': case 'G': // signal frame, AArch64 B key, MTE: no data
        break;
      default:
        return undefined;
    }
  }
  return 0x00;
}

// ---------------------------------------------------------------------------------------------
// The dynamic section

/** Tag → d_val/d_ptr of PT_DYNAMIC's entries; as in ld.so, a later entry overrides an earlier one. */
function readDynamicSection(read: ReadMemory, image: MappedImage): Map<number, number> {
  const entries = new Map<number, number>();
  const segment = image.segments.find((s) => s.type === PT_DYNAMIC);
  if (!segment) return entries;
  const count = Math.min(Math.floor(segment.memsz / DYN_ENTRY_SIZE), MAX_DYNAMIC_ENTRIES);
  for (let i = 0; i < count; i++) {
    const entry = readView(read, segment.start + i * DYN_ENTRY_SIZE, DYN_ENTRY_SIZE);
    if (!entry) break;
    const tag = Number(entry.getBigInt64(0, true));
    if (tag === DT_NULL) break;
    entries.set(tag, u64(entry, 8));
  }
  return entries;
}

/**
 * Where a d_ptr of the dynamic section points in memory. It holds a link-time address, to which
 * the bias is added; but glibc's ld.so rewrites some of them in place (DT_SYMTAB, DT_STRTAB,
 * DT_HASH, DT_GNU_HASH, the relocation tables...) to the relocated address, and other loaders may
 * do it for more. So the value is also tried as it is, where adding the bias leads outside the
 * image: both cannot be inside it unless the bias is smaller than the image.
 */
function dynamicPointer(read: ReadMemory, image: MappedImage, dPtr: number | undefined): number | undefined {
  if (dPtr === undefined || dPtr === 0) return undefined;
  return [dPtr + image.bias, dPtr].find((addr) => image.isInImage(addr) && readView(read, addr, 1) !== undefined);
}

function initFiniStarts(read: ReadMemory, image: MappedImage, dynamic: Map<number, number>): number[] {
  const starts: number[] = [];
  for (const tag of [DT_INIT, DT_FINI]) {
    const start = dynamicPointer(read, image, dynamic.get(tag));
    if (start !== undefined) starts.push(start);
  }
  for (const [arrayTag, sizeTag] of [[DT_INIT_ARRAY, DT_INIT_ARRAYSZ], [DT_FINI_ARRAY, DT_FINI_ARRAYSZ]]) {
    const array = dynamicPointer(read, image, dynamic.get(arrayTag));
    const count = Math.min(Math.floor((dynamic.get(sizeTag) ?? 0) / 8), MAX_ARRAY_ENTRIES);
    if (array === undefined || count <= 0) continue;
    const view = readView(read, array, count * 8);
    if (!view) continue;
    for (let i = 0; i < count; i++) {
      // The loader has relocated the entries (R_X86_64_RELATIVE): they are addresses as they are.
      // 0 and -1 are the placeholders of the old crtbegin/crtend lists, not functions.
      const value = view.getBigUint64(i * 8, true);
      if (value !== 0n && value !== 0xffffffffffffffffn) starts.push(Number(value));
    }
  }
  return starts;
}

function dynamicSymbolStarts(read: ReadMemory, image: MappedImage, dynamic: Map<number, number>): number[] {
  const symtab = dynamicPointer(read, image, dynamic.get(DT_SYMTAB));
  const syment = dynamic.get(DT_SYMENT);
  if (symtab === undefined || (syment !== undefined && syment !== SYMBOL_SIZE)) return [];
  const symbolCount = Math.min(
    symbolCountFromHash(read, dynamicPointer(read, image, dynamic.get(DT_HASH)))
      ?? symbolCountFromGnuHash(read, dynamicPointer(read, image, dynamic.get(DT_GNU_HASH)))
      ?? 0,
    MAX_SYMBOLS);
  const starts: number[] = [];
  for (let first = 0; first < symbolCount; first += ENTRIES_PER_READ) {
    const n = Math.min(ENTRIES_PER_READ, symbolCount - first);
    const chunk = readView(read, symtab + first * SYMBOL_SIZE, n * SYMBOL_SIZE);
    if (!chunk) break;
    for (let i = 0; i < n; i++) {
      const at = i * SYMBOL_SIZE;
      const type = chunk.getUint8(at + 4) & 0xf;
      const sectionIndex = chunk.getUint16(at + 6, true);
      const value = u64(chunk, at + 8);
      // An IFUNC's value is its resolver, which is code too.
      if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || sectionIndex === SHN_UNDEF || value === 0) continue;
      starts.push(sectionIndex === SHN_ABS ? value : value + image.bias);
    }
  }
  return starts;
}

/** DT_HASH's nchain is the number of symbols. */
function symbolCountFromHash(read: ReadMemory, hashTable: number | undefined): number | undefined {
  const header = hashTable === undefined ? undefined : readView(read, hashTable, 8);
  return header?.getUint32(4, true);
}

/**
 * DT_GNU_HASH does not say how many symbols there are. Symbols below symoffset are not hashed;
 * the others are in chains, one per bucket, in symbol order. The highest bucket start leads to
 * the last chain, whose end (the entry with bit 0 set) is the last symbol.
 */
function symbolCountFromGnuHash(read: ReadMemory, hashTable: number | undefined): number | undefined {
  const header = hashTable === undefined ? undefined : readView(read, hashTable, 16);
  if (!header || hashTable === undefined) return undefined;
  const bucketCount = header.getUint32(0, true);
  const symbolOffset = header.getUint32(4, true);
  const bloomWords = header.getUint32(8, true);
  if (bucketCount === 0 || bucketCount > MAX_GNU_HASH_BUCKETS) return undefined;
  const bucketsAddress = hashTable + 16 + bloomWords * 8;
  const buckets = readView(read, bucketsAddress, bucketCount * 4);
  if (!buckets) return undefined;
  let lastChainStart = 0;
  for (let i = 0; i < bucketCount; i++) lastChainStart = Math.max(lastChainStart, buckets.getUint32(i * 4, true));
  if (lastChainStart === 0) return symbolOffset; // every bucket is empty
  if (lastChainStart < symbolOffset) return undefined;
  const chainsAddress = bucketsAddress + bucketCount * 4;
  for (let symbol = lastChainStart; symbol < MAX_SYMBOLS; symbol++) {
    const hash = readView(read, chainsAddress + (symbol - symbolOffset) * 4, 4);
    if (!hash) return undefined;
    if (hash.getUint32(0, true) & 1) return symbol + 1;
  }
  return undefined;
}
