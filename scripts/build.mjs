// Bundles tg with esbuild into one CommonJS file per entry — the form Node's single-executable
// support needs, and the fastest to start:
//   dist/tg.cjs  — the CLI (bin/tg): the command table only; commands are imported lazily.
//   dist/lib.cjs — the library (run, the API client, the emulator, the pure core) for tests and embedding.
import { build } from 'esbuild';
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
]);

// V8 code cache for dist/tg.cjs, taken by bin/tg itself after a `--help` (so the start-up path
// is compiled); bin/tg uses it when this node accepts it. TG_NO_TUNE_HEAP: V8 rejects a cache
// made under other flags, and the cache is read before main() sets its heap flags.
{
  const { spawnSync } = await import('node:child_process');
  const { rmSync } = await import('node:fs');
  rmSync('dist/tg.cjs.cache', { force: true });
  const r = spawnSync(process.execPath, ['bin/tg', '--help'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TG_WRITE_CODE_CACHE: '1', TG_NO_TUNE_HEAP: '1' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
