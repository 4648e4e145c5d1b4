// Memory bounded by any input (issue M): a compressed file whose one field, line, array element or
// cell expands to 2 GiB is refused at the 1 MiB bound, naming where, with a peak RSS under 200 MB
// — measured in a child process (this file, run with TG_BOMB_FILE set) per case. The bombs are
// made here in a moment: gzip members (or full-flushed deflate segments) of 1 MiB of `a`, repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { openRows } from '../../src/io/formats/index';
import { tmpDir } from './formats-util';

const MiB = 1 << 20;
const REPEAT = 2048; // 2 GiB of `a`

/** In the child: read every row of the file and print what happened and the peak RSS. */
async function child(file: string, format: string): Promise<void> {
  let message = 'no error';
  let rows = 0;
  try {
    for await (const b of openRows(file, { format }).batches) rows += b.length;
  } catch (e) {
    message = (e as Error).message;
  }
  process.stdout.write(JSON.stringify({ message, rows, rssMb: process.resourceUsage().maxRSS / 1024 }));
}

/** `head`, then 2 GiB of `a` as repeated gzip members, then `tail`: a file of about 2 MB. */
function gzipBomb(file: string, head: string, tail = ''): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, zlib.gzipSync(head));
  const member = zlib.gzipSync(Buffer.alloc(MiB, 'a'), { level: 9 });
  for (let i = 0; i < REPEAT; i++) fs.writeSync(fd, member);
  if (tail) fs.writeSync(fd, zlib.gzipSync(tail));
  fs.closeSync(fd);
}

/** Raw deflate of `parts`, each full-flushed so a segment can be repeated: [head, block, tail]. */
async function deflateSegments(parts: Buffer[]): Promise<Buffer[]> {
  const z = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  let got: Buffer[] = [];
  z.on('data', (c: Buffer) => got.push(c));
  for (let i = 0; i < parts.length; i++) {
    z.write(parts[i]);
    if (i < parts.length - 1) await new Promise<void>((r) => z.flush(zlib.constants.Z_FULL_FLUSH, () => r()));
    else await new Promise<void>((r) => z.end(() => r()));
    await new Promise<void>((r) => setImmediate(r));
    out.push(Buffer.concat(got));
    got = [];
  }
  return out;
}

/** A zip of `entries` (stored, or deflated and repeated for the bomb entry), written by hand: local headers, central directory, end record. */
async function zipBomb(file: string, entries: [string, string][], bomb: { name: string; head: string; tail: string }): Promise<void> {
  const fd = fs.openSync(file, 'w');
  let offset = 0;
  const central: Buffer[] = [];
  const put = (b: Buffer) => {
    fs.writeSync(fd, b);
    offset += b.length;
  };
  /** A local (30 bytes) or, with `at`, central (46 bytes) file header, then the name. */
  const header = (sig: number, name: string, method: number, comp: number, size: number, at?: number) => {
    const n = Buffer.from(name);
    const c = at === undefined ? 0 : 2; // a central header has "version made by" first
    const h = Buffer.alloc(at === undefined ? 30 : 46);
    h.writeUInt32LE(sig, 0);
    if (c) h.writeUInt16LE(20, 4);
    h.writeUInt16LE(20, 4 + c); // version needed; flags 0; time and date 0; crc 0 (yauzl does not check it)
    h.writeUInt16LE(method, 8 + c);
    h.writeUInt32LE(comp, 18 + c);
    h.writeUInt32LE(size, 22 + c);
    h.writeUInt16LE(n.length, 26 + c);
    if (at !== undefined) h.writeUInt32LE(at, 42);
    return Buffer.concat([h, n]);
  };
  const add = (name: string, method: number, data: Buffer[], comp: number, size: number) => {
    const at = offset;
    put(header(0x04034b50, name, method, comp, size));
    for (const d of data) put(d);
    central.push(header(0x02014b50, name, method, comp, size, at));
  };
  for (const [name, text] of entries) add(name, 0, [Buffer.from(text)], Buffer.byteLength(text), Buffer.byteLength(text));
  const [h, block, t] = await deflateSegments([Buffer.from(bomb.head), Buffer.alloc(MiB, 'a'), Buffer.from(bomb.tail)]);
  const data = [h, ...Array.from({ length: REPEAT }, () => block), t];
  add(bomb.name, 8, data, h.length + block.length * REPEAT + t.length, Buffer.byteLength(bomb.head) + MiB * REPEAT + Buffer.byteLength(bomb.tail));
  const cd = Buffer.concat(central);
  const at = offset;
  put(cd);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(at, 16);
  put(end);
  fs.closeSync(fd);
}

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const rel = (id: string, type: string, target: string) =>
  `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`;
