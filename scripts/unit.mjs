// The unit tier: test/unit/*.test.ts import src/ directly (type-checked by `npm run typecheck`),
// are bundled by esbuild into dist/unit/ (one CommonJS file each, node_modules left external) and
// run with node --test. `node scripts/unit.mjs --build` only bundles them (npm test runs the
// bundles with the rest of the suite); without it, it bundles, runs them and prints the time.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const files = readdirSync(path.join(root, 'test/unit')).filter((f) => f.endsWith('.test.ts'));
rmSync(path.join(root, 'dist/unit'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: files.map((f) => `test/unit/${f}`),
  outdir: 'dist/unit',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: { __TG_VERSION__: '"0.0.0-unit"' },
  logLevel: 'warning',
});
if (!process.argv.includes('--build')) {
  const out = files.map((f) => path.join('dist/unit', f.replace(/\.ts$/, '.cjs')));
  const r = spawnSync(process.execPath, ['--test', ...out], { cwd: root, stdio: 'inherit' });
  process.stderr.write(`unit tier: ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  process.exitCode = r.status ?? 1;
}
