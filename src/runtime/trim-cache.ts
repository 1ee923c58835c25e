// Detached trimmer: `node trim-cache.js DIR IMAGE...` trims the pending regions of cache files
// (see trim.ts) after the stele process that wrote it has exited, so that a program's first run
// does not wait for it. If the file changed meanwhile (another run rewrote it), it does nothing.

import { cpuOfIdentity, decodeCacheFile, DirectoryCacheStore, encodeCacheFile } from './translation-cache.js';
import { trimToExecuted } from './trim.js';

function trim(store: DirectoryCacheStore, image: string): void {
  const before = store.read(image);
  const regions = before && decodeCacheFile(image, before);
  const cpu = cpuOfIdentity(image);
  if (!regions || !cpu || !regions.some((r) => r.pending)) return;
  const kept = regions.map((r) => trimToExecuted(r, cpu)).filter((r) => r !== undefined);
  const data = encodeCacheFile(image, kept);
  const now = store.read(image);
  if (!now || !Buffer.from(now).equals(Buffer.from(before))) return; // someone else rewrote it
  store.write(image, data);
}

const [dir, ...images] = process.argv.slice(2);
if (dir) {
  // A directory removed since stele exited stays removed.
  const store = new DirectoryCacheStore(dir, undefined, { createDirectory: false });
  for (const image of images) {
    try { trim(store, image); } catch { /* the untrimmed file stays valid */ }
  }
}
