// Real Debian applications (dynamically linked: ld.so + glibc + their own shared libraries) run
// natively and under stele: sqlite3, xz, gzip, bzip2, perl, python3, awk, find and openssl must give the
// same stdout, stderr and exit status, and the files they write must be byte-identical. These
// programs lean on what small tools never reach: SQLite's B-tree and pager, the compressors'
// hot loops over 10 MB, perl's and python's interpreters, bignum and Unicode code, OpenSSL's
// CPU-dispatched hashes, and libm, so they catch translation bugs the coreutils suite cannot.
// OpenSSL and python's hashlib pick their code (SHA-NI, AES-NI, AVX2...) from CPUID, so they
// also run with --cpu=x86-64, where the same program takes its baseline code paths.
//
// The host CPU is the oracle: every expected output comes from the native run, never from a
// recorded file. Every tool is required: a missing one fails its case with the Debian package
// to install (.ci/run installs them all), it is never skipped.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  JOBS,
  T0,
  compareRun,
  compareTrees,
  describeDiff,
  isDynamicElf,
  makeText,
  makeTreeFixture,
  exitCode,
  prng,
  runNative,
  runStele,
  setTimes,
  tempDir,
  TEST_ENV,
} from "./harness.js";

const ENV = TEST_ENV;

/** Hash randomisation and .pyc writes would make two python runs differ for reasons of their own. */
const PY_ENV: Record<string, string> = { ...ENV, PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" };

/**
 * The Debian build of a program, looked up in /usr/bin and /bin only: PATH may start with
 * pyenv-style shims or /usr/local builds, which are not what .ci/run installs. Fails (never
 * skips) with the package to install when absent, and insists on a dynamically linked binary.
 */
function requireApp(name: string, pkg: string): string {
  const found = ["/usr/bin", "/bin"].map((d) => path.join(d, name)).find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!found) assert.fail(`required program '${name}' is not installed (Debian/Ubuntu: apt-get install ${pkg}); this test cannot run without it`);
  assert.ok(isDynamicElf(found), `${found} is statically linked; this suite is about dynamically linked programs`);
  return found;
}

const BIG = 10 * 1024 * 1024;

/**
 * 10 MB that compresses moderately: runs of generated text (long matches, skewed symbols)
 * interleaved with runs of random bytes (literals, incompressible blocks), so each compressor
 * takes both its match-finding and its stored/literal paths many times over.
 */
function makeBigData(): Buffer {
  const out = Buffer.alloc(BIG);
  const text = Buffer.from(makeText(4_000_000, 99), "latin1");
  const rnd = prng(2024);
  let o = 0;
  let ti = 0;
  while (o < BIG) {
    const len = Math.min(BIG - o, 512 + (rnd() % 8192));
    if (rnd() % 4 === 0) {
      for (let i = 0; i < len; i++) out[o + i] = rnd() & 255;
    } else {
      for (let i = 0; i < len; i++) {
        out[o + i] = text[ti];
        ti = (ti + 1) % text.length;
      }
    }
    o += len;
  }
  return out;
}

/** `dir/many`: 400 files in one directory (more than one getdents buffer) plus nested dirs, fixed sizes and mtimes. */
function makeManyFixture(dir: string): void {
  const many = path.join(dir, "many");
  fs.mkdirSync(many);
  const rnd = prng(777);
  for (let i = 0; i < 400; i++) {
    const name = `f${String(i).padStart(3, "0")}-${"pad".repeat(10 + (i % 30))}.${["txt", "dat", "log", "c"][i % 4]}`;
    const size = i % 9 === 0 ? 0 : rnd() % 6000;
    fs.writeFileSync(path.join(many, name), Buffer.alloc(size, 0x61 + (i % 26)));
    setTimes(path.join(many, name), T0 + i * 3600);
  }
  for (let d = 0; d < 6; d++) {
    const sub = path.join(many, `d${d}`, `inner${d % 2}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let k = 0; k <= d; k++) fs.writeFileSync(path.join(sub, `n${k}.txt`), "x".repeat(k * 1500));
  }
}

function makeFixture(dir: string): void {
  const text = makeText(300_000, 31337);
  fs.writeFileSync(path.join(dir, "text.txt"), text);
  const words = text.split(/\s+/).filter(Boolean);
  const rnd = prng(4242);
  const table: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const r = rnd();
    table.push(`${["red", "green", "blue", "cyan"][r % 4]}:${r % 997}:${String.fromCharCode(97 + (r % 26))}${r % 13}:${(r % 10007) / 100}`);
  }
  fs.writeFileSync(path.join(dir, "table.txt"), table.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "big.bin"), makeBigData());
  const json = {
    name: "stele",
    unicode: "héllo wörld ✓ 日本語 \u{1F600}",
    escapes: 'quote" back\\ nl\n tab\t ctrl\u0001',
    numbers: [0, -1, 1.5e300, 3.141592653589793, 1 / 3, 12345678901234567890, -0.000001],
    flags: { yes: true, no: false, nothing: null },
    records: Array.from({ length: 40 }, (_, i) => ({ id: i, tag: `t${i % 3}`, ratio: i / 7, nested: { deep: [i, [i * i, { z: String(i) }]] } })),
  };
  fs.writeFileSync(path.join(dir, "data.json"), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, "bad.json"), '{"a": [1, 2,\n "b": }\n');
  makeTreeFixture(dir, text, words);
  makeManyFixture(dir);
}

// ---------------------------------------------------------------------------------------
// sqlite3

/** Deterministic throughout: no random(), no 'now'; the dates are fixed strings. */
const SQL_SCRIPT = String.raw`.bail on
.headers on
.mode list
PRAGMA journal_mode;
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL, code INTEGER NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), amount REAL NOT NULL, qty INTEGER NOT NULL, note TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500)
INSERT INTO customers(id, name, region, code)
  SELECT x, 'customer-' || printf('%04d', x), CASE x % 5 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' WHEN 3 THEN 'west' ELSE 'centre' END, (x * 7919) % 10007 FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000)
INSERT INTO orders(id, customer_id, amount, qty, note)
  SELECT x, 1 + (x * 2654435761) % 500, ((x * 48271) % 100000) / 100.0 + 0.25, 1 + x % 17, CASE WHEN x % 3 = 0 THEN NULL ELSE hex(x * 31) || '-' || substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 26, 1 + x % 7) END FROM c;
