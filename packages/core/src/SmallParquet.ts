/**
 * A Parquet writer for small files of one flat schema: the raw layer's file of one index on one
 * day (tens to a few hundred rows, about 36 files a day) and the refined table's `(date, ticker)`
 * partitions (one to a few dozen rows each, about 800 files a date, written by local-adapter's
 * `RefinedWriter`).
 *
 * What it writes is plain Parquet 1.0, as the format's specification defines it: `PAR1`, one row
 * group, one column chunk per column, then the `FileMetaData` footer in Thrift's compact protocol,
 * its length and `PAR1`. A column chunk is a single v1 data page: definition levels in the RLE
 * hybrid encoding, then the values either PLAIN or, with `dictionary: true` and where it makes the
 * column smaller, as a dictionary page (the distinct values, PLAIN, in order of first appearance)
 * followed by a data page of RLE_DICTIONARY indices (runs of equal indices: a column of one value,
 * such as a raw file's payload hash, is one run). No compression, no statistics. Every column is
 * OPTIONAL (as DuckDB and Spark write them); types are `BYTE_ARRAY` (UTF-8 text), `INT32` and
 * `INT64`, with the converted types DuckDB, Spark and Athena read as VARCHAR, DECIMAL(p,s) and DATE.
 *
 * Why not a general writer: for a file of a few rows, a general writer's cost is its set-up (a
 * buffer per page, compression, a Thrift object tree per file): hyparquet-writer spent about
 * 0.15-0.2 ms on a refined file (the largest CPU cost of a backfill's refine, ~200k files a year)
 * and about 0.9 ms on a raw file of ~120 rows. Here the schema's part of the footer is encoded
 * once, and a file is a few passes over its values into one reused buffer (`npm run bench --
 * parquet`). The output is deterministic (same rows, same bytes: what makes re-running the raw
 * layer a no-op) and read back by DuckDB, parquet-wasm (core's reader) in
 * `test/SmallParquet.test.ts` and `test/RawLayerParquet.test.ts`.
 *
 * @since 0.1.0
 */

/** A column of the schema (always OPTIONAL). @category models */
export interface SmallColumn {
  readonly name: string
  readonly type: "BYTE_ARRAY" | "INT32" | "INT64"
  /** `UTF8` on a `BYTE_ARRAY`, `DATE` on an `INT32`, `DECIMAL` with `precision` and `scale` on either int. */
  readonly converted?: "UTF8" | "DATE" | "DECIMAL"
  readonly precision?: number
  readonly scale?: number
}

// Parquet's Thrift enums (parquet.thrift)
const PHYSICAL = { INT32: 1, INT64: 2, BYTE_ARRAY: 6 } as const
const CONVERTED = { UTF8: 0, DECIMAL: 5, DATE: 6 } as const
const OPTIONAL = 1
const PLAIN = 0
const RLE = 3
const RLE_DICTIONARY = 8
const DATA_PAGE = 0
const DICTIONARY_PAGE = 2
const UNCOMPRESSED = 0

// Thrift compact protocol's type ids
const T_I32 = 5
const T_I64 = 6
const T_BINARY = 8
const T_LIST = 9
const T_STRUCT = 12

const utf8 = new TextEncoder()

/** A growable byte buffer with Thrift compact protocol writes. */
class Out {
  bytes = new Uint8Array(1 << 16)
  view = new DataView(this.bytes.buffer)
  at = 0
  /** The last field id written in the current struct (compact protocol's field deltas)... */
  private last = 0
  /** ...and in each struct around it, innermost last. */
  private readonly outer: Array<number> = []

  reset(): void {
    this.at = 0
    this.last = 0
    this.outer.length = 0
  }

  ensure(n: number): void {
    if (this.at + n <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < this.at + n) size *= 2
    const bytes = new Uint8Array(size)
    bytes.set(this.bytes.subarray(0, this.at))
    this.bytes = bytes
    this.view = new DataView(bytes.buffer)
  }

  byte(b: number): void {
    this.ensure(1)
    this.bytes[this.at++] = b
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.bytes.set(bytes, this.at)
    this.at += bytes.length
  }

  /** An unsigned LEB128 varint of a non-negative safe integer. */
  varint(n: number): void {
    this.ensure(10)
    while (n >= 0x80) {
      this.bytes[this.at++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.bytes[this.at++] = n
  }

  /** A zigzag varint (Thrift's i16, i32 and i64) of a safe integer. */
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1)
  }

