// Text files as decoded chunks: gzip (by content), a byte-order mark (UTF-8, UTF-16 LE/BE), an
// explicit encoding for files without one; bytes that are not UTF-8 are an error that names the
// encoding they look like and the option to pass.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { inputError, usageError } from '../../errors';
import { errnoText } from '../../core/util';
import type { ReadInfo } from './types';

/** Position of the first byte that is not valid UTF-8, or -1 (-2: a character cut at the end). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    if (i + n >= b.length + (n ? 0 : 1)) return i + n < b.length ? i : -2; // truncated at end: caller decides
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * The encoding bytes that are not UTF-8 most likely are: UTF-16 when NULs sit at every other
 * position (LE when they follow the ASCII byte), windows-1252 when bytes 0x80–0x9F occur (its
 * curly quotes, €, …; in latin1 they are control characters nobody types), else latin1.
 */
export function likelyEncoding(b: Uint8Array): 'utf-16le' | 'utf-16be' | 'windows-1252' | 'latin1' {
  const n = Math.min(b.length, 4096);
  let even = 0;
  let odd = 0;
  let c1 = 0;
  for (let i = 0; i < n; i++) {
    if (b[i] === 0) {
      if (i % 2) odd++;
      else even++;
    } else if (b[i] >= 0x80 && b[i] <= 0x9f) c1++;
  }
  if (odd + even >= n / 8) return odd >= even ? 'utf-16le' : 'utf-16be';
  return c1 ? 'windows-1252' : 'latin1';
}

/** The encoding named by a BOM at the start of `b`, and the BOM's length. */
export function bomEncoding(b: Uint8Array): { encoding: string; length: number } | null {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

/** A TextDecoder for `--encoding` (any WHATWG label: utf-8, utf-16le, latin1, windows-1252, …), or a usage error. */
export function decoderFor(encoding: string, fatal: boolean): TextDecoder {
  try {
    return new TextDecoder(encoding, { fatal });
  } catch {
    throw usageError(`--encoding ${encoding}: not an encoding tg knows`, 'Use e.g. utf-8, utf-16le, utf-16be, windows-1252, latin1, iso-8859-15, shift_jis.');
  }
}

/** Opens a file for reading, or an input error that says why not. */
export async function openRead(file: string, shown: string, highWaterMark = 256 * 1024): Promise<fs.ReadStream> {
  const raw = fs.createReadStream(file, { highWaterMark });
  try {
    await new Promise<void>((resolve, reject) => {
      raw.once('open', () => resolve());
      raw.once('error', reject);
    });
  } catch (e) {
    throw inputError(`${shown}: cannot read (${errnoText((e as NodeJS.ErrnoException).code)})`);
  }
  return raw;
}

/** The first bytes of a stream, put back; null at once-ended streams. */
function peek(raw: NodeJS.ReadableStream & { read(n?: number): Buffer | null; unshift(b: Buffer): void }, n: number): Promise<Buffer | null> {
  return new Promise<Buffer | null>((resolve) => {
    const done = (b: Buffer | null) => {
      raw.off('readable', onReadable);
      raw.off('end', onEnd);
      if (b) raw.unshift(b);
      resolve(b);
    };
    const onReadable = () => done((raw.read(n) ?? raw.read()) as Buffer | null);
    const onEnd = () => done(null);
    raw.once('readable', onReadable);
    raw.once('end', onEnd);
  });
}

const isGzip = (b: Buffer | null) => b !== null && b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** A file's bytes, gunzipped when it is gzip (by its content, not its name). */
export async function byteStream(file: string, shown: string): Promise<{ stream: NodeJS.ReadableStream; close: () => void }> {
  const raw = await openRead(file, shown);
  const head = await peek(raw, 2);
  if (!isGzip(head)) return { stream: raw, close: () => raw.destroy() };
  const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
  raw.on('error', (e) => gunzip.destroy(e));
  return {
    stream: raw.pipe(gunzip),
    close: () => {
      raw.destroy();
      gunzip.destroy();
    },
  };
}

function gzipError(shown: string, e: unknown) {
  const zcode = (e as { code?: string }).code;
  if (zcode === 'Z_DATA_ERROR' || zcode === 'Z_BUF_ERROR' || (e as { errno?: number }).errno === -3)
    return inputError(`${shown}: the gzip data is corrupt or truncated (${(e as Error).message})`, 'Check the file with `gzip -t`, or compress it again.');
  return null;
}

function notUtf8(shown: string, buf: Buffer, lines: number) {
  const at = firstInvalidUtf8(buf);
  for (const byte of buf.subarray(0, Math.max(0, at))) if (byte === 10) lines++;
  const enc = likelyEncoding(buf);
  const byte = buf[Math.max(0, at)].toString(16).padStart(2, '0');
  return inputError(
    `${shown}:${lines}: bytes that are not UTF-8 (byte 0x${byte}); it looks like ${enc}`,
    `Pass --encoding ${enc}, or save the file as UTF-8 (e.g. iconv -f ${enc} -t utf-8).`,
  );
}

/**
 * Decoded text chunks of a file (gunzipped when it is gzip): a BOM says the encoding, else
 * `encoding`, else UTF-8, whose invalid bytes are an error naming file:line and the likely encoding.
 */
export async function* textChunks(file: string, shown = file, encoding?: string, info?: ReadInfo): AsyncGenerator<string> {
  if (encoding) decoderFor(encoding, false); // a bad name is a usage error before anything is read
  const { stream, close } = await byteStream(file, shown);
  let dec: TextDecoder | null = null;
  let enc = 'utf-8';
  let lines = 1;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      let buf = c;
      if (!dec) {
        const bom = bomEncoding(buf);
        enc = bom?.encoding ?? encoding?.toLowerCase() ?? 'utf-8';
        if (info) Object.assign(info, { encoding: enc, encodingFrom: bom ? 'bom' : encoding ? 'option' : 'default' });
        dec = decoderFor(enc, enc === 'utf-8');
        if (bom) buf = buf.subarray(bom.length);
      }
      let text: string;
      try {
        text = dec.decode(buf, { stream: true });
      } catch {
        throw notUtf8(shown, buf, lines);
      }
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      if (text) yield text;
    }
    if (!dec && info) Object.assign(info, { encoding: encoding?.toLowerCase() ?? 'utf-8', encodingFrom: encoding ? 'option' : 'default' });
    const tail = dec?.decode() ?? '';
    if (tail) yield tail;
  } catch (e) {
    const gz = gzipError(shown, e);
    if (gz) throw gz;
    if (e instanceof TypeError && /decode/i.test(String(e.message)))
      throw inputError(`${shown}:${lines}: the file ends in the middle of a ${enc.toUpperCase()} character`);
    throw e;
  } finally {
    close();
  }
}
