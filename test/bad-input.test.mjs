// The bad-input corpus (fixtures/bad/): each case → a specific message naming where and what,
// the right exit code, and — for input errors — zero requests to the API (checked on the
// emulator's counters). fixtures/awkward/ holds inputs that must simply work.
// TG_PRINT_TABLE=1 prints the table (case → exit code → first line of the message).
// Table-driven and in-process: each case is one call of the library's run(argv, io) with an
// explicit env and cwd (the real binary's exit status is checked in cli.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulator, fixture, groupRuns, inputsInRowOrder, runInProcess, tmp } from './helpers.mjs';

const bad = (f) => fixture(`bad/${f}`);
const spec = fixture('company-spec.json');
const typed = bad('typed-spec.json');
const sub = (file, ...more) => ['submit', bad(file), '--spec', spec, ...more];

// [case, args, exit code, first-line pattern, what the API may see: 'none' | 'no-runs' | 'any', env]
/** @type {[string, string[], number, RegExp, 'none' | 'no-runs' | 'any', Record<string, string | undefined>?][]} */
const CASES = [
  ['CSV: unterminated quote', sub('unterminated-quote.csv'), 2, /unterminated-quote\.csv:2: a quoted field opened on this line is never closed/, 'none'],
  ['CSV: row with too many fields', sub('ragged-long.csv'), 2, /ragged-long\.csv:3: the row has 3 fields; the header has 2/, 'none'],
  ['CSV: row with too few fields', sub('ragged-short.csv'), 2, /ragged-short\.csv:3: the row has 1 field; the header has 2/, 'none'],
  ['CSV: empty file', sub('empty.csv'), 2, /empty\.csv: the file is empty/, 'none'],
  ['JSONL: empty file', sub('empty.jsonl'), 2, /empty\.jsonl: no data rows \(the input is empty\)/, 'none'],
  ['CSV: header only', sub('header-only.csv'), 2, /header-only\.csv: no data rows/, 'none'],
  ['CSV: duplicate column names', sub('duplicate-columns.csv'), 2, /duplicate-columns\.csv:1: duplicate column name "company_name"/, 'none'],
  ['CSV: empty column name', sub('empty-column-name.csv'), 2, /empty-column-name\.csv:1: column 2 of the header row has no name/, 'none'],
  // refused as it is read, at the bound of a row tg reads (issue M: memory bounded by any input)
  ['CSV: a 10 MB cell (gzip)', sub('ten-mb-cell.csv.gz'), 2, /ten-mb-cell\.csv\.gz:3: a row larger than 1 MiB/, 'none'],
  ['CSV: invalid UTF-8', sub('invalid-utf8.csv'), 2, /invalid-utf8\.csv:3: bytes that are not UTF-8/, 'none'],
  ['gzip: truncated/corrupt', sub('corrupt.csv.gz'), 2, /corrupt\.csv\.gz: the gzip data is corrupt or truncated/, 'none'],
  ['JSON: syntax error', sub('syntax-error.json'), 2, /syntax-error\.json:3: not valid JSON/, 'none'],
  ['JSON: top level not an array', sub('not-an-array.json'), 2, /not-an-array\.json:1: expected a JSON array/, 'none'],
  [
    'JSON: array item not an object',
    sub('array-with-number.json'),
    2,
    /array-with-number\.json:3: a row must be a JSON object or a string, not number/,
    'none',
  ],
  ['JSONL: one broken line', sub('broken-line.jsonl'), 2, /broken-line\.jsonl:3: not valid JSON/, 'none'],
  ['JSONL: an array line', sub('array-line.jsonl'), 2, /array-line\.jsonl:2: a row must be a JSON object or a string, not an array/, 'none'],
  ['JSONL: wrong type vs input_schema', sub('wrong-type.jsonl'), 2, /wrong-type\.jsonl:2: field "company_name": must be string/, 'none'],
  [
    'CSV: wrong type vs input_schema (coerced)',
    ['submit', bad('wrong-type.csv'), '--spec', typed],
    2,
    /wrong-type\.csv:3: column "employees": must be integer/,
    'none',
  ],
  ['CSV: missing required field', sub('missing-required.csv'), 2, /missing-required\.csv:3: column "company_website": missing required field/, 'none'],
  ['JSONL: missing required field', sub('missing-required.jsonl'), 2, /missing-required\.jsonl:2: field "company_website": missing required field/, 'none'],
  [
    'duplicate --key values',
    sub('duplicate-key.csv', '--key', 'company_name'),
    2,
    /duplicate-key\.csv:4: column "company_name": duplicate key "Acme" \(first at line 2\)/,
    'none',
  ],
  ['--key column not in the header', sub('ok.csv', '--key', 'id'), 2, /ok\.csv:1: the header has no column "id" \(--key\)/, 'none'],
  [
    '--input-column not in the header',
    ['submit', bad('ok.csv'), '--input-column', 'question'],
    2,
    /ok\.csv:1: the header has no column "question" \(--input-column\)/,
    'none',
  ],
  [
    'oversize input (> 25,000 chars with spec)',
    sub('oversize-input.jsonl'),
    2,
    /oversize-input\.jsonl:2: the input is \d+ characters and the spec \d+; the API allows 25000/,
    'none',
  ],
  [
    'oversize metadata value (> 512 chars)',
    sub('ok.csv', '--metadata', `note=${'x'.repeat(600)}`),
    2,
    /--metadata: value of "note" is longer than 512 characters/,
    'none',
  ],
  [
    'oversize metadata key (> 16 chars)',
    sub('ok.csv', '--metadata', 'a_very_long_metadata_key=1'),
    2,
    /--metadata: key "a_very_long_metadata_key" is longer than 16 characters/,
    'none',
  ],
  ['metadata without =', sub('ok.csv', '--metadata', 'project'), 2, /--metadata takes key=value, got "project"/, 'none'],
  ['spec: not JSON', ['submit', bad('ok.csv'), '--spec', bad('spec-not-json.json')], 2, /spec-not-json\.json:1:\d+: the spec is not valid JSON/, 'none'],
  ['spec: not an object', ['submit', bad('ok.csv'), '--spec', bad('spec-not-object.json')], 2, /spec-not-object\.json: the spec must be a JSON object/, 'none'],
  [
    'spec: schema root not an object',
    ['submit', bad('ok.csv'), '--spec', bad('spec-root-not-object.json')],
    2,
    /spec-root-not-object\.json: input_schema\.json_schema: the schema root must have "type": "object"/,
    'none',
  ],
  [
    'spec: unknown keyword',
    ['submit', bad('ok.csv'), '--spec', bad('spec-unknown-keyword.json')],
    2,
    /spec-unknown-keyword\.json: input_schema\.json_schema is not a valid JSON Schema: unknown keyword: "maxLenght"/,
    'none',
  ],
  [
    'spec: invalid type name',
    ['submit', bad('ok.csv'), '--spec', bad('spec-bad-type.json')],
    2,
    /spec-bad-type\.json: input_schema\.json_schema is not a valid JSON Schema: .*company_name\/type/,
    'none',
  ],
  ['spec file missing', ['submit', bad('ok.csv'), '--spec', bad('nope.json')], 2, /nope\.json: cannot read the spec \(no such file\)/, 'none'],
  ['input file missing', ['submit', bad('missing.csv')], 2, /missing\.csv: cannot read the input \(no such file\)/, 'none'],
  ['input is a directory', ['submit', fixture('bad')], 2, /bad: is a directory, not an input file/, 'none'],
  ['unknown extension, content not a table', ['submit', bad('notes.txt')], 2, /notes\.txt: cannot tell its format from its name or content/, 'none'],
  ['stdin without --format, empty', ['submit', '-'], 2, /^tg: stdin is empty: nothing to send/, 'none'],
  [
    '--batch-size out of range',
    sub('ok.csv', '--batch-size', '5000'),
    2,
    /^tg: option '--batch-size <n>' argument '5000' is invalid\. --batch-size must be a whole number from 1 to 1000/,
    'none',
  ],
  ['--rate not a rate', sub('ok.csv', '--rate', 'fast'), 2, /--rate: not a rate: "fast"/, 'none'],
  ['a row nested too deeply', ['submit', bad('too-deep.jsonl')], 2, /too-deep\.jsonl:2: the row is nested too deeply to send as JSON \(depth\)/, 'none'],
  ['unknown processor', sub('ok.csv', '--processor', 'turbo9000', '-q'), 2, /^tg: --processor "turbo9000" is not one the API lists/, 'none'],
  ['wrong API key (401)', ['status', 'tgrp_x'], 3, /→ 401: Unauthorized/, 'no-runs', { PARALLEL_API_KEY: 'wrong-key-999999' }],
  ['no API key', ['status', 'tgrp_x'], 2, /no API key: PARALLEL_API_KEY is not set and --api-key was not given/, 'none', { PARALLEL_API_KEY: undefined }],
  // configuration slips, each named (issue M)
  ['empty API key', ['status', 'tgrp_x'], 2, /^tg: PARALLEL_API_KEY is set but empty/, 'none', { PARALLEL_API_KEY: '' }],
  [
    'API key with a newline',
    ['status', 'tgrp_x'],
    2,
    /^tg: PARALLEL_API_KEY holds a line break \(CR or LF\)/,
    'none',
    { PARALLEL_API_KEY: 'test-key-123456\r\n' },
  ],
  ['API key with spaces', ['status', 'tgrp_x'], 2, /^tg: PARALLEL_API_KEY has spaces around the key/, 'none', { PARALLEL_API_KEY: ' test-key-123456' }],
  ['API key in quotes', ['status', 'tgrp_x'], 2, /^tg: PARALLEL_API_KEY is wrapped in quotes/, 'none', { PARALLEL_API_KEY: '"test-key-123456"' }],
  ['--api-key with a space', ['status', 'tgrp_x', '--api-key', 'test-key-123456 '], 2, /^tg: --api-key has spaces around the key/, 'none'],
  [
    'base URL with /v1',
    ['status', 'tgrp_x', '--base-url', 'https://api.parallel.ai/v1'],
    2,
    /ends in the API version \(\/v1\); tg adds the paths itself/,
    'none',
  ],
  ['base URL with /v1beta', ['status', 'tgrp_x', '--base-url', 'https://api.parallel.ai/v1beta/'], 2, /ends in the API version \(\/v1beta\)/, 'none'],
  ['base URL with a trailing slash', ['status', 'tgrp_x', '--base-url', 'https://api.parallel.ai/'], 2, /ends in a slash/, 'none'],
  ['base URL without a scheme', ['status', 'tgrp_x', '--base-url', 'api.parallel.ai'], 2, /"api\.parallel\.ai" has no scheme/, 'none'],
  ['unknown group (404)', ['status', 'tgrp_doesnotexist'], 2, /tgrp_doesnotexist → 404: TaskGroup not found/, 'no-runs'],
  ['unknown group on submit (404)', sub('ok.csv', '--group', 'tgrp_doesnotexist'), 2, /tgrp_doesnotexist → 404: TaskGroup not found/, 'no-runs'],
  [
    'unreachable base URL',
    ['status', 'tgrp_x', '--base-url', 'http://127.0.0.1:9'],
    4,
    /connect ECONNREFUSED 127\.0\.0\.1:9/,
    'none',
    { TG_OUTAGE_GIVE_UP_S: '1' },
  ],
  [
    'plain http to a non-loopback host',
    ['status', 'tgrp_x', '--base-url', 'http://api.example.com'],
    2,
    /refusing to send the API key over plain http to api\.example\.com/,
    'none',
  ],
  [
    'non-writable output path',
    ['watch', 'tgrp_x', '-o', `${bad('ok.csv')}/results.jsonl`],
    2,
    /ok\.csv: cannot create the directory: a file of that name is in the way \(EEXIST\)/,
    'none',
  ],
  [
    '-o file that is not a tg output',
    ['watch', 'tgrp_x', '-o', bad('not-a-tg-output.jsonl')],
    2,
    /not-a-tg-output\.jsonl: the file exists and is not a tg output/,
    'none',
  ],
];