const BOOK: [string, string][] = [
  ['[Content_Types].xml', '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'],
  [
    '_rels/.rels',
    `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rel('rId1', 'officeDocument', 'xl/workbook.xml')}</Relationships>`,
  ],
  ['xl/workbook.xml', `<workbook ${NS}><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`],
  [
    'xl/_rels/workbook.xml.rels',
    `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rel('rId1', 'worksheet', 'worksheets/sheet1.xml')}${rel('rId2', 'sharedStrings', 'sharedStrings.xml')}</Relationships>`,
  ],
];

if (process.env.TG_BOMB_FILE) {
  void child(process.env.TG_BOMB_FILE, process.env.TG_BOMB_FORMAT ?? '');
} else {
  const cases: [string, string, (f: string) => Promise<void> | void, RegExp][] = [
    ['a CSV field', 'csv', (f) => gzipBomb(f, 'a,b\n1,x\n2,', '\n'), /:3: a row larger than 1 MiB/],
    ['a quoted CSV field that never ends', 'csv', (f) => gzipBomb(f, 'a;b\n1;x\n2;"'), /:3: a row larger than 1 MiB/],
    ['a JSONL line', 'jsonl', (f) => gzipBomb(f, '{"a":1}\n{"a":"'), /:2: a line longer than 1 MiB/],
    ['a JSON array element', 'json', (f) => gzipBomb(f, '[{"a":1},\n{"a":"'), /:2: an array element larger than 1 MiB/],
    [
      'an xlsx shared string',
      'xlsx',
      (f) =>
        zipBomb(f, [...BOOK, ['xl/worksheets/sheet1.xml', `<worksheet ${NS}><sheetData/></worksheet>`]], {
          name: 'xl/sharedStrings.xml',
          head: '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>a</t></si><si><t>',
          tail: '</t></si></sst>',
        }),
      /: shared string 2 is larger than 1 MiB/,
    ],
    [
      'an xlsx inline string',
      'xlsx',
      (f) =>
        zipBomb(f, [...BOOK, ['xl/sharedStrings.xml', '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>']], {
          name: 'xl/worksheets/sheet1.xml',
          head: `<worksheet ${NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`,
          tail: '</t></is></c></row></sheetData></worksheet>',
        }),
      /:Sheet1!A2: a cell larger than 1 MiB/,
    ],
  ];
  for (const [what, format, make, re] of cases) {
    test(`2 GiB in ${what} is refused at 1 MiB, with peak RSS under 200 MB`, async (t) => {
      const f = path.join(tmpDir(), `bomb.${format}${format === 'xlsx' ? '' : '.gz'}`);
      await make(f);
      assert.ok(fs.statSync(f).size < 8 * MiB, `${fs.statSync(f).size} bytes`);
      const r = spawnSync(process.execPath, [__filename], { env: { ...process.env, TG_BOMB_FILE: f, TG_BOMB_FORMAT: format }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { message: string; rows: number; rssMb: number };
      assert.match(out.message, re);
      t.diagnostic(`${out.message} (peak RSS ${out.rssMb.toFixed(0)} MB)`);
      assert.ok(out.rssMb < 200, `peak RSS ${out.rssMb.toFixed(0)} MB`);
      fs.rmSync(path.dirname(f), { recursive: true, force: true });
    });
  }
}
