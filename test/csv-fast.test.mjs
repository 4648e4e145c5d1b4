// The CSV reader's fast path (text with no quote and no carriage return, split on newlines and
// the delimiter: comma, semicolon, tab) against csv-parse alone: on seeded random files, cut into random chunks, both give the
// same rows (index, line, values) or the same error; and both against csv-parse's sync API on the
// whole text, checked here independently of the reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseSync } from 'csv-parse/sync';
import { tg, seeded } from './helpers.mjs';

/** The whole text through csv-parse at once, with the reader's rules: {rows}, {error} of a row, or {syntax}. */
function reference(text, delimiter = ',') {
  /** @type {{ record: string[], raw: string }[]} */
  let recs;
  try {
    recs = /** @type {any} */ (parseSync(text, { bom: true, raw: true, delimiter, relax_column_count: true, skip_empty_lines: false }));
  } catch {
    return { syntax: true };
  }
  let line = 1;
  /** @type {string[] | null} */
  let header = null;
  const rows = [];
  for (const { record: f, raw } of recs) {
    const start = line;
    line += raw.split('\n').length - 1 + (raw.endsWith('\r') ? 1 : 0); // csv-parse's raw text of a CRLF record ends at its CR
    if (f.length === 1 && f[0] === '' && raw.trim() === '') continue;
    if (!header) {
      const names = f.map((h) => h.trim());
      const blank = names.indexOf('');
      if (blank >= 0) return { error: `f.csv:${start}: column ${blank + 1} of the header row has no name` };
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup !== undefined) return { error: `f.csv:${start}: duplicate column name "${dup}" in the header row` };
      header = names;
      continue;
    }
    if (f.length !== header.length)
      return { error: `f.csv:${start}: the row has ${f.length} field${f.length === 1 ? '' : 's'}; the header has ${header.length}` };
    rows.push({ index: rows.length, line: start, value: Object.fromEntries(header.map((h, k) => [h, f[k]])) });
  }
  if (!header) return { error: 'f.csv: the file is empty' };
  return { rows };
}

async function read(text, cuts, fast, delimiter = ',') {
  async function* chunks() {
    let at = 0;
    for (const c of cuts) {
      yield text.slice(at, c);
      at = c;
    }
    yield text.slice(at);
  }
  const rows = [];
  try {
    const batches = delimiter === ',' ? tg.csvBatches('f.csv', chunks(), fast) : tg.delimitedBatches('f.csv', chunks(), { delimiter, fast });
    for await (const b of batches) rows.push(...b);
    return { rows };
  } catch (e) {
    return { error: /** @type {Error} */ (e).message };
  }
}

function field(int, tail, d) {
  const plain = ['a', 'b c', '', ' ', 'x1', 'é', '\ufeff', d === ',' ? ';' : ','];
  if (!tail || int(0, 3)) return plain[int(0, plain.length - 1)];
  const odd = ['"q"', `"a${d}b"`, '"l1\nl2"', '"say ""hi"""', 'a"b', '"open', '"x"y', '"r\r\nn"', 'c\r'];
  return odd[int(0, odd.length - 1)];
}

/** A file whose lines end in LF, CRLF or (rarely) CR, with a tail from `mixedFrom` on of odd fields and line ends. */
function csvText(int, d = ',') {
  const cols = int(1, 4);
  const main = ['\n', '\n', '\n', '\r\n', '\r\n', '\r'][int(0, 5)];
  const eol = () => (int(0, 5) ? main : ['\n', '\r\n', '\r'][int(0, 2)]);
  let s = int(0, 4) ? '' : '\ufeff';
  s += Array.from({ length: cols }, (_, i) => `c${i}`).join(d) + main;
  const lines = int(0, 30);
  const mixedFrom = int(0, lines + 3);
  for (let l = 0; l < lines; l++) {
    const tail = l >= mixedFrom;
    const n = int(0, 7) ? cols : int(0, cols + 1);
    s += Array.from({ length: n }, () => field(int, tail, d)).join(d);
    if (l < lines - 1 || int(0, 3)) s += tail ? eol() : int(0, 9) ? main : '';
  }
  return s;
}