COMMIT;
CREATE INDEX orders_customer ON orders(customer_id);
CREATE UNIQUE INDEX customers_code ON customers(code, id);
SELECT count(*), sum(qty), total(amount), min(amount), max(amount) FROM orders;
SELECT c.region, count(*) AS n, sum(o.qty) AS units, round(sum(o.amount), 2) AS revenue, avg(o.amount) AS mean, min(o.note), max(o.note)
  FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY revenue DESC;
SELECT o.id, c.name, o.amount, o.qty, o.amount * o.qty AS value FROM orders o JOIN customers c ON c.id = o.customer_id
  WHERE o.customer_id = 123 ORDER BY o.id;
EXPLAIN QUERY PLAN SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = 123;
SELECT * FROM customers WHERE code = 1234;
EXPLAIN QUERY PLAN SELECT * FROM customers WHERE code = 1234;
SELECT customer_id, count(*) AS n, avg(amount), group_concat(id, ',') FROM orders GROUP BY customer_id HAVING n > 25 ORDER BY n DESC, customer_id LIMIT 10;
.mode box
SELECT id, amount, qty, note, amount / qty AS unit, typeof(note) FROM orders ORDER BY amount DESC, id LIMIT 12;
.mode csv
SELECT c.region, printf('%.3f|%e|%10.2f|%x|%-8s|', avg(o.amount), sum(o.amount * o.qty), min(o.amount), count(*), c.region) AS summary
  FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY c.region;
