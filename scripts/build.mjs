// Bundles the CLI into one CommonJS file (dist/tg.cjs): the form Node's single-executable
// support needs, and the fastest to start. Heavy modules are imported lazily inside commands.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: 'dist/tg.cjs',
  sourcemap: false,
  legalComments: 'none',
  define: { __TG_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
