// formats/text.ts: bytes to text — gzip by content, byte-order marks, --encoding, and an error for
// bytes that are not UTF-8 naming the encoding they look like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { likelyEncoding, textChunks } from '../../src/io/formats/text';
import { newReadInfo } from '../../src/io/formats/types';
import { errorOf, tmpDir } from './formats-util';

async function text(file: string, encoding?: string) {
  const info = newReadInfo(file, 'csv');
  let s = '';
  for await (const c of textChunks(file, 'f.csv', encoding, info)) s += c;
  return { s, info };
}

test('a BOM says UTF-8, UTF-16LE or UTF-16BE (and is not part of the text); gzip is found by content', async () => {
  const d = tmpDir();
  const want = 'name\tcity\r\nMüller\tKöln\r\n';
  const cases: [string, Buffer, string][] = [
    ['utf8bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(want)]), 'utf-8'],
    ['utf16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(want, 'utf16le')]), 'utf-16le'],
    ['utf16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(want, 'utf16le').swap16()]), 'utf-16be'],
  ];
  for (const [name, bytes, enc] of cases) {
    for (const gz of [false, true]) {
      const f = path.join(d, name + (gz ? '.gz' : ''));
      fs.writeFileSync(f, gz ? zlib.gzipSync(bytes) : bytes);
      const { s, info } = await text(f);
      assert.equal(s, want, f);
      assert.deepEqual([info.encoding, info.encodingFrom], [enc, 'bom']);
    }
  }
});

test('--encoding decodes a file without a BOM; a bad name is a usage error', async () => {
  const d = tmpDir();
  const f = path.join(d, 'cp1252.csv');
  fs.writeFileSync(f, Buffer.from([0x93, 0x41, 0x94, 0x3b, 0x80, 0x3b, 0xe9, 0x0a])); // “A”;€;é
  assert.equal((await text(f, 'windows-1252')).s, '\u201cA\u201d;€;é\n');
  assert.equal((await text(f, 'latin1')).s, '\u201cA\u201d;€;é\n', 'latin1 is windows-1252 (WHATWG), as browsers and Excel read it');
  assert.match(await errorOf(text(f, 'klingon')), /--encoding klingon: not an encoding tg knows/);
});

test('bytes that are not UTF-8 name the line, the byte and the encoding to pass', async () => {
  const d = tmpDir();
  const cases: [string, Buffer, RegExp][] = [
    ['w.csv', Buffer.from('a;b\nx;y\n\x93quoted\x94;1\n', 'latin1'), /^f\.csv:3: bytes that are not UTF-8 \(byte 0x93\); it looks like windows-1252$/],
    ['l.csv', Buffer.from('a;b\nM\xfcller;1\n', 'latin1'), /^f\.csv:2: bytes that are not UTF-8 \(byte 0xfc\); it looks like latin1$/],
    ['u.csv', Buffer.from('a;b\nMüller;1\n', 'utf16le'), /it looks like utf-16le$/],
  ];
  for (const [name, bytes, re] of cases) {
    const f = path.join(d, name);
    fs.writeFileSync(f, bytes);
    let hint = '';
    const m = await errorOf(
      text(f).catch((e) => {
        hint = e.hint;
        throw e;
      }),
    );
    assert.match(m, re);
    assert.match(hint, /^Pass --encoding \S+, or save the file as UTF-8/);
  }
  assert.equal(likelyEncoding(Buffer.from('\u0000a\u0000b\u0000c', 'latin1')), 'utf-16be');
});
