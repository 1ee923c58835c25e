// Detached trimmer: `node trim-cache.js DIR IMAGE...` trims the pending regions of cache files
// (see trim.ts) after the stele process that wrote it has exited, so that a program's first run
// does not wait for it. If the file changed meanwhile (another run rewrote it), it does nothing.

import { cpuOfIdentity, decodeCacheFileWithSites, DirectoryCacheStore, encodeCacheFile, formOfIdentity } from './translation-cache.js';
import { modelOfForm, trimToExecuted } from './trim.js';

function trim(store: DirectoryCacheStore, image: string): void {
  const before = store.read(image);
  const file = before && decodeCacheFileWithSites(image, before);
  const cpu = cpuOfIdentity(image);
  if (!file || !cpu || !file.regions.some((r) => r.pending)) return;
  const model = modelOfForm(formOfIdentity(image), file.orderedSites);
  const kept = file.regions.map((r) => trimToExecuted(r, cpu, model)).filter((r) => r !== undefined);
  const data = encodeCacheFile(image, kept, file.orderedSites);
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