const table = [];

test('bad-input corpus: specific message, right exit code, nothing sent', { timeout: 120_000 }, async () => {
  assert.ok(CASES.length >= 30);
  const queue = [...CASES];
  const failures = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let c; (c = queue.shift());) {
        const [name, args, code, pattern, sees, env = {}] = c;
        const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
        try {
          const cwd = tmp();
          const argv = [...args, ...(args.includes('--base-url') ? [] : ['--base-url', e.url])];
          const r = await runInProcess(argv, { cwd, env });
          const first = r.stderr.split('\n').find((l) => l.trim()) ?? '';
          table.push([name, r.code, first]);
          const why = [];
          if (r.code !== code) why.push(`exit ${r.code}, want ${code}`);
          if (!pattern.test(first)) why.push(`first line does not match ${pattern}`);
          if (/\n\s+at .+:\d+:\d+\)?/.test(r.stderr)) why.push('stack trace on stderr');
          if (/wrong-key-999999|test-key-123456/.test(r.stdout + r.stderr)) why.push('API key printed');
          if (sees === 'none' && e.stats.requests !== 0) why.push(`${e.stats.requests} requests reached the API`);
          if (sees !== 'any' && e.stats.runCreateRequests !== 0) why.push(`${e.stats.runCreateRequests} run-creating requests`);
          if (e.stats.runsCreated !== 0) why.push(`${e.stats.runsCreated} runs created`);
          if (why.length) failures.push(`${name}: ${why.join('; ')}\n    stderr: ${r.stderr.trim().split('\n').join('\n            ')}`);
        } finally {
          await e.close();
        }
      }
    }),
  );
  if (process.env.TG_PRINT_TABLE) {
    const order = new Map(CASES.map((c, i) => [c[0], i]));
    table.sort((a, b) => Number(order.get(a[0])) - Number(order.get(b[0])));
    console.log(
      ['| case | exit | first line of the message |', '| --- | --- | --- |', ...table.map(([n, c, l]) => `| ${n} | ${c} | ${l.replaceAll('|', '\\|')} |`)].join(
        '\n',
      ),
    );
  }
  assert.deepEqual(failures, []);
});