  field(id: number, type: number): void {
    const delta = id - this.last
    if (delta > 0 && delta <= 15) {
      this.byte((delta << 4) | type)
    } else {
      this.byte(type)
      this.zigzag(id)
    }
    this.last = id
  }

  i32(id: number, n: number): void {
    this.field(id, T_I32)
    this.zigzag(n)
  }

  i64(id: number, n: number): void {
    this.field(id, T_I64)
    this.zigzag(n)
  }

  binary(id: number, bytes: Uint8Array): void {
    this.field(id, T_BINARY)
    this.varint(bytes.length)
    this.append(bytes)
  }

  listHeader(id: number, size: number, elementType: number): void {
    this.field(id, T_LIST)
    this.listOf(size, elementType)
  }

  /** A list header without a field (a list element of a list, or after `field`). */
  listOf(size: number, elementType: number): void {
    if (size < 15) {
      this.byte((size << 4) | elementType)
    } else {
      this.byte(0xf0 | elementType)
      this.varint(size)
    }
  }

  /** Opens a struct: as field `id` of the current struct, or (no id) as a list element. */
  begin(id?: number): void {
    if (id !== undefined) this.field(id, T_STRUCT)
    this.outer.push(this.last)
    this.last = 0
  }

  /** After bytes appended as they are: the current struct's last field id was `id`. */
  lastField(id: number): void {
    this.last = id
  }

  end(): void {
    this.byte(0) // STOP
    this.last = this.outer.pop() ?? 0
  }

  u32le(n: number): void {
    this.ensure(4)
    this.view.setUint32(this.at, n, true)
    this.at += 4
  }

  i32le(n: number): void {
    this.ensure(4)
    this.view.setInt32(this.at, n, true)
    this.at += 4
  }

  i64le(n: bigint): void {
    this.ensure(8)
    this.view.setBigInt64(this.at, n, true)
    this.at += 8
  }

  /** A safe integer as a little-endian int64, without a bigint. */
  i64leNumber(n: number): void {
    this.ensure(8)
    const high = Math.floor(n / 4294967296)
    this.view.setUint32(this.at, n - high * 4294967296, true)
    this.view.setInt32(this.at + 4, high, true)
    this.at += 8
  }

  /** A value's UTF-8 bytes with PLAIN's 4-byte length in front. */
  plainText(s: string): void {
    this.ensure(4 + s.length * 3)
    const { written } = utf8.encodeInto(s, this.bytes.subarray(this.at + 4))
    this.view.setUint32(this.at, written, true)
    this.at += 4 + written
  }

  copy(): Uint8Array {
    return this.bytes.slice(0, this.at)
  }
}

const MAGIC = utf8.encode("PAR1")

/** What a value of a column cannot be, as an error naming the column and row. */
const badValue = (column: SmallColumn, row: number, value: unknown): Error =>
  new TypeError(
    `smallParquet: column ${column.name} (${column.type}) row ${row}: cannot write ${typeof value} ${String(value)}`
  )

const INT64_MIN = -9223372036854775808n
const INT64_MAX = 9223372036854775807n

/** A value checked against its column's physical type: a string, an int32, a safe integer or a bigint in int64 range. */
const checked = (column: SmallColumn, row: number, value: unknown): string | number | bigint => {
  if (column.type === "BYTE_ARRAY") {
    if (typeof value !== "string") throw badValue(column, row, value)
    return value
  }
  if (column.type === "INT32") {
    const n = typeof value === "bigint" ? Number(value) : value
    if (typeof n !== "number" || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
      throw badValue(column, row, value)
    }
    return n
  }
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) throw badValue(column, row, value)
    return value
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) return value
  throw badValue(column, row, value)
}

/** Appends one checked value, PLAIN. */
const plain = (out: Out, type: SmallColumn["type"], v: string | number | bigint): void => {
  if (type === "BYTE_ARRAY") out.plainText(v as string)
  else if (type === "INT32") out.i32le(v as number)
  else if (typeof v === "bigint") out.i64le(v)
  else out.i64leNumber(v as number)
}

/** The bit width of a dictionary's indices (at least 1: a one-value dictionary still has a width). */
const indexBitWidth = (size: number): number => Math.max(1, 32 - Math.clz32(size - 1))

/** The bytes of one index in an RLE run's value. */
const indexBytes = (size: number): number => Math.ceil(indexBitWidth(size) / 8)

/** The encoder's options. @category models */
export interface EncoderOptions {
  /**
   * Dictionary-encode each column where that makes it smaller than PLAIN (default `false`): worth
   * it for files of tens of rows or more with repeated values; for files of one to three rows the
   * dictionary page costs more than it saves.
   */
  readonly dictionary?: boolean
}

