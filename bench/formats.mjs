// Reading and writing each format: N generated company rows per format, written with tg's table
// writer and read back through the registry's reader (openRows, as submit reads), each in its
// own child process so its peak RSS is its own. Prints rows/s and peak RSS per format, and each
// format's read time ÷ CSV's. Target: ≤ 250 MB peak RSS at 1M rows for CSV, TSV, xlsx, Parquet.
// Usage: node bench/formats.mjs [--rows 100000] [--formats csv,tsv,jsonl,json,xlsx,parquet]
//        (npm run bench:formats builds first; note the load average printed with the figures)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};

const COLUMNS = [
  { name: 'company_name' },
  { name: 'website' },
  { name: 'country' },
  { name: 'employees', type: 'int' },
  { name: 'revenue_musd', type: 'number' },
  { name: 'founded', type: 'date' },
  { name: 'note' },
];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'AT', 'CH'];

/** Row k of the generated table (deterministic). */
function row(k) {
  return [
    `Company ${k} GmbH`,
    `https://c${k}.example`,
    COUNTRIES[k % COUNTRIES.length],
    (k * 7919) % 100000,
    ((k * 104729) % 1000000) / 100,
    `${1900 + (k % 120)}-${String(1 + (k % 12)).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')}`,
    k % 10 === 0 ? `said "hi", then left; k=${k}` : `plain note ${k}`,
  ];
}

async function child(mode, format, file, n) {
  const tg = createRequire(import.meta.url)(path.join(root, 'dist/lib.cjs'));
  const t0 = process.hrtime.bigint();
  let rows = 0;
  if (mode === 'write') {
    const w = await tg.formatByName(format).open(file, COLUMNS);
    for (let i = 0; i < n; i += 512) {
      const batch = [];
      for (let k = i; k < Math.min(n, i + 512); k++) batch.push(row(k + 1));
      await w.write(batch);
      rows += batch.length;
    }
    await w.close();
  } else {
    const src = tg.openRows(file, { format });
    for await (const b of src.batches) rows += b.length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ rows, secs, rssMb: process.resourceUsage().maxRSS / 1024 }));
}

function measure(mode, format, file, n) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, format, file, String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} ${format} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

if (process.argv[2] === '--child') {
  const [, , , mode, format, file, n] = process.argv;
  await child(mode, format, file, Number(n));
} else {
  const n = Number(arg('--rows', '100000'));
  const formats = arg('--formats', 'csv,tsv,jsonl,json,xlsx,parquet').split(',');
  const dir = mkdtempSync(path.join(tmpdir(), 'tg-formats-'));
  const load = () => loadavg()[0].toFixed(2);
  const results = [];
  try {
    process.stderr.write(`load average at start ${load()}\n`);
    for (const f of formats) {
      const file = path.join(dir, `rows.${f}`);
      const w = measure('write', f, file, n);
      const r = measure('read', f, file, n);
      if (r.rows !== n) throw new Error(`${f}: read ${r.rows} rows of ${n}`);
      results.push({ f, size: statSync(file).size, w, r, load: load() });
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const csv = results.find((x) => x.f === 'csv');
  console.log(`formats: ${n.toLocaleString('en')} rows × ${COLUMNS.length} columns (node ${process.version}; each case a child process)\n`);
  console.log('| format | file MB | read rows/s | read s | ÷ CSV | read peak RSS MB | write rows/s | write s | write peak RSS MB | load avg |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { f, size, w, r, load: l } of results) {
    const ratio = csv ? (r.secs / csv.r.secs).toFixed(2) + '×' : '—';
    console.log(
      `| ${f} | ${(size / 1e6).toFixed(1)} | ${Math.round(n / r.secs).toLocaleString('en')} | ${r.secs.toFixed(2)} | ${ratio} | ${r.rssMb.toFixed(0)} | ${Math.round(n / w.secs).toLocaleString('en')} | ${w.secs.toFixed(2)} | ${w.rssMb.toFixed(0)} | ${l} |`,
    );
  }
}
