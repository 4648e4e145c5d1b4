// A row group of flat columns read a page at a time, every column in step: the file is read one
// page per column at a time (its header, then its bytes), so memory holds one decoded page per
// column and the dictionaries — not the row group, which pyarrow makes 1M rows by default and
// DuckDB 122,880. Built on hyparquet's page decoder (its src/ modules, pinned with it).
import type { AsyncBuffer, ColumnChunk, FileMetaData, ParquetParsers, Compressors, SchemaTree, DecodedArray } from 'hyparquet';

type Hp = typeof import('hyparquet');
type Col = typeof import('hyparquet/src/column.js');
type Conv = typeof import('hyparquet/src/convert.js');
type Sch = typeof import('hyparquet/src/schema.js');

export interface PageLibs {
  hp: Hp;
  col: Col;
  conv: Conv;
  sch: Sch;
}

export async function pageLibs(hp: Hp): Promise<PageLibs> {
  const [col, conv, sch] = await Promise.all([import('hyparquet/src/column.js'), import('hyparquet/src/convert.js'), import('hyparquet/src/schema.js')]);
  return { hp, col, conv, sch };
}

/** Are all the columns of a row group flat (no lists or structs)? Then it can be read by pages. */
export function flatGroup(libs: PageLibs, tree: SchemaTree, columns: ColumnChunk[]): boolean {
  return columns.every(
    (c) => c.meta_data && c.meta_data.path_in_schema.length === 1 && libs.sch.isFlatColumn(libs.sch.getTreePath(tree, c.meta_data.path_in_schema)),
  );
}

const HEADER_WINDOW = 64 * 1024;

/** One column chunk's values, a page at a time. */
class PageCursor {
  private pos: number;
  private readonly end: number;
  private dictionary: DecodedArray | undefined;
  values: DecodedArray = [];
  at = 0;

  constructor(
    private readonly libs: PageLibs,
    private readonly file: AsyncBuffer,
    chunk: ColumnChunk,
    private readonly decoder: Parameters<Col['readPage']>[2],
  ) {
    const meta = chunk.meta_data!;
    this.pos = Number(meta.dictionary_page_offset || meta.data_page_offset);
    this.end = this.pos + Number(meta.total_compressed_size);
  }

  /** Decodes pages until one holds values; false at the chunk's end. */
  async next(): Promise<boolean> {
    while (this.pos < this.end) {
      let window = Math.min(HEADER_WINDOW, this.end - this.pos);
      let bytes = await this.file.slice(this.pos, this.pos + window);
      let reader = { view: new DataView(bytes), offset: 0 };
      let header = this.libs.col.parquetHeader(reader);
      const total = reader.offset + header.compressed_page_size;
      if (total > window) {
        window = total;
        bytes = await this.file.slice(this.pos, this.pos + window);
        reader = { view: new DataView(bytes), offset: 0 };
        header = this.libs.col.parquetHeader(reader);
      }
      this.pos += total;
      if (header.type === 'DICTIONARY_PAGE') {
        const { data } = this.libs.col.readPage(reader, header, this.decoder, undefined, undefined, 0);
        if (data) this.dictionary = this.libs.conv.convert(data, this.decoder);
        continue;
      }
      if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2') continue; // an index page
      const r = this.libs.col.readPage(reader, header, this.decoder, this.dictionary, undefined, 0);
      if (r.data && r.data.length) {
        this.values = r.data;
        this.at = 0;
        return true;
      }
    }
    return false;
  }
}

export interface PageOptions {
  file: AsyncBuffer;
  metadata: FileMetaData;
  parsers: Partial<ParquetParsers>;
  compressors: Compressors;
}

/** Rows of one row group of flat columns, `size` at a time, each an array of the columns' values. */
export async function* groupRowsByPage(libs: PageLibs, o: PageOptions, group: FileMetaData['row_groups'][number], size: number): AsyncGenerator<unknown[][]> {
  const tree = libs.hp.parquetSchema(o.metadata);
  const parsers = { ...libs.conv.DEFAULT_PARSERS, ...o.parsers };
  const cursors = group.columns.map((chunk) => {
    const meta = chunk.meta_data!;
    const schemaPath = libs.sch.getTreePath(tree, meta.path_in_schema);
    const decoder = {
      pathInSchema: meta.path_in_schema,
      element: schemaPath[schemaPath.length - 1].element,
      schemaPath,
      type: meta.type,
      codec: meta.codec,
      parsers,
      compressors: o.compressors,
      utf8: true,
    };
    return new PageCursor(libs, o.file, chunk, decoder as never);
  });
  let left = Number(group.num_rows);
  while (left > 0) {
    const n = Math.min(size, left);
    const rows: unknown[][] = Array.from({ length: n }, () => new Array<unknown>(cursors.length));
    for (let c = 0; c < cursors.length; c++) {
      const cur = cursors[c];
      for (let k = 0; k < n; k++) {
        if (cur.at >= cur.values.length && !(await cur.next())) throw new Error(`column ${c + 1} ends before the row group's ${group.num_rows} rows`);
        rows[k][c] = cur.values[cur.at++];
      }
    }
    left -= n;
    yield rows;
  }
}