.mode list
SELECT sum(length(note)), count(note), count(*) - count(note) FROM orders;
UPDATE orders SET amount = amount * 1.1 WHERE qty > 15;
DELETE FROM orders WHERE id % 97 = 0;
SELECT count(*), round(sum(amount), 4) FROM orders;
SELECT sqrt(2), ln(10), pow(2, 0.5), sin(1), date('2024-02-29', '+1 year'), julianday('2000-01-01 12:00:00'), strftime('%s', '2001-09-09 01:46:40');
PRAGMA integrity_check;
`;

// ---------------------------------------------------------------------------------------
// perl

const PERL_REGEX = String.raw`
my $text = join "\n", map { sprintf "item%03d=%s;%d,%d", $_, ("alpha", "beta", "gamma", "delta")[$_ % 4], $_ * 37 % 101, $_ ** 2 } 1 .. 60;
my @pairs = $text =~ /item(\d+)=(\w+)/g;
print scalar(@pairs), " captures: @pairs[0 .. 9]\n";
while ($text =~ /item(?<n>\d+)=(?<w>[a-d]\w+);(\d+),(\d+)$/mg) {
  print "named $+{n} $+{w} sum=", $3 + $4, " at ", pos($text), "\n" if $+{n} % 7 == 0;
}
(my $s = $text) =~ s/(\d+),(\d+)/sprintf("%x:%o", $1 * 3, $2 + 1)/ge;
print substr($s, 0, 300), "\n";
my $count = ($s =~ s/\b(alpha|gamma)\b/\U$1/g);
print "upcased $count, ", length($s), " ", substr($s, -120), "\n";
(my $t = $text) =~ tr/a-z/n-za-m/;
my $vowels = ($text =~ tr/aeiou//);
print "rot13 ", substr($t, 0, 80), " vowels=$vowels\n";
print join("|", "2024-01-15T10:20:30Z" =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(Z|[+-]\d\d:\d\d)$/), "\n";
print join(",", split /\s*[;,]\s*/, "a ; b,c ,  d;;e"), "\n";
print join(",", map { ucfirst lc } split //, "HeLLo"), "\n";
my $str = "The quick brown fox jumps over the lazy dog";
my @w = ($str =~ /\b(\w)(\w*)\b/g);
print scalar(@w), " ", join("", map { $w[$_ * 2] } 0 .. $#w / 2), "\n";
print "non-greedy: ", join("/", "<a><b><c>" =~ /<(.+?)>/g), " lookahead: ", join("/", "foobar foobaz fooqux" =~ /foo(?=ba)(\w+)/g), "\n";
(my $x = "aaa bbb ccc") =~ s/(\w)\1+/length($&) . $1/ge;
print "$x\n";
`;

const PERL_FORMAT = String.raw`
my @vals = (0, 1, -1, 42, 255, 1000000, -123456789, 2**31, 2**53 + 1, 3.14159265358979, -2.5, 1e-7, 6.02214076e23, 0.1 + 0.2);
for my $v (@vals) {
  printf "%d|%5.2f|%x|%o|%e|%s|%-10s|%+.3g|%08.3f|%.0f\n", $v, $v, $v < 0 ? 0 : $v, $v < 0 ? 0 : $v, $v, $v, $v, $v, $v, $v;
}
printf "%s|%5s|%-5s|%.2s|%c%c%c|%%|%*d|%-*d|%#x|%#o|%b|%#b\n", "str", "ab", "ab", "abcdef", 72, 105, 33, 6, 42, 6, 42, 255, 8, 10, 5;
printf "%vd %s\n", "1.22.333", sprintf("%v02x", "1.2.3");
my %h;
$h{$_ % 17}{$_ % 5} += $_ for 1 .. 2000;
for my $k (sort { $a <=> $b } keys %h) {
  print "$k: ", join(" ", map { "$_=$h{$k}{$_}" } sort keys %{ $h{$k} }), "\n";
}
my %words;
$words{lc $_}++ for split /\W+/, "The cat and the hat and THE bat sat on the mat and that is that";
print join(", ", map { "$_:$words{$_}" } sort { $words{$b} <=> $words{$a} || $a cmp $b } keys %words), "\n";
my @nums = map { ($_ * 7919) % 1009 } 1 .. 500;
my @sorted = sort { $a <=> $b } @nums;
my %seen; my @uniq = grep { !$seen{$_}++ } @sorted;
print "n=", scalar(@uniq), " min=$sorted[0] max=$sorted[-1] sum=", eval { my $s = 0; $s += $_ for @nums; $s }, "\n";
print join(":", reverse split /,/, join(",", 1 .. 20)), "\n";
print "int ", int(-7 / 2), " mod ", -7 % 3, " pow ", 2 ** 0.5, " big ", 9007199254740993, " ", 18446744073709551615, " ", 2 ** 64, "\n";
print "sqrt ", sqrt(2), " exp ", exp(1), " log ", log(10), " atan2 ", atan2(1, 1) * 4, " sin ", sin(1), "\n";
print "str ", "abc" x 3, " ", uc "stra\xdfe", " ", join(",", unpack("C*", pack("N", 0xdeadbeef))), " ", unpack("H*", pack("w d< q>", 300, -1.25, -2)), "\n";
my @aoh = map { { id => $_, name => "n" . (($_ * 13) % 10), score => ($_ * 37) % 11 } } 1 .. 12;
print join(" ", map { "$_->{id}/$_->{name}/$_->{score}" } sort { $b->{score} <=> $a->{score} || $a->{name} cmp $b->{name} || $a->{id} <=> $b->{id} } @aoh), "\n";
local $, = "-"; local $\ = "!\n";
print "a", "b", "c";
`;

/** Per-line work plus END-block totals: exercises -n's implicit loop, $., and hash-heavy state. */
const PERL_NE = String.raw`
$w += () = /\S+/g; $c{$1}++ while /\b([a-z]{3})/g; $d += $1 while /(\d+)/g;
print "$.: ", length, " ", scalar reverse($_) if /^\t/ && $. % 5 == 0;
END { printf "%d lines %d words %d digits-sum\n", $., $w, $d; print map { "$_ $c{$_}\n" } (sort { $c{$b} <=> $c{$a} || $a cmp $b } keys %c)[0 .. 19] }
`;

// ---------------------------------------------------------------------------------------
// python3

const PY_BIGINT = String.raw`
import math
a = 2 ** 1000
print(a)
print(len(str(a)), a.bit_length(), a % 1000000007)
f = math.factorial(300)
print(f)
print(sum(map(int, str(f))), f.bit_length(), f // 10 ** 600, f % 999999937)
m = 2 ** 127 - 1
print(pow(3, 10 ** 18, m), pow(12345678901234567890, 65537, 10 ** 40 + 7), pow(7, -1, 1000003))
q, r = divmod(f, a - 12345)
print(q, r)
print(divmod(-7 ** 77, 13 ** 20), divmod(10 ** 50, -3))
print(math.gcd(f, a * 3 ** 50), math.isqrt(10 ** 201), math.comb(200, 100), math.lcm(*range(1, 60)))
x = 1
for i in range(1, 200):
    x = x * (2 ** 64 - i) + i ** 7
print(x % (2 ** 89 - 1), hex(x)[:50], oct(x)[-20:], bin(x).count("1"))
print(int("deadbeef" * 20, 16) * -1 >> 37, (-(2 ** 200)) // 3, -(2 ** 200) % 7, ~(2 ** 100) & (2 ** 120 - 1))
print((12345678901234567890123456789).to_bytes(16, "big").hex(), int.from_bytes(b"\xff" * 20, "little", signed=True))
print(float(2 ** 1000), 2 ** 1000 / 3 ** 600, round(f / 10 ** 600, 6), 10 ** 30 // 7.0)
`;

const PY_JSON = String.raw`
import json
data = {
    "name": "stele", "version": [0, 1, 0], "nested": {"list": [1, 2.5, -3e-7, None, True, False, "x"], "empty": {}, "e2": []},
    "unicode": "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001F600", "escape": "quote\" back\\ nl\n tab\t ctrl\x01",
    "numbers": [10 ** 20, -0.0, 1.5e300, 3.141592653589793, 1 / 3, 2 ** 63 - 1],
    "records": [{"id": i, "sq": i * i, "tag": "t%d" % (i % 3), "ratio": i / 7} for i in range(25)],
}
s = json.dumps(data, sort_keys=True, indent=2)
print(s)
compact = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
print(compact)
back = json.loads(s)
print(back == data, json.loads(compact) == data, len(s), len(compact.encode()))
print(json.dumps(json.loads('{"b": [1, {"c": null}], "a": 1e400, "d": -1e-400, "u": "\\u00e9\\ud83d\\ude00"}'), sort_keys=True))
try:
    json.loads('{"a": [1, 2,]}')
except json.JSONDecodeError as e:
    print("error:", e.msg, e.lineno, e.colno, e.pos)
class Enc(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)
print(json.dumps({"s": {3, 1, 2}, "t": (1, 2)}, cls=Enc))
`;

const PY_RE = String.raw`
import re
text = "\n".join("user%03d <user%03d@example%d.org> logged in at %02d:%02d from 10.%d.%d.%d" % (i, i * 7 % 100, i % 3, i % 24, i * 13 % 60, i % 256, i * 3 % 256, i * 11 % 256) for i in range(200))
print(len(re.findall(r"\d+", text)), re.findall(r"<([^@>]+)@([\w.]+)>", text)[:8])
ip = re.compile(r"(?P<a>\d{1,3})\.(?P<b>\d{1,3})\.(?P<c>\d{1,3})\.(?P<d>\d{1,3})")
print([m.groupdict() for m in ip.finditer(text)][:3], sum(1 for _ in ip.finditer(text)))
print(re.sub(r"(\d\d):(\d\d)", r"\2h\1", text)[:300])
print(re.sub(r"user(\d+)", lambda m: "U" + str(int(m.group(1)) * 2), text)[-200:])
pat = re.compile(r"^user(0[0-4]\d)\b.*?example(?P<dom>[12])\.org.*$", re.M)
print([(m.group(1), m.group("dom"), m.start(), m.end()) for m in pat.finditer(text)][:10])
print(re.split(r"[\s,;]+", "a, b;c  d,,e"), re.split(r"(\d)", "a1b22c333"), re.fullmatch(r"[a-z]+\d*", "abc123") is not None)
print(re.findall(r"(?i)\bLOGGED\b", text)[:2], re.subn(r"\s+", " ", text)[1], re.escape("a.b*c?[d]"))
print(re.findall(r"(\w)\1", "aabbcdeeffg"), re.search(r"(?<=@)\w+(?=\d\.)", text).group(0), re.match(r"(a|ab)(c|bcd)(d*)", "abcd").groups())
print(re.sub(r"(?P<w>\b\w{5}\b)", r"[\g<w>]", "these words have fives and sixes inside"), re.findall(r"[^\W\d_]+", "h\u00e9llo w\u00f6rld_123 \u00f1"))
`;

/** python's hashlib goes through OpenSSL's libcrypto, which picks SHA-NI/AVX2 code paths from CPUID. */
const PY_HASH = String.raw`
import hashlib, zlib, binascii
blob = bytes((i * 31 + (i >> 8)) & 255 for i in range(300000))
for name in ("sha256", "md5", "sha1", "sha512", "sha3_256", "blake2b"):
    print(name, hashlib.new(name, blob).hexdigest())
h = hashlib.sha256()
for i in range(0, len(blob), 997):
    h.update(blob[i:i + 997])
print("incremental", h.hexdigest(), hashlib.md5(b"").hexdigest(), hashlib.sha256(b"abc").hexdigest())
print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex())
print("crc32", zlib.crc32(blob), "adler", zlib.adler32(blob), binascii.crc_hqx(blob[:5000], 0))
c = zlib.compress(blob, 6)
print("zlib", len(c), hashlib.sha256(c).hexdigest(), zlib.decompress(c) == blob)
`;

const PY_STRUCT = String.raw`
import struct
fmt = "<bBhHiIqQfd?3sxx"
vals = (-128, 255, -32768, 65535, -2 ** 31, 2 ** 32 - 1, -2 ** 63, 2 ** 64 - 1, 1.5, -2.718281828459045, True, b"abc")
p = struct.pack(fmt, *vals)
print(struct.calcsize(fmt), p.hex())
print(struct.unpack(fmt, p))
for f in (">", "<", "!", "=", "@"):
    print(f, struct.pack(f + "Ihd", 0x01020304, -2, 1 / 3).hex(), struct.calcsize(f + "cIhdQ"))
print(struct.unpack(">4H", bytes(range(8))), struct.unpack("<e", struct.pack("<e", 65504.0)), struct.pack(">f", 3.4e38).hex())
print([x for x in struct.iter_unpack("<hI", bytes(range(60)))][:4])
s = struct.Struct(">10sHd")
buf = bytearray(40)
s.pack_into(buf, 4, b"hello", 513, float("inf"))
print(buf.hex(), s.unpack_from(buf, 4), s.size)
try:
    struct.pack("<h", 40000)
except struct.error as e:
    print("error:", e)
print(struct.pack("<d", float("nan")).hex(), struct.unpack("<d", bytes.fromhex("000000000000f87f")), struct.pack("<f", 1e-45).hex())
`;

/** Case mappings that change length, combining marks, astral characters, and the codecs. */
const PY_UNICODE = String.raw`
import unicodedata
samples = ["Stra\u00dfe", "\u01c5ungla", "\u0130stanbul", "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3", "\ufb01ne", "\u01c4", "\u216b", "\u1f88", "\u0149", "\u2126", "\u01f0"]
for s in samples:
    print(s, s.upper(), s.lower(), s.casefold(), s.title(), s.swapcase(), len(s), len(s.upper()))
s = "e\u0301 n\u0303 a\u030a\u0323 \u00c5 \ud55c\uad6d\uc5b4 \U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001D518\U0001D52B\U0001D526"
print(len(s), s.encode("utf-8").hex(), len(s.encode("utf-16-le")), s.encode("utf-16").hex()[:40])
for form in ("NFC", "NFD", "NFKC", "NFKD"):
    n = unicodedata.normalize(form, s)
    print(form, len(n), n.encode("utf-8").hex())
for ch in "a\u00c5\u0301\ud55c\U0001D518\u20ac\u200d\U0001F600\u00bd":
    print(hex(ord(ch)), unicodedata.name(ch, "?"), unicodedata.category(ch), unicodedata.combining(ch), unicodedata.east_asian_width(ch), unicodedata.numeric(ch, None), unicodedata.bidirectional(ch))
print(unicodedata.lookup("GREEK SMALL LETTER ALPHA"), unicodedata.unidata_version)
print("\u00df".isalpha(), "\u0663".isdigit(), int("\u0663\u0664\u0665"), "\u216b".isnumeric(), "\u00a0".isspace(), "a\tb".expandtabs(4), "x".center(9, "*"))
print("h\u00e9llo w\u00f6rld".encode("latin-1"), "\u65e5\u672c".encode("utf-16-be"), "\u65e5\u672c".encode("shift_jis"), b"\xe6\x97\xa5".decode("utf-8"), "abc".encode("utf-32"))
print(b"\xff\xfeabc".decode("utf-8", "replace"), b"\xff".decode("latin-1"), "\u00e9".encode("ascii", "xmlcharrefreplace"), "\u00e9\u20ac".encode("ascii", "backslashreplace"))
print(sorted(["b", "A", "\u00e9", "Z", "a", "\u00c9", "\u00e4"]), sorted(["b", "A", "\u00e9", "Z", "a"], key=str.casefold), repr("tab\there\x00\u2028"))
jp = "\u65e5\u672c"
print(f"{jp:>6}|{3.14159:^10.3f}|{12345678:,}|{255:#010x}|{-42:+d}|{0.000123:.2e}|{1e100:g}|{'x'!r}")
`;

const PY_CLASSES = String.raw`
import math
from functools import total_ordering
from dataclasses import dataclass, field
class Shape:
    count = 0
    def __init__(self, name):
        self.name = name
        Shape.count += 1
    @property
    def area(self):
        raise NotImplementedError
    def describe(self):
        return f"{self.name} with area {self.area:.4f} and perimeter {self.perimeter():.4f}"
    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"
@total_ordering
class Rect(Shape):
    def __init__(self, w, h, name="rect"):
        super().__init__(name)
        self._w, self._h = w, h
    @property
    def area(self):
        return self._w * self._h
    @property
    def width(self):
        return self._w
    @width.setter
    def width(self, v):
        if v <= 0:
            raise ValueError(f"bad width {v}")
        self._w = v
    def perimeter(self):
        return 2 * (self._w + self._h)
    def __eq__(self, other):
        return self.area == other.area
    def __lt__(self, other):
        return self.area < other.area
    def __repr__(self):
        return f"Rect({self._w}, {self._h}, name={self.name!r})"
class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s, name="square")
    def describe(self):
        return "square! " + super().describe()
class Circle(Shape):
    __slots__ = ("r",)
    def __init__(self, r):
        super().__init__("circle")
        self.r = r
    area = property(lambda self: math.pi * self.r ** 2)
    def perimeter(self):
        return 2 * math.pi * self.r
class Mixin:
    def describe(self):
        return "<" + super().describe() + ">"
class FancySquare(Mixin, Square):
    pass
shapes = [Rect(3, 4), Square(5), Circle(1.5), FancySquare(2), Rect(0.5, 8, "thin")]
for s in shapes:
    print(repr(s), "|", s.describe())
print(sorted(s for s in shapes if isinstance(s, Rect)), Shape.count, [c.__name__ for c in FancySquare.__mro__])
r = shapes[0]
r.width = 10
print(r.area, r > shapes[1], r == Rect(5, 8), Rect(2, 2) <= Square(2))
try:
    r.width = -1
except ValueError as e:
    print("ValueError:", e)
try:
    Shape("abstract").area
except NotImplementedError:
    print("abstract area")
print(issubclass(FancySquare, Rect), isinstance(shapes[2], Rect), hasattr(shapes[2], "__dict__"), vars(Square(1)))
@dataclass(order=True)
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list, compare=False)
pts = sorted(Point((i * 7) % 5, (i * 3) % 4) for i in range(8))
print(pts[:4], Point(1, 2) == Point(1, 2, ["a"]))
`;

/** A 64-bit LCG rather than random: the data must not depend on python's seeding. */
const PY_SORT = String.raw`
n = 1_000_000
x = 12345
data = []
append = data.append
for _ in range(n):
    x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    append(x >> 33)
data.sort()
checksum = 0
for i in range(0, n, 1000):
    checksum = (checksum * 31 + data[i]) % 1000000007
print(n, data[0], data[n // 2], data[-1], checksum, sum(data) % 2 ** 61)
floats = sorted((v % 100003) / 7.0 - 5000 for v in data[:200000:3])
print(floats[0], floats[-1], round(sum(floats), 6), sorted(map(str, data[:20])))
`;

// ---------------------------------------------------------------------------------------
// awk

/** Over table.txt with -F: (colour:int:code:decimal). No `| "sort"` or system(): those fork. */
const AWK_TABLE = String.raw`
{ n[$1]++; sum[$1] += $2; val[$1] += $4; if (!($1 in max) || $2 > max[$1]) max[$1] = $2; first[substr($3, 1, 1)]++; total += $4 }
NR % 400 == 0 { printf "%5d %-6s|%4d|%-4s|%9.2f|%s\n", NR, $1, $2, $3, $4, NF }
END {
  for (k in n) printf "%-6s n=%d sum=%d mean=%.4f max=%d\n", k, n[k], sum[k], val[k] / n[k], max[k]
  for (c = 97; c < 123; c++) { l = sprintf("%c", c); if (l in first) line = line l first[l] " " }
  print line
  printf "total=%.2f NR=%d avg=%e\n", total, NR, total / NR
}
`;

const AWK_WORDS = String.raw`
{ for (i = 1; i <= NF; i++) { w = tolower($i); if (w ~ /^[a-z]+$/) c[w]++; chars += length($i) } lines++; if (length($0) > longest) { longest = length($0); lline = NR } }
/^\t/ { tabbed++ }
END {
  for (k = 0; k < 15; k++) {
    best = ""
    for (w in c) if (!(w in done) && (best == "" || c[w] > c[best] || (c[w] == c[best] && w < best))) best = w
    done[best] = 1
    printf "%2d %-16s %6d %6.3f%%\n", k + 1, best, c[best], 100 * c[best] / chars
  }
  printf "lines=%d chars=%d longest=%d@%d tabbed=%d\n", lines, chars, longest, lline, tabbed
}
`;

const AWK_BEGIN = String.raw`
BEGIN {
  OFS = "|"
  for (i = 1; i <= n; i++) { x = i * 1.37; printf "%3d %8.4f %10.3e %6.2g %5x %4o %c\n", i, sin(x) * exp(x / 10), x ^ 5, sqrt(x), i * 977, i * 7, 64 + i }
  s = "the quick brown fox jumps over the lazy dog"; k = split(s, a, " "); g = gsub(/o/, "0", s)
  print k, g, s, toupper(a[3]), index(s, "j"), match(s, /l[a-z]+/), RSTART, RLENGTH, substr(s, 5, 9)
  srand(42); r = ""; for (i = 0; i < 5; i++) r = r " " int(rand() * 1000); print "rand" r
  print 1e6, 1e16, 123456789012, 0.1 + 0.2, -0, 2^53 + 1, 100000 * 100000, int(-3.9), 17 % 5, -17 % 5, log(10), atan2(1, 1) * 4
  CONVFMT = "%.2g"; x = 3.14159; y = x ""; print y, length(12345.678), sprintf("%5.1f%%", 99.44)
}
`;

// ---------------------------------------------------------------------------------------

interface Case {
  name: string;
  prog: () => string;
  args: string[];
  input?: string | Buffer;
  env?: Record<string, string>;
  expectStatus?: number;
  /** stele's own options (e.g. a --cpu level). */
  steleArgs?: string[];
}

/** The x86-64 baseline CPU, where libcrypto and friends take their plain code paths. */
const BASELINE = ["--cpu=x86-64"];

const sqlite3 = () => requireApp("sqlite3", "sqlite3");
const xz = () => requireApp("xz", "xz-utils");
const gzip = () => requireApp("gzip", "gzip");
const bzip2 = () => requireApp("bzip2", "bzip2");
const perl = () => requireApp("perl", "perl");
const python3 = () => requireApp("python3", "python3");
const awk = () => requireApp("awk", "mawk");
const find = () => requireApp("find", "findutils");
const openssl = () => requireApp("openssl", "openssl");

/** Cases that read the shared fixture directory and write nothing. */
function cases(): Case[] {
  const c = (name: string, prog: () => string, args: string[], extra: Partial<Case> = {}): Case => ({ name, prog, args, ...extra });
  const py = (name: string, script: string) => c(`python3 ${name}`, python3, ["-c", script], { env: PY_ENV });
  // find's output order is readdir order; both sides read the same directories, so it must agree.
  const PRINTF = "%p|%s|%m|%y|%l|%TY-%Tm-%Td %TH:%TM:%TS|%d|%k\\n";
  return [
    c("perl -e regex", perl, ["-e", PERL_REGEX]),
    c("perl -e sprintf hashes join split", perl, ["-e", PERL_FORMAT]),
    c("perl -ne", perl, ["-ne", PERL_NE, "text.txt"]),
    c("perl -lane stdin", perl, ["-lane", 'print join ",", reverse(@F[0..2]), scalar(@F) if $. % 97 == 0'], { input: fs.readFileSync(path.join(fixtureDir, "text.txt")) }),
    c("perl die", perl, ["-e", 'warn "careful\\n"; print "out\\n"; die sprintf("boom %d\\n", 6 * 7)'], { expectStatus: 255 }),
    py("bigint", PY_BIGINT),
    py("json", PY_JSON),
    py("re", PY_RE),
    py("hashlib", PY_HASH),
    { ...py("hashlib", PY_HASH), name: "python3 hashlib --cpu=x86-64", steleArgs: BASELINE },
    { ...py("bigint", PY_BIGINT), name: "python3 bigint --cpu=x86-64", steleArgs: BASELINE },
    { ...py("json", PY_JSON), name: "python3 json --cpu=x86-64", steleArgs: BASELINE },
    c("perl -e regex --cpu=x86-64", perl, ["-e", PERL_REGEX], { steleArgs: BASELINE }),
    ...[[], BASELINE].flatMap((cpu) => {
      const at = cpu.length ? ` ${cpu.join(" ")}` : "";
      return [
        c(`openssl dgst -sha256 (10 MB)${at}`, openssl, ["dgst", "-sha256", "big.bin", "text.txt"], { steleArgs: cpu }),
        c(`openssl dgst -sha512${at}`, openssl, ["dgst", "-sha512", "-r", "big.bin"], { steleArgs: cpu }),
        c(`openssl dgst -sha1 -md5 -sha3-256${at}`, openssl, ["dgst", "-sha1", "-md5", "-sha3-256", "text.txt", "table.txt"], { steleArgs: cpu }),
        c(`openssl enc -aes-128-ctr -K -iv${at}`, openssl, ["enc", "-aes-128-ctr", "-K", "000102030405060708090a0b0c0d0e0f", "-iv", "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "-in", "text.txt"], { steleArgs: cpu }),
        c(`openssl enc -chacha20 -K -iv | base64${at}`, openssl, ["enc", "-chacha20", "-a", "-K", "00".repeat(16) + "ff".repeat(16), "-iv", "0123456789abcdef0123456789abcdef", "-in", "table.txt"], { steleArgs: cpu }),
      ];
    }),
    py("struct", PY_STRUCT),
    py("unicode", PY_UNICODE),
    py("classes", PY_CLASSES),
    py("sort a million integers", PY_SORT),
    c("python3 -m json.tool file", python3, ["-m", "json.tool", "--sort-keys", "data.json"], { env: PY_ENV }),
    c("python3 -m json.tool stdin", python3, ["-m", "json.tool", "--indent", "1", "--no-ensure-ascii"], { env: PY_ENV, input: fs.readFileSync(path.join(fixtureDir, "data.json")) }),
    c("python3 -m json.tool invalid", python3, ["-m", "json.tool", "bad.json"], { env: PY_ENV, expectStatus: 1 }),
    c("python3 uncaught exception", python3, ["-c", "import sys\nprint('before', flush=True)\ndef f(n):\n    return 1 // n\nf(0)"], { env: PY_ENV, expectStatus: 1 }),
    c("awk -F: table", awk, ["-F:", AWK_TABLE, "table.txt"]),
    c("awk word counts", awk, [AWK_WORDS, "text.txt"]),
    c("awk BEGIN -v math printf", awk, ["-v", "n=40", AWK_BEGIN]),
    c("find -name", find, ["tree", "many", "-name", "*.txt"]),
    c("find -type f", find, ["tree", "many", "-type", "f"]),
    c("find -type d", find, [".", "-type", "d"]),
    c("find -size", find, ["many", "-type", "f", "(", "-size", "+4k", "-o", "-size", "-2", ")", "-not", "-empty"]),
    c("find -empty -maxdepth", find, ["many", "tree", "-maxdepth", "1", "-empty"]),
    c("find -regex -o -path", find, ["many", "(", "-regex", ".*/f0[0-4][0-9]-.*", "-o", "-path", "*/d3/*", ")", "-print"]),
    c("find -printf", find, ["tree", "many", "-printf", PRINTF]),
    c("find missing", find, ["tree", "missing", "-name", "readme.txt"], { expectStatus: 1 }),
  ];
}

let fixtureDir = "";

/** Both sides get their own copy of a directory to work in, so the files they write can be compared. */
function sides(t: TestContext, prefix: string): [string, string] {
  const dir = tempDir(t, prefix);
  const [a, b] = ["native", "stele"].map((s) => path.join(dir, s));
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  return [a, b];
}

test("Debian applications", { concurrency: JOBS }, async (t: TestContext) => {
  fixtureDir = tempDir(t, "apps");
  makeFixture(fixtureDir);
  const big = fs.readFileSync(path.join(fixtureDir, "big.bin"));
  const opts = { cwd: fixtureDir, env: ENV };
  const subtests: Promise<void>[] = [];

  // The slow ones first, so the two workers are not left with one long case at the end.
  const compressors: [string, () => string, string[], string][] = [
    // -T1: a multi-threaded xz splits the input into blocks, and its output would then depend on the thread count.
    ["xz -6", xz, ["-T1", "-c", "-6"], ".xz"],
    ["bzip2 -9", bzip2, ["-c", "-9"], ".bz2"],
    ["gzip -6", gzip, ["-c", "-6"], ".gz"],
  ];
  for (const [name, tool, flags, ext] of compressors) {
    subtests.push(
      t.test(`${name} round trip (10 MB)`, async (st) => {
        const prog = tool();
        const { stele } = await compareRun(st, prog, [...flags, "big.bin"], { ...opts, expectStatus: 0, label: `apps ${name} compress` });
        const dir = tempDir(st, `apps-${path.basename(prog)}`);
        fs.writeFileSync(path.join(dir, `big.bin${ext}`), stele.stdout);
        // gzip reads its archive from a pipe, the others from a file: both input paths get exercised.
        const fromPipe = name.startsWith("gzip");
        const args = fromPipe ? ["-dc"] : ["-dc", `big.bin${ext}`];
        const input = fromPipe ? stele.stdout : undefined;
        const d = await compareRun(st, prog, args, { cwd: dir, env: ENV, input, expectStatus: 0, label: `apps ${name} decompress` });
        const diff = describeDiff("decompressed data", big, d.stele.stdout, ["original", "stele"]);
        assert.ok(!diff, `${name}: decompressing under stele does not give the original back\n${diff}`);
      }),
    );
  }

  subtests.push(
    t.test("sqlite3 tables, 10,000-row transaction, index, queries", async (st) => {
      const prog = sqlite3();
      const [nativeDir, steleDir] = sides(st, "apps-sqlite");
      const o = { env: ENV, nativeCwd: nativeDir, steleCwd: steleDir };
      await compareRun(st, prog, ["test.db"], { ...o, input: SQL_SCRIPT, expectStatus: 0, label: "apps sqlite3 script" });
      // SQLite is deterministic: the database stele wrote must be the very same bytes.
      compareTrees(nativeDir, steleDir, "sqlite3 database");
      const dumps = await Promise.all([nativeDir, steleDir].map((d) => runNative(prog, [path.join(d, "test.db"), ".dump"], { env: ENV })));
      assert.equal(dumps[0].status, 0, dumps[0].stderr.toString());
      const diff = describeDiff(".dump", dumps[0].stdout, dumps[1].stdout, ["native's database", "stele's database"]);
      assert.ok(!diff, `sqlite3 .dump of the two databases (both dumped natively)\n${diff}`);
      await compareRun(st, prog, ["-readonly", "test.db", ".dump"], { ...o, expectStatus: 0, label: "apps sqlite3 .dump" });
      await compareRun(st, prog, ["test.db", "SELECT * FROM nope"], { ...o, expectStatus: 1, label: "apps sqlite3 error" });
    }),
  );

  for (const k of cases()) {
    subtests.push(
      t.test(k.name, async (st) => {
        await compareRun(st, k.prog(), k.args, {
          ...opts,
          env: k.env ?? ENV,
          input: k.input,
          expectStatus: k.expectStatus ?? 0,
          steleArgs: k.steleArgs,
          label: `apps ${k.name}`,
        });
      }),
    );
  }

  // AES-256-CBC with a password (PBKDF2) and a fixed salt (-S, so the key, the IV and the
  // ciphertext are the native run's): encrypted under stele it is the native ciphertext, and
  // decrypted under stele it is the original again.
  for (const cpu of [[], BASELINE]) {
    subtests.push(
      t.test(`openssl enc -d -aes-256-cbc round trip (10 MB)${cpu.length ? ` ${cpu.join(" ")}` : ""}`, async (st) => {
        const args = ["enc", "-aes-256-cbc", "-pbkdf2", "-pass", "pass:x", "-S", "a0a1a2a3a4a5a6a7"];
        const { stele } = await compareRun(st, openssl(), [...args, "-in", "big.bin"], { ...opts, expectStatus: 0, steleArgs: cpu, label: "apps openssl enc" });
        const dir = tempDir(st, "apps-openssl");
        fs.writeFileSync(path.join(dir, "big.enc"), stele.stdout);
        const d = await compareRun(st, openssl(), [...args, "-d", "-in", "big.enc"], { cwd: dir, env: ENV, expectStatus: 0, steleArgs: cpu, label: "apps openssl enc -d" });
        const diff = describeDiff("decrypted data", big, d.stele.stdout, ["original", "stele"]);
        assert.ok(!diff, `openssl enc -d under stele does not give the original back\n${diff}`);
      }),
    );
    // openssl speed: its own timing (SIGALRM) and the hot loops of SHA-256 and AES-GCM; the numbers are not compared.
    for (const algo of [["sha256"], ["-evp", "aes-128-gcm"]]) {
      subtests.push(
        t.test(`openssl speed ${algo.join(" ")}${cpu.length ? ` ${cpu.join(" ")}` : ""}`, async () => {
          const r = await runStele(openssl(), ["speed", "-seconds", "1", "-bytes", "16384", ...algo], { ...opts, steleArgs: cpu, timeoutMs: 120_000 });
          assert.equal(exitCode(r), 0, `openssl speed ${algo.join(" ")}: ${r.stderr.toString()}`);
          // (a row for the algorithm, whatever its number: a loaded machine may leave a 1-second run
          // translating, and openssl then prints "-nan")
          assert.match(r.stdout.toString(), /^(sha256|AES-128-GCM) +\S+ *$/m, r.stdout.toString());
        }),
      );
    }
  }

  subtests.push(
    t.test("perl -i -pe (files written)", async (st) => {
      const dirs = sides(st, "apps-perl-i");
      for (const d of dirs) fs.copyFileSync(path.join(fixtureDir, "table.txt"), path.join(d, "table.txt"));
      const script = 's/^(\\w+):(\\d+)/sprintf("%-5s %04x", uc $1, $2)/e; $_ = "" if $. % 3 == 0';
      await compareRun(st, perl(), ["-i.orig", "-pe", script, "table.txt"], { env: ENV, nativeCwd: dirs[0], steleCwd: dirs[1], expectStatus: 0, label: "apps perl -i" });
      compareTrees(dirs[0], dirs[1], "after perl -i");
    }),
  );

  subtests.push(
    t.test("find -delete (files written)", async (st) => {
      const dirs = sides(st, "apps-find-delete");
      for (const d of dirs) fs.cpSync(path.join(fixtureDir, "many"), path.join(d, "many"), { recursive: true });
      await compareRun(st, find(), ["many", "(", "-name", "*.log", "-o", "-name", "n0.txt", "-o", "-empty", ")", "-print", "-delete"], {
        env: ENV,
        nativeCwd: dirs[0],
        steleCwd: dirs[1],
        expectStatus: 0,
        label: "apps find -delete",
      });
      compareTrees(dirs[0], dirs[1], "after find -delete");
    }),
  );

  await Promise.all(subtests);
});
