// Bundles tg with esbuild into one CommonJS file per entry — the form Node's single-executable
// support needs, and quick to start (one file to read, no module resolution):
//   dist/tg.cjs  — the CLI (bin/tg): the command table; each command module is evaluated only when it runs.
//   dist/lib.cjs — the library (run, the API client, the emulator, the pure core) for tests and embedding.
//   dist/list-worker.cjs — the worker thread that lists a group's runs.
//   dist/parse-worker.cjs — the worker thread that parses the events of a listing (fetch, watch).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// commander requires node:child_process when it loads, for executable subcommands, which tg has
// none of; that load (child_process pulls in net, dgram and their streams) was a quarter of
// `tg --version`'s start-up (13 ms of 47 in a CPU profile). This plugin makes that one require
// happen on first use instead. It fails the build if commander's line changes, so an upgrade
// cannot drop it silently.
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const line = "const childProcess = require('node:child_process');";
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(line)) throw new Error(`${args.path}: no \`${line}\` to make lazy (commander changed?)`);
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: text.replace(line, lazy), loader: 'js' };
    });
  },
};
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
  plugins: [lazyChildProcess],
};
await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/tg.cjs' }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/lib.cjs' }),
  // The worker that lists a group's runs (src/commands/submit/listing.ts), read beside the bundle.
  build({ ...common, entryPoints: ['src/workers/listRuns.ts'], outfile: 'dist/list-worker.cjs' }),
  // The worker that parses a listing's events (src/api/lineParser.ts), read beside the bundle.
  build({ ...common, entryPoints: ['src/workers/parseLines.ts'], outfile: 'dist/parse-worker.cjs' }),
]);
// The V8 code cache bin/tg loads (scripts/code-cache.cjs), written by this node.
execFileSync(process.execPath, [new URL('./code-cache.cjs', import.meta.url).pathname], { stdio: 'inherit' });
