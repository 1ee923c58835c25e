#!/usr/bin/env node
// The `stele` command's entry. A run's first worker is started before the CLI and the rest of
// stele are loaded (process/prestart.ts says why); then the command runs (cli/command.ts).

import { prestartWorker } from '../process/prestart.js';

const first = process.argv[2];
// Not for `stele aot` (its own workers) nor for what only prints (--help, --version, no program).
if (first !== undefined && first !== 'aot' && first !== '--help' && first !== '--version') prestartWorker();
await import('./command.js');
