// The parts of an xlsx workbook (a zip, read from its central directory with yauzl) as decoded
// text, and a SAX parser over them (saxes) that refuses any stretch of text or attribute larger
// than a bound before holding it.
import type { SaxesParser, SaxesTagPlain } from 'saxes';
import type { Entry, ZipFile } from 'yauzl';
import { inputError } from '../../errors';

export interface Zip {
  names(): string[];
  has(name: string): boolean;
  /** A part's text, decoded chunk by chunk. */
  chunks(name: string): AsyncGenerator<string>;
  close(): void;
}

/** Opens an xlsx file, or an input error that says it is not one. */
export async function openZip(file: string, shown: string): Promise<Zip> {
  const yauzl = await import('yauzl');
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (e, z) => (e ? reject(e) : resolve(z))),
  ).catch((e: Error) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw inputError(`${shown}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
    throw inputError(
      `${shown}: not an Excel workbook (.xlsx): ${e.message}`,
      'Save it from Excel as "Excel Workbook (.xlsx)" (an .xls or .xlsb file is not read), or pass --format.',
    );
  });
  const entries = new Map<string, Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: Entry) => {
      entries.set(e.fileName.replace(/^\//, ''), e);
      zip.readEntry();
    });
    zip.once('end', resolve);
    zip.once('error', reject);
    zip.readEntry();
  }).catch((e: Error) => {
    zip.close();
    throw inputError(`${shown}: a damaged xlsx file (${e.message})`, 'Open it in Excel and save it again.');
  });
  return {
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    async *chunks(name) {
      const entry = entries.get(name);
      if (!entry) throw inputError(`${shown}: a damaged xlsx file (no ${name})`, 'Open it in Excel and save it again.');
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(entry, (e, s) => (e ? reject(e) : resolve(s))));
      const dec = new TextDecoder('utf-8');
      try {
        for await (const b of stream as AsyncIterable<Buffer>) {
          const t = dec.decode(b, { stream: true });
          if (t) yield t;
        }
      } catch (e) {
        throw inputError(`${shown}: a damaged xlsx file (${name}: ${(e as Error).message})`, 'Open it in Excel and save it again.');
      } finally {
        (stream as unknown as { destroy?: () => void }).destroy?.();
      }
      const tail = dec.decode();
      if (tail) yield tail;
    },
    close: () => zip.close(),
  };
}

export interface XmlHandlers {
  open(name: string, attrs: Record<string, string>): void;
  close(name: string): void;
  text(t: string): void;
}

/** A tag's name without its namespace prefix (`x:c` → `c`). */
const local = (name: string) => {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
};

/**
 * Feeds `chunks` to a SAX parser in slices of 64 KiB; `tooLarge()` is thrown when more than `max`
 * characters pass without an event (one text or attribute that large). After each slice,
 * `drain()` runs (the caller hands out what the events made).
 */
export async function* parseXml(chunks: AsyncIterable<string>, h: XmlHandlers, max: number, tooLarge: () => Error, what: string): AsyncGenerator<void> {
  const { SaxesParser: Parser } = await import('saxes');
  const p: SaxesParser = new Parser({ xmlns: false, position: false });
  let fed = 0;
  let last = 0;
  p.on('opentag', (t: SaxesTagPlain) => {
    last = fed;
    h.open(local(t.name), t.attributes as Record<string, string>);
  });
  p.on('closetag', (t: SaxesTagPlain) => {
    last = fed;
    h.close(local(t.name));
  });
  p.on('text', (t: string) => {
    last = fed;
    h.text(t);
  });
  p.on('cdata', (t: string) => h.text(t));
  const SLICE = 64 * 1024;
  try {
    for await (const c of chunks) {
      for (let i = 0; i < c.length; i += SLICE) {
        const s = i === 0 && c.length <= SLICE ? c : c.slice(i, i + SLICE);
        fed += s.length;
        p.write(s);
        if (fed - last > max + SLICE) throw tooLarge();
        yield;
      }
    }
    p.close();
  } catch (e) {
    if ((e as Error).name === 'TgError') throw e;
    throw inputError(`${what}: not well-formed XML (${(e as Error).message})`, 'Open the workbook in Excel and save it again.');
  }
}
