// `tg spec`: the spec --field options imply, usable as --spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, runInProcess, withFixture } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];

test('tg spec writes the spec --field implies: submitted with --spec, the rows are the same rows', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const d = withFixture('companies.csv');
    const spec = await runInProcess(['spec', ...FIELDS, '--input', 'companies.csv'], { cwd: d });
    assert.equal(spec.code, 0, spec.stderr);
    const s = JSON.parse(spec.stdout);
    assert.deepEqual(Object.keys(s.input_schema.json_schema.properties), ['company_name', 'company_website', 'segment']);
    assert.deepEqual(s.output_schema.json_schema.properties.founded_year, { type: 'integer', description: 'year the company was founded' });
    writeFileSync(path.join(d, 'spec.json'), spec.stdout);
    const first = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--base-url', e.url], { cwd: d });
    assert.equal(first.code, 0, first.stderr);
    const again = await runInProcess(['submit', 'companies.csv', '--spec', 'spec.json', '--base-url', e.url, '--json'], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).submitted, 0);
    assert.equal(e.stats.runsCreated, 60);
    const none = await runInProcess(['spec'], { cwd: d });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /tg spec needs at least one --field/);
  } finally {
    await e.close();
  }
});