test('awkward inputs that must simply work: BOM, CRLF, quoted newlines, non-ASCII, blank lines', async () => {
  const want = {
    'bom-crlf.csv': [
      ['Acme', 'https://acme.example'],
      ['Globex', 'https://globex.example'],
    ],
    'quoted-newlines.csv': [
      ['Acme\nHoldings, Inc.', 'https://acme.example'],
      ['Globex "Corp"', 'https://globex.example'],
    ],
    'non-ascii.csv': [
      ['Müller Straße GmbH', 'https://mueller.example'],
      ['株式会社トヨタ', 'https://toyota.example'],
      ['Łódź Café 🚀', 'https://lodz.example'],
    ],
    'blank-trailing-lines.csv': [
      ['Acme', 'https://acme.example'],
      ['Globex', 'https://globex.example'],
    ],
    'blank-lines.jsonl': [
      ['Acme', 'https://acme.example'],
      ['Globex', 'https://globex.example'],
    ],
  };
  const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
  try {
    for (const [f, rows] of Object.entries(want)) {
      const r = await runInProcess(['submit', fixture(`awkward/${f}`), '--spec', spec, '--json', '--base-url', e.url], { cwd: tmp() });
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
      const runs = await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id);
      const got = inputsInRowOrder(runs).map((i) => [i.company_name, i.company_website]);
      assert.deepEqual(got, rows, f);
    }
  } finally {
    await e.close();
  }
});
