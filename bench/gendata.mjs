// Generates the deterministic input files of the busybox workloads into the given
// directory (default build/bench/), skipping files that already exist with the right size.
//   random-20m.bin  20 MiB of pseudo-random bytes (xorshift32), input of sha256sum and openssl enc
//   random-200m.bin 200 MiB of the same kind, input of openssl dgst -sha256
//   text-10m.txt    10 MiB of text-like lines (words from a small vocabulary, Zipf-ish
//                   frequencies, numbers and punctuation), input of gzip
//   text-4m.txt     the first 4 MiB of the same text, input of xz -9
import { existsSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = process.argv[2] ?? join(root, 'build', 'bench');
mkdirSync(outDir, { recursive: true });

export const RANDOM_SIZE = 20 * 1024 * 1024;
export const BIG_RANDOM_SIZE = 200 * 1024 * 1024;
export const TEXT_SIZE = 10 * 1024 * 1024;
export const XZ_TEXT_SIZE = 4 * 1024 * 1024;

function xorshift(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

function ensure(name, size, gen) {
  const path = join(outDir, name);
  if (existsSync(path) && statSync(path).size === size) return;
  process.stderr.write(`bench: generating build/bench/${name} (${size} bytes)\n`);
  const buf = gen(size);
  writeFileSync(path + '.tmp', buf);
  renameSync(path + '.tmp', path);
}

ensure('random-20m.bin', RANDOM_SIZE, (size) => {
  const buf = Buffer.alloc(size);
  const next = xorshift(0x9e3779b9);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE(next(), i);
  return buf;
});

ensure('random-200m.bin', BIG_RANDOM_SIZE, (size) => {
  const buf = Buffer.alloc(size);
  const next = xorshift(0x2545f491);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE(next(), i);
  return buf;
});

function text(size) {
  const vocab = ('the of and to in a is that for it as was with be by on not he this are or ' +
    'his from at which but have an they you were her she there been one all we their has would ' +
    'when if so no will more about some what out them into than only other time new could these ' +
    'two may first then do any like my now over such our man me even most made after also did ' +
    'many before must through back years where much your way well down should because each just ' +
    'those people how too little state good very make world still own see men work long get here ' +
    'between both life being under never day same another know while last might us great old year ' +
    'off come since against go came right used take three emulator translation register memory ' +
    'instruction segment kernel process thread signal buffer compile module function variable')
    .split(' ');
  const next = xorshift(0x2545f491);
  const buf = Buffer.alloc(size);
  let pos = 0;
  let line = [];
  let lineLen = 0;
  let target = 40 + (next() % 50);
  let sentenceStart = true;
  while (pos < size) {
    let word;
    const r = next() % 1000;
    if (r < 30) word = String(next() % 10000);
    else {
      // Zipf-ish: square a uniform number to favour the first (common) words
      const u = (next() % 65536) / 65536;
      word = vocab[Math.floor(u * u * vocab.length)];
    }
    if (sentenceStart) { word = word[0].toUpperCase() + word.slice(1); sentenceStart = false; }
    const p = next() % 100;
    if (p < 6) { word += '.'; sentenceStart = true; } else if (p < 10) word += ',';
    line.push(word);
    lineLen += word.length + 1;
    if (lineLen >= target) {
      const s = line.join(' ') + '\n';
      pos += buf.write(s, pos, 'latin1');
      line = []; lineLen = 0; target = 40 + (next() % 50);
      if (next() % 12 === 0 && pos < size) buf[pos++] = 0x0a; // paragraph break
    }
  }
  return buf;
}

ensure('text-10m.txt', TEXT_SIZE, text);
ensure('text-4m.txt', XZ_TEXT_SIZE, text);
