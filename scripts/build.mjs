// Bundles tg with esbuild into one CommonJS file per entry — the form Node's single-executable
// support needs, and quick to start (one file to read, no module resolution):
//   dist/tg.cjs  — the CLI (bin/tg): the command table; each command module is evaluated only when it runs.
//   dist/lib.cjs — the library (run, the API client, the emulator, the pure core) for tests and embedding.
//   dist/list-worker.cjs — the worker thread that lists a group's runs.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  define: { __TG_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/tg.cjs' }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/lib.cjs' }),
  // The worker that lists a group's runs (src/commands/submit/ledger.ts), read beside the bundle.
  build({ ...common, entryPoints: ['src/workers/listRuns.ts'], outfile: 'dist/list-worker.cjs' }),
]);
// The V8 code cache bin/tg loads (scripts/code-cache.cjs), written by this node.
execFileSync(process.execPath, [new URL('./code-cache.cjs', import.meta.url).pathname], { stdio: 'inherit' });
