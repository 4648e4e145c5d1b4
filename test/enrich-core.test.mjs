// Pure parts of enrichment: --field parsing and the spec it implies, the price table and
// estimates, SQL-safe column names and the basis cells of the enriched CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tg } from './helpers.mjs';

test('--field: NAME[:TYPE]: DESCRIPTION, text by default', () => {
  assert.deepEqual(tg.parseField('ceo_name: full name of the CEO'), { name: 'ceo_name', type: 'text', description: 'full name of the CEO' });
  assert.deepEqual(tg.parseField('founded_year:int: year founded'), { name: 'founded_year', type: 'int', description: 'year founded' });
  assert.deepEqual(tg.parseField('site:URL:home page: the main one'), { name: 'site', type: 'url', description: 'home page: the main one' });
  assert.deepEqual(tg.parseField('note: see: the docs'), { name: 'note', type: 'text', description: 'see: the docs' }, 'a space after the colon: no type');
  for (const t of tg.FIELD_TYPES) assert.equal(tg.parseField(`x:${t}: d`).type, t);
});

test('--field: each broken rule is a usage error naming the flag and the rule', () => {
  /** @type {[string, RegExp][]} */
  const cases = [
    ['ceo_name', /no ":" between the name and the description/],
    [': the CEO', /the name is empty/],
    ['CEO Name: the CEO', /must start with a lowercase letter and hold only a-z, 0-9 and _/],
    ['1st: first', /must start with a lowercase letter/],
    ['x:integer: y', /unknown type "integer" \(types: text, int, number, bool, date, url, list\)/],
    ['ceo_name:', /the description is empty/],
    ['ceo:int:   ', /the description is empty/],
    ['citations: the sources', /given for every field by the output's basis/],
  ];
  for (const [raw, re] of cases) {
    assert.throws(
      () => tg.parseField(raw),
      (/** @type {any} */ e) => e.exitCode === 2 && e.message.startsWith(`--field ${JSON.stringify(raw)}: `) && re.test(e.message),
      raw,
    );
  }
  assert.throws(
    () => tg.parseFields(['a: x', 'b: y', 'a:int: z']),
    (/** @type {any} */ e) => e.exitCode === 2 && /--field a is given twice/.test(e.message),
  );
});

test('spec from fields: output_schema per type, input_schema from the columns', () => {
  const fields = tg.parseFields([
    'ceo_name: CEO',
    'founded:int: year',
    'revenue:number: USD',
    'public:bool: listed',
    'ipo:date: IPO',
    'site:url: web',
    'tags:list: tags',
  ]);
  const spec = tg.specFromFields(fields, { columns: ['company_name', 'company_website'], csv: true });
  assert.deepEqual(Object.keys(spec), ['input_schema', 'output_schema']);
  const out = spec.output_schema.json_schema;
  assert.equal(spec.output_schema.type, 'json');
  assert.deepEqual(out.required, ['ceo_name', 'founded', 'revenue', 'public', 'ipo', 'site', 'tags']);
  assert.equal(out.additionalProperties, false);
  assert.deepEqual(out.properties.founded, { type: 'integer', description: 'year' });
  assert.deepEqual(out.properties.revenue.type, 'number');
  assert.deepEqual(out.properties.public.type, 'boolean');
  assert.deepEqual(out.properties.ipo, { type: 'string', description: 'IPO (a date, YYYY-MM-DD)' }, 'no "format": the API does not support it');
  assert.deepEqual(out.properties.site, { type: 'string', description: 'web (a URL)' });
  assert.deepEqual(out.properties.tags, { type: 'array', items: { type: 'string' }, description: 'tags' });
  assert.deepEqual(spec.input_schema.json_schema.properties, { company_name: { type: 'string' }, company_website: { type: 'string' } });
  assert.deepEqual(tg.specFromFields(fields, { columns: ['a'], csv: false }).input_schema.json_schema.properties, { a: {} });
  assert.deepEqual(Object.keys(tg.specFromFields(fields)), ['output_schema'], 'no input: no input_schema');
});

test('prices: the dated table, -fast as its base, override, estimates', () => {
  assert.equal(tg.PRICES_AS_OF, '2026');
  assert.deepEqual(tg.PRICE_PER_1K, { lite: 5, base: 10, core: 25, core2x: 50, pro: 100, ultra: 300, ultra2x: 600, ultra4x: 1200, ultra8x: 2400 });
  assert.equal(tg.pricePer1k('pro-fast'), 100);
  assert.equal(tg.pricePer1k('nova'), null);
  assert.equal(tg.pricePer1k('nova', 7), 7);
  assert.equal(tg.estimateUsd(50_000, tg.pricePer1k('pro')), 5000);
  assert.equal(tg.formatUsd(5000), '$5,000.00');
  assert.equal(tg.formatUsd(0.6), '$0.60');
  assert.equal(tg.formatUsd(0.005), '$0.005');
  assert.equal(tg.parseUsd('$12.50', '--max-cost'), 12.5);
  assert.throws(() => tg.parseUsd('-1', '--max-cost'), /--max-cost must be an amount in USD/);
  assert.throws(() => tg.parseUsd('ten', '--max-cost'), /not "ten"/);
});

test('column names need no quoting in SQL and never clash with the input', () => {
  assert.equal(tg.sqlName('CEO Name'), 'ceo_name');
  assert.equal(tg.sqlName('Café—Größe!'), 'cafe_gro_e');
  assert.equal(tg.sqlName('2024 revenue'), 'c_2024_revenue');
  assert.equal(tg.sqlName('order'), 'order_');
  assert.equal(tg.sqlName('***'), 'field');
  const cols = tg.outputColumns(['Name', 'ceo_name', 'tg_status'], ['name', 'ceo_name'], true).map((c) => c.name);
  assert.deepEqual(cols, [
    'out_name',
    'name_confidence',
    'name_citations',
    'name_reasoning',
    'out_ceo_name',
    'ceo_name_confidence',
    'ceo_name_citations',
    'ceo_name_reasoning',
    'out_tg_status',
    'tg_error',
    'tg_run_id',
  ]);
  for (const c of cols) assert.match(c, /^[a-z][a-z0-9_]*$/);
});

test('output cells: value, confidence, citation URLs (space-separated), reasoning, status', () => {
  const cols = tg.outputColumns(['company'], ['ceo', 'tags'], true);
  const run = {
    run_id: 'trun_1',
    status: 'completed',
    error: null,
    output: {
      type: 'json',
      content: { ceo: 'Ada', tags: ['a', 'b'] },
      basis: [
        { field: 'ceo', reasoning: 'from the site', confidence: 'high', citations: [{ url: 'https://a.example/1' }, { url: 'https://b.example/2' }] },
        { field: 'tags', reasoning: 'r', citations: [] },
      ],
    },
  };
  assert.deepEqual(tg.outputCells(cols, run), [
    'Ada',
    'high',
    'https://a.example/1 https://b.example/2',
    'from the site',
    ['a', 'b'],
    undefined,
    '',
    'r',
    'completed',
    undefined,
    'trun_1',
  ]);
  assert.deepEqual(
    tg.outputCells(cols, null).every((c) => c === undefined),
    true,
  );
  const failed = tg.outputCells(cols, { run_id: 'trun_2', status: 'failed', error: 'boom', output: null });
  assert.deepEqual(failed.slice(-3), ['failed', 'boom', 'trun_2']);
});

test('formatUsd: dollars with thousands separators and cents rounded half up, without Intl', () => {
  const cases = [
    [0, '$0.00'],
    [0.015, '$0.02'],
    [12.345, '$12.35'],
    [999.995, '$1,000.00'],
    [1234567.891, '$1,234,567.89'],
    [2400, '$2,400.00'],
  ];
  for (const [usd, text] of cases) assert.equal(tg.formatUsd(usd), text, String(usd));
});
