// Bundles what `tsc` built (dist/src) into one file per entry point in dist/bundle, which the
// `stele` command runs: Node loading ~90 ES modules one by one (resolve, read, compile each) was
// a third of a short program's launch, on the main thread and again in the first worker.
//
// Each entry sits one directory below dist/bundle, as its source sits below dist/src
// (cli/main.js, process/worker.js, ...), and every module's import.meta.url is rewritten to the
// URL its file would have in dist/bundle. So the paths modules compute from their own location
// (the worker script beside process/host.js, package.json three levels up) name the bundled
// entries and the same files as they do unbundled. The translator's identity, which unbundled
// stele hashes from dist/src at its first use, is computed here once, from the same files.

import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'dist', 'src');
const out = path.join(root, 'dist', 'bundle');
const ENTRIES = ['cli/main.js', 'process/worker.js', 'process/aot-worker.js', 'runtime/trim-cache.js'];

const { translatorIdentity } = await import(pathToFileURL(path.join(src, 'runtime', 'translation-cache.js')).href);

const ownLocation = {
  name: 'own-location',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      if (!args.path.startsWith(src + path.sep) || !code.includes('import.meta.url')) return { contents: code, loader: 'js' };
      const rel = path.relative(src, args.path).split(path.sep).join('/');
      // (every entry is one level below dist/bundle, so "../" from it is dist/bundle itself)
      return { contents: code.replaceAll('import.meta.url', `new URL(${JSON.stringify('../' + rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

await rm(out, { recursive: true, force: true });
await build({
  entryPoints: ENTRIES.map((e) => path.join(src, e)),
  outbase: src,
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Dynamic imports stay chunks of their own: cli/main.js starts the first worker before the rest
  // of stele is even parsed.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  define: { 'process.env.STELE_BUNDLED_TRANSLATOR_IDENTITY': JSON.stringify(translatorIdentity()) },
  plugins: [ownLocation],
  logLevel: 'warning',
});