/**
 * An encoder for `columns`: `(data, from, to)` is the Parquet file of rows `[from, to)` of `data`
 * (one array or typed array per column, in `columns` order; `null` or `undefined` is a null). Text columns take
 * strings, `INT32` numbers (or bigints in range), `INT64` bigints or safe integers. A value of the
 * wrong kind throws a `TypeError` naming the column and row. Not re-entrant; each call returns its
 * own copy of the bytes.
 *
 * @category constructors
 */
export const encoder = (
  columns: ReadonlyArray<SmallColumn>,
  createdBy: string,
  options: EncoderOptions = {}
): (data: ReadonlyArray<ArrayLike<unknown>>, from: number, to: number) => Uint8Array => {
  const specs = columns.map((column) => ({ column, name: utf8.encode(column.name), physical: PHYSICAL[column.type] }))
  // The footer's first two fields (version, schema) are the same in every file: encoded once.
  const head = new Out()
  head.i32(1, 1) // version
  head.listHeader(2, columns.length + 1, T_STRUCT) // schema: the root, then each column
  head.begin()
  head.binary(4, utf8.encode("schema"))
  head.i32(5, columns.length)
  head.end()
  for (const { column, name, physical } of specs) {
    head.begin()
    head.i32(1, physical)
    head.i32(3, OPTIONAL)
    head.binary(4, name)
    if (column.converted !== undefined) head.i32(6, CONVERTED[column.converted])
    if (column.converted === "DECIMAL") {
      head.i32(7, column.scale ?? 0)
      head.i32(8, column.precision ?? 0)
    }
    head.end()
  }
  const footerHead = head.copy()
  const created = utf8.encode(createdBy)
  const useDictionary = options.dictionary === true

  const out = new Out()
  const page = new Out()
  // a column's checked non-null values, and (dictionary) each one's index and the distinct values
  const values: Array<string | number | bigint> = []
  let codes = new Int32Array(256)
  const distinct: Array<string | number | bigint> = []
  const index = new Map<string | number | bigint, number>()

  /**
   * Definition levels of rows `[from, to)` into `page` (RLE runs, bit width 1, 4-byte length
   * first); with `collect`, the checked non-null values into `values`.
   */
  const levels = (column: SmallColumn, data: ArrayLike<unknown>, from: number, to: number, collect: boolean): void => {
    page.reset()
    page.u32le(0)
    if (collect) values.length = 0
    let run = 0
    let level = -1
    for (let r = from; r < to; r++) {
      const v = data[r]
      const l = v === null || v === undefined ? 0 : 1
      if (l === 1 && collect) values.push(checked(column, r, v))
      if (l !== level && run > 0) {
        page.varint(run * 2)
        page.byte(level)
        run = 0
      }
      level = l
      run++
    }
    if (run > 0) {
      page.varint(run * 2)
      page.byte(level)
    }
    page.view.setUint32(0, page.at - 4, true)
  }

  /**
   * Whether the column's `values` are smaller as a dictionary; when they are, `distinct` and
   * `codes` hold the dictionary and each value's index. Sizes are estimated (text by its UTF-16
   * length) the same way every time, so the choice, like the bytes, depends only on the values.
   */
  const dictionary = (type: SmallColumn["type"]): boolean => {
    const n = values.length
    if (n < 2) return false
    distinct.length = 0
    index.clear()
    if (codes.length < n) codes = new Int32Array(Math.max(n, codes.length * 2))
    const width = type === "INT32" ? 4 : 8
    let plainBytes = 0
    let dictBytes = 0
    let runs = 0
    let previous = -1
    for (let i = 0; i < n; i++) {
      const v = values[i] as string | number | bigint
      const size = type === "BYTE_ARRAY" ? 4 + (v as string).length : width
      plainBytes += size
      let code = index.get(v)
      if (code === undefined) {
        code = distinct.length
        index.set(v, code)
        distinct.push(v)
        dictBytes += size
      }
      codes[i] = code
      if (code !== previous) runs++
      previous = code
    }
    // the dictionary page's header (~12 bytes), the bit width, a run's header and value
    return dictBytes + 13 + runs * (1 + indexBytes(distinct.length)) < plainBytes
  }

  /** A page header (data or dictionary page) of `page`'s bytes, then those bytes. */
  const pageOut = (type: number, rows: number, encoding: number): void => {
    out.begin()
    out.i32(1, type)
    out.i32(2, page.at)
    out.i32(3, page.at)
    if (type === DATA_PAGE) {
      out.begin(5) // DataPageHeader
      out.i32(1, rows)
      out.i32(2, encoding)
      out.i32(3, RLE)
      out.i32(4, RLE)
      out.end()
    } else {
      out.begin(7) // DictionaryPageHeader
      out.i32(1, rows)
      out.i32(2, encoding)
      out.end()
    }
    out.end()
    out.append(page.bytes.subarray(0, page.at))
  }

  type Spec = typeof specs[number]
  interface Chunk {
    readonly name: Uint8Array
    readonly physical: number
    readonly offset: number
    readonly dataOffset: number
    readonly dictionary: boolean
    readonly size: number
  }

  /** A column chunk of PLAIN values: one pass over the rows, each value checked as it is written. */
  const plainChunk = ({ column, name, physical }: Spec, data: ArrayLike<unknown>, from: number, to: number): Chunk => {
    levels(column, data, from, to, false)
    const offset = out.at
    for (let r = from; r < to; r++) {
      const v = data[r]
      if (v !== null && v !== undefined) plain(page, column.type, checked(column, r, v))
    }
    pageOut(DATA_PAGE, to - from, PLAIN)
    return { name, physical, offset, dataOffset: offset, dictionary: false, size: out.at - offset }
  }

  /** A column chunk with a dictionary page where that is smaller, else PLAIN values. */
  const dictionaryChunk = (
    { column, name, physical }: Spec,
    data: ArrayLike<unknown>,
    from: number,
    to: number
  ): Chunk => {
    const type = column.type
    levels(column, data, from, to, true)
    const offset = out.at
    if (!dictionary(type)) {
      for (const v of values) plain(page, type, v)
      pageOut(DATA_PAGE, to - from, PLAIN)
      return { name, physical, offset, dataOffset: offset, dictionary: false, size: out.at - offset }
    }
    // the data page's body (its levels) waits while the dictionary page is written
    const body = page.copy()
    page.reset()
    for (const v of distinct) plain(page, type, v)
    pageOut(DICTIONARY_PAGE, distinct.length, PLAIN)
    const dataOffset = out.at
    page.reset()
    page.append(body)
    const valueBytes = indexBytes(distinct.length)
    page.byte(indexBitWidth(distinct.length))
    for (let i = 0; i < values.length;) {
      const code = codes[i] ?? 0
      let j = i + 1
      while (j < values.length && codes[j] === code) j++
      page.varint((j - i) * 2)
      for (let b = 0, rest = code; b < valueBytes; b++, rest >>>= 8) page.byte(rest & 0xff)
      i = j
    }
    pageOut(DATA_PAGE, to - from, RLE_DICTIONARY)
    return { name, physical, offset, dataOffset, dictionary: true, size: out.at - offset }
  }

  return (data, from, to) => {
    out.reset()
    out.append(MAGIC)
    const rows = to - from
    const chunks = specs.map((spec, c) =>
      useDictionary
        ? dictionaryChunk(spec, data[c] ?? [], from, to)
        : plainChunk(spec, data[c] ?? [], from, to)
    )
    const dataEnd = out.at
    // FileMetaData
    out.begin()
    out.append(footerHead)
    out.lastField(2) // `footerHead` ends on FileMetaData's field 2
    out.i64(3, rows)
    out.listHeader(4, 1, T_STRUCT)
    out.begin() // RowGroup
    out.listHeader(1, chunks.length, T_STRUCT)
    for (const { dataOffset, dictionary, name, offset, physical, size } of chunks) {
      out.begin() // ColumnChunk
      out.i64(2, offset)
      out.begin(3) // ColumnMetaData
      out.i32(1, physical)
      out.listHeader(2, dictionary ? 3 : 2, T_I32)
      out.zigzag(PLAIN)
      out.zigzag(RLE)
      if (dictionary) out.zigzag(RLE_DICTIONARY)
      out.listHeader(3, 1, T_BINARY)
      out.varint(name.length)
      out.append(name)
      out.i32(4, UNCOMPRESSED)
      out.i64(5, rows)
      out.i64(6, size)
      out.i64(7, size)
      out.i64(9, dataOffset)
      if (dictionary) out.i64(11, offset)
      out.end()
      out.end()
    }
    out.i64(2, dataEnd - MAGIC.length)
    out.i64(3, rows)
    out.end()
    out.binary(6, created)
    out.end()
    out.u32le(out.at - dataEnd)
    out.append(MAGIC)
    return out.copy()
  }
}
