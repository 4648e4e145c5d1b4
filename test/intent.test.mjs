// `--intent` (issue L7): `tg spec` and `tg submit` ask the emulator's suggest endpoints (POST
// /v1beta/tasks/suggest and /suggest-processor) for output fields and a processor; the dry run
// prices them before anything is paid; the suggestion is kept, so reruns send the very same rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, groupRuns, runInProcess, withFixture } from './helpers.mjs';

const INTENT = 'find the CEO and founding year';

test('tg spec --intent: the suggested fields over the input columns; processor and the --field options on stderr', async () => {
  const e = await emulator();
  try {
    const d = withFixture('companies.csv');
    const env = { PARALLEL_BASE_URL: e.url };
    const r = await runInProcess(['spec', '--intent', INTENT, '--input', 'companies.csv'], { cwd: d, env });
    assert.equal(r.code, 0, r.stderr);
    const spec = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(spec.input_schema.json_schema.properties), ['company_name', 'company_website', 'segment']);
    assert.deepEqual(spec.output_schema.json_schema.properties, {
      ceo_name: { type: 'string', description: 'Full name of the current CEO' },
      founding_year: { type: 'integer', description: 'Year it was founded' },
    });
    assert.deepEqual(spec.output_schema.json_schema.required, ['ceo_name', 'founding_year']);
    assert.match(r.stderr, /tg: --intent: "Company CEO Name and Founding Year": 2 output fields\n/);
    assert.match(r.stderr, /tg: as --field options: --field 'ceo_name: Full name of the current CEO' --field 'founding_year:int: Year it was founded'\n/);
    assert.match(r.stderr, /tg: --intent: processor base \(the API recommends base, then core; --processor on submit overrides it\)/);
    assert.deepEqual([e.stats.suggestRequests, e.stats.suggestProcessorRequests], [1, 1]);
    // The same spec from the --field options it printed
    const fields = await runInProcess(
      ['spec', '--field', 'ceo_name: Full name of the current CEO', '--field', 'founding_year:int: Year it was founded', '--input', 'companies.csv'],
      { cwd: d },
    );
    assert.deepEqual(JSON.parse(fields.stdout), spec);
    // Asked again: the kept suggestion, no request
    const again = await runInProcess(['spec', '--intent', INTENT, '--input', 'companies.csv'], { cwd: d, env });
    assert.equal(again.stdout, r.stdout);
    assert.match(again.stderr, /tg: --intent: the API's suggestion of \S+, kept in \.tg\/suggestions\/[0-9a-f]{16}\.json \(delete it to ask again\)/);
    assert.equal(e.stats.suggestRequests, 1);
    // A suggested name tg refuses (a basis name) is renamed, and said
    const basis = await runInProcess(['spec', '--intent', 'find the CEO and the sources'], { cwd: d, env });
    assert.equal(basis.code, 0, basis.stderr);
    assert.deepEqual(Object.keys(JSON.parse(basis.stdout).output_schema.json_schema.properties), ['ceo_name', 'source_list']);
    assert.match(basis.stderr, /tg: warning: --intent: "sources" renamed source_list: the output's basis gives every field its own sources/);
    // Usage: with --field; empty
    const both = await runInProcess(['spec', '--intent', INTENT, '--field', 'x: y'], { cwd: d, env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^tg: --intent and --field cannot go together/);
    const empty = await runInProcess(['spec', '--intent', ' '], { cwd: d, env });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^tg: --intent is empty/);
    assert.equal(e.stats.suggestRequests, 2, 'usage errors asked nothing');
  } finally {
    await e.close();
  }
});

test('tg submit --intent: the dry run shows the suggested fields, processor and price; the run sends them; a rerun the very same rows', async () => {
  const e = await emulator({ latencyMs: [5, 10] });
  try {
    const d = withFixture('companies.csv');
    const env = { PARALLEL_BASE_URL: e.url };
    const intent = 'find the CEO, founding year, headquarters, employees and competitors';
    const dry = await runInProcess(['submit', 'companies.csv', '--intent', intent, '--dry-run'], { cwd: d, env });
    assert.equal(dry.code, 0, dry.stderr);
    // five fields, one a list: the emulator recommends pro (the real service decides its own way)
    assert.match(dry.stdout, /^processor +pro \(suggested for --intent\)$/m);
    assert.match(dry.stdout, /^cost +\$6\.00 \(60 runs × \$100\.00\/1,000 on pro, price table of 2026\)$/m);
    assert.match(dry.stdout, /^spec +--intent \(suggested fields: ceo_name, founding_year, headquarters, employee_count, competitors\)$/m);
    assert.match(dry.stderr, /kept in \.tg\/suggestions\/[0-9a-f]{16}\.json: a rerun with the same intent and columns uses it/);
    assert.equal(e.stats.runsCreated, 0, 'a dry run sends no row');
    const json = await runInProcess(['submit', 'companies.csv', '--intent', intent, '--dry-run', '--json'], { cwd: d, env });
    assert.deepEqual((({ processor, estimated_cost_usd, to_send }) => ({ processor, estimated_cost_usd, to_send }))(JSON.parse(json.stdout)), {
      processor: 'pro',
      estimated_cost_usd: 6,
      to_send: 60,
    });
    assert.equal(e.stats.suggestRequests, 1, 'the second dry run used the kept suggestion');

    const run = await runInProcess(['submit', 'companies.csv', '--intent', intent, '--json'], { cwd: d, env });
    assert.equal(run.code, 0, run.stderr);
    const { taskgroup_id, submitted } = JSON.parse(run.stdout);
    assert.equal(submitted, 60);
    const runs = await groupRuns(e.url, taskgroup_id);
    assert.equal(runs.length, 60);
    assert.ok(runs.every((r) => r.run.processor === 'pro'));
    assert.equal(e.stats.suggestRequests, 1);
    // The journal records the processor and the spec's digest as for --field
    const journal = readdirSync(path.join(d, '.tg', 'journals')).find((f) => f.endsWith('.jsonl'));
    const header = JSON.parse(readFileSync(path.join(d, '.tg', 'journals', journal ?? ''), 'utf8').split('\n')[0]);
    assert.equal(header.options.processor, 'pro');
    assert.match(header.options.spec_sha256, /^[0-9a-f]{64}$/);
    // The kept suggestion, even if the service would now answer otherwise: the same rows, nothing sent
    const kept = readdirSync(path.join(d, '.tg', 'suggestions')).map((f) => path.join(d, '.tg', 'suggestions', f));
    assert.equal(kept.length, 1);
    const again = await runInProcess(['submit', 'companies.csv', '--intent', intent, '--json'], { cwd: d, env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((({ taskgroup_id, submitted }) => ({ taskgroup_id, submitted }))(JSON.parse(again.stdout)), { taskgroup_id, submitted: 0 });
    assert.equal(e.stats.suggestRequests, 1);
    assert.equal(e.stats.runsCreated, 60);
    // Forget the suggestion (delete it): asked again; the emulator answers the same, so the rows are the same rows
    writeFileSync(kept[0], '{"v":1, damaged');
    const damaged = await runInProcess(['submit', 'companies.csv', '--intent', intent, '--json'], { cwd: d, env });
    assert.equal(damaged.code, 0, damaged.stderr);
    assert.match(damaged.stderr, /the kept suggestion \.tg\/suggestions\/[0-9a-f]{16}\.json is damaged; asking the API again/);
    assert.equal(JSON.parse(damaged.stdout).submitted, 0);
    assert.equal(e.stats.suggestRequests, 2);
    assert.equal(JSON.parse(readFileSync(kept[0], 'utf8')).v, 1, 'the damaged file is replaced');
  } finally {
    await e.close();
  }
});

test('tg submit --intent: an explicit --processor wins; --intent with --spec or --field is a usage error, nothing asked or sent', async () => {
  const e = await emulator({ latencyMs: [5, 10] });
  try {
    const d = withFixture('companies.csv');
    const env = { PARALLEL_BASE_URL: e.url };
    const r = await runInProcess(['submit', 'companies.csv', '--intent', INTENT, '--processor', 'base-fast', '--limit', '2', '--json'], { cwd: d, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--intent: processor base-fast \(--processor; the API recommends base, then core\)/);
    const runs = await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id);
    assert.deepEqual(
      runs.map((x) => x.run.processor),
      ['base-fast', 'base-fast'],
    );
    writeFileSync(path.join(d, 'spec.json'), '{"output_schema": {"type": "text"}}');
    const before = { ...e.stats };
    for (const extra of [
      ['--spec', 'spec.json'],
      ['--field', 'ceo: the CEO'],
    ]) {
      const bad = await runInProcess(['submit', 'companies.csv', '--intent', INTENT, ...extra], { cwd: d, env });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, new RegExp(`^tg: --intent and ${extra[0]} cannot go together`));
    }
    assert.equal(e.stats.requests, before.requests, 'nothing was asked');
    // No key and no kept suggestion: the usual no-key error, nothing sent
    const nokey = await runInProcess(['submit', 'companies.csv', '--intent', 'the CFO', '--dry-run'], { cwd: d, env: { ...env, PARALLEL_API_KEY: undefined } });
    assert.equal(nokey.code, 2);
    assert.match(nokey.stderr, /^tg: no API key/);
  } finally {
    await e.close();
  }
});
