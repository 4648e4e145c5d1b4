// Builds the single executable dist/tg with Node's own single-executable support, offline:
// esbuild bundle (one CJS file) → `node --experimental-sea-config` (blob with code cache) →
// a copy of the running node (stripped when `strip` exists) → postject injects the blob.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const started = Date.now();
mkdirSync(dist, { recursive: true });

const main = path.join(dist, 'tg-sea.cjs');
await build({
  stdin: {
    // In a single executable, process.argv is [binary, binary-as-typed, ...args].
    contents: "require('./src/main.ts').main(process.argv.slice(2));",
    resolveDir: root,
    sourcefile: 'sea-main.js',
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: main,
  legalComments: 'none',
  define: { __TG_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});

const blob = path.join(dist, 'tg.blob');
const config = path.join(dist, 'sea-config.json');
// The workers (built by scripts/build.mjs) go in as assets.
const assets = { 'list-worker.cjs': path.join(dist, 'list-worker.cjs'), 'parse-worker.cjs': path.join(dist, 'parse-worker.cjs') };
writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }));
const prep = spawnSync(process.execPath, ['--experimental-sea-config', config], { encoding: 'utf8' });
if (prep.status !== 0) {
  process.stderr.write(prep.stdout + prep.stderr);
  process.exit(1);
}

const out = path.join(dist, 'tg');
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
const stripped = spawnSync('strip', [out], { stdio: 'ignore' }).status === 0;
const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
const r = spawnSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
  encoding: 'utf8',
});
if (r.status !== 0) {
  process.stderr.write(r.stdout + r.stderr);
  process.exit(1);
}
rmSync(blob, { force: true });
rmSync(config, { force: true });
rmSync(main, { force: true });
const size = statSync(out).size;
process.stdout.write(
  `built ${path.relative(root, out)}: ${(size / 1e6).toFixed(1)} MB${stripped ? ' (node stripped)' : ''}, node ${process.version}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
