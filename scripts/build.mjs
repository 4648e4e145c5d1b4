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

// V8 code cache for dist/tg.cjs, taken after a `--help` so the start-up path is compiled;
// bin/tg uses it when this node accepts it.
{
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['-e', `
    const fs = require('fs'), vm = require('vm'), Module = require('module'), path = require('path');
    const file = path.resolve('dist/tg.cjs');
    const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    const m = new Module(file, module); m.filename = file; m.paths = Module._nodeModulePaths(path.dirname(file));
    script.runInThisContext()(m.exports, (id) => m.require(id), m, file, path.dirname(file));
    m.exports.run(['--help'], { stdout: { write() {} }, stderr: { write() {} } })
      .then(() => fs.writeFileSync(file + '.cache', script.createCachedData()));
  `], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