for (const [d, seed, files] of [
  [',', 20261202, 1500],
  [';', 20261203, 500],
  ['\t', 20261204, 500],
]) {
  test(`the CSV fast path reads what csv-parse reads, on random files and chunkings (delimiter ${JSON.stringify(d)})`, async (t) => {
    await differential(t, String(d), Number(seed), Number(files));
  });
}

/** `files` seeded random files with delimiter `d`, each cut into random chunks: the fast path, csv-parse alone and the reference agree. */
async function differential(t, d, seed, files) {
  const { int } = seeded(seed, t);
  let errors = 0;
  let mixed = 0;
  let crlf = 0;
  for (let i = 0; i < files; i++) {
    const text = csvText(int, d);
    const cuts = Array.from({ length: int(0, 4) }, () => int(0, text.length)).sort((a, b) => a - b);
    const fast = await read(text, cuts, true, d);
    const slow = await read(text, cuts, false, d);
    const what = `file ${JSON.stringify(text)} cut at ${cuts}`;
    assert.deepEqual(fast, slow, what);
    const ref = reference(text, d);
    if (ref.syntax) assert.match(fast.error ?? '', /^f\.csv:\d+: /, what);
    else assert.deepEqual(fast, ref, what);
    if (fast.error) errors++;
    if (/"/.test(text) && /^[^"]*\n/.test(text)) mixed++;
    if (/^[^"\n]*\r\n/.test(text)) crlf++;
  }
  // The corpus covers both outcomes and files that switch from the fast path to csv-parse.
  assert.ok(errors > files / 15 && errors < files * 0.93, `${errors} errors`);
  assert.ok(mixed > files / 15, `${mixed} mixed files`);
  assert.ok(crlf > files / 5, `${crlf} CRLF files`);
}

test('CSV errors name the line they are on, whichever path reads it', async () => {
  for (const fast of [true, false]) {
    const open = await read('a,b\n1,2\n3,4\n5,"6\n7,8\n', [], fast);
    assert.equal(open.error, 'f.csv:4: a quoted field opened on this line is never closed (the file ends inside it)');
    const inner = await read('a,b\n1,2\nx"y,3\n', [6], fast);
    assert.equal(inner.error, 'f.csv:3: a quote inside a field that does not start with one');
    const count = await read('a,b\n1,2\n3\n"q",4\n', [], fast);
    assert.equal(count.error, 'f.csv:3: the row has 1 field; the header has 2');
    // CRLF files, plain and quoted (tg 0.1 to this fix named line 1 for every error in one)
    for (const text of ['a,b\r\n1,2\r\n3\r\n', 'a,b\r\n"1",2\r\n3\r\n', 'a,b\r\n"1\r\n1",2\r\n3\r\n'])
      assert.match((await read(text, [5], fast)).error ?? '', new RegExp(`^f\\.csv:${text.includes('1\r\n1') ? 4 : 3}: the row has 1 field`));
  }
});

test('the JSONL and JSON readers hand out the rows before a bad one too', async () => {
  for (const [format, text] of [
    ['jsonl', '{"a":1}\n{"a":2}\n{bad\n{"a":4}\n'],
    ['json', '[{"a":1},\n{"a":2},\n{bad},\n{"a":4}]'],
  ]) {
    const got = [];
    await assert.rejects(async () => {
      for await (const b of tg.rowBatchesOf(
        'f',
        format,
        (async function* () {
          yield text;
        })(),
      ))
        got.push(...b.map((r) => r.value.a));
    }, /^TgError: f:3: not valid JSON/);
    assert.deepEqual(got, [1, 2], format);
  }
});

test('the CSV reader hands out the rows before a bad one, and closes its input when stopped', async () => {
  let closed = 0;
  async function* source(text) {
    try {
      yield text;
    } finally {
      closed++;
    }
  }
  for (const fast of [true, false]) {
    const got = [];
    await assert.rejects(async () => {
      for await (const b of tg.csvBatches('f.csv', source('a,b\n1,2\n3,4\n5\n'), fast)) got.push(...b.map((r) => r.value.a));
    }, /f\.csv:4: the row has 1 field/);
    assert.deepEqual(got, ['1', '3']);
    for await (const b of tg.csvBatches('f.csv', source('a,b\n1,2\n"3",4\n'), fast)) if (b.length) break;
  }
  assert.equal(closed, 4);
});
