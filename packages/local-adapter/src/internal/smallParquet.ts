/**
 * A Parquet writer for many small files of one flat schema: the refined table's `(date, ticker)`
 * partitions, one to a few dozen rows each, about 800 files a date.
 *
 * What it writes is plain Parquet 1.0, as the format's specification defines it: `PAR1`, one row
 * group, one column chunk per column made of a single v1 data page (PLAIN values, definition
 * levels in the RLE hybrid encoding, no compression, no statistics, no dictionary), then the
 * `FileMetaData` footer in Thrift's compact protocol, its length and `PAR1`. Every column is
 * OPTIONAL (as DuckDB and Spark write them); types are `BYTE_ARRAY` (UTF-8 text), `INT32` and
 * `INT64`, with the converted types DuckDB and Spark read as VARCHAR, DECIMAL(p,s) and DATE.
 *
 * Why not a general writer: for a file of a few rows, a general writer's cost is its set-up (a
 * buffer per page, dictionary attempts, a Thrift object tree per file), about 0.15-0.2 ms a file,
 * which made it the largest CPU cost of a backfill's refine (~200k files a year). Here the schema's
 * part of the footer is encoded once, and a file is a few passes over its values into one reused
 * buffer. The output is deterministic (same rows, same bytes) and read back by DuckDB and core's
 * Parquet reader in `test/smallParquet.test.ts`.
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
const DATA_PAGE = 0
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

const toInt32 = (column: SmallColumn, row: number, value: unknown): number => {
  const n = typeof value === "bigint" ? Number(value) : value
  if (typeof n !== "number" || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw badValue(column, row, value)
  }
  return n
}

const toInt64 = (column: SmallColumn, row: number, value: unknown): bigint => {
  if (typeof value === "bigint") {
    if (value < -9223372036854775808n || value > 9223372036854775807n) throw badValue(column, row, value)
    return value
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value)
  throw badValue(column, row, value)
}

/**
 * An encoder for `columns`: `(data, from, to)` is the Parquet file of rows `[from, to)` of `data`
 * (one array per column, in `columns` order; `null` or `undefined` is a null). Text columns take
 * strings, `INT32` numbers (or bigints in range), `INT64` bigints (or safe integers). A value of
 * the wrong kind throws a `TypeError` naming the column and row. Not re-entrant across threads;
 * each call returns its own copy of the bytes.
 *
 * @category constructors
 */
export const encoder = (
  columns: ReadonlyArray<SmallColumn>,
  createdBy: string
): (data: ReadonlyArray<ReadonlyArray<unknown>>, from: number, to: number) => Uint8Array => {
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

  const out = new Out()
  const page = new Out()

  /** One column's page body: definition levels (RLE runs, bit width 1, 4-byte length first), then values. */
  const writeBody = (column: SmallColumn, values: ReadonlyArray<unknown>, from: number, to: number): void => {
    page.reset()
    page.u32le(0)
    let run = 0
    let level = -1
    for (let r = from; r < to; r++) {
      const l = values[r] === null || values[r] === undefined ? 0 : 1
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
    for (let r = from; r < to; r++) {
      const v = values[r]
      if (v === null || v === undefined) continue
      if (column.type === "BYTE_ARRAY") {
        if (typeof v !== "string") throw badValue(column, r, v)
        page.plainText(v)
      } else if (column.type === "INT32") {
        page.i32le(toInt32(column, r, v))
      } else {
        page.i64le(toInt64(column, r, v))
      }
    }
  }

  return (data, from, to) => {
    out.reset()
    out.append(MAGIC)
    const rows = to - from
    const chunks = specs.map((spec, c) => {
      writeBody(spec.column, data[c] ?? [], from, to)
      // the page header, then the body
      const offset = out.at
      out.begin()
      out.i32(1, DATA_PAGE)
      out.i32(2, page.at)
      out.i32(3, page.at)
      out.begin(5) // DataPageHeader
      out.i32(1, rows)
      out.i32(2, PLAIN)
      out.i32(3, RLE)
      out.i32(4, RLE)
      out.end()
      out.end()
      out.append(page.bytes.subarray(0, page.at))
      return { ...spec, offset, size: out.at - offset }
    })
    const dataEnd = out.at
    // FileMetaData
    out.begin()
    out.append(footerHead)
    out.lastField(2) // `footerHead` ends on FileMetaData's field 2
    out.i64(3, rows)
    out.listHeader(4, 1, T_STRUCT)
    out.begin() // RowGroup
    out.listHeader(1, chunks.length, T_STRUCT)
    for (const { name, offset, physical, size } of chunks) {
      out.begin() // ColumnChunk
      out.i64(2, offset)
      out.begin(3) // ColumnMetaData
      out.i32(1, physical)
      out.listHeader(2, 2, T_I32)
      out.zigzag(PLAIN)
      out.zigzag(RLE)
      out.listHeader(3, 1, T_BINARY)
      out.varint(name.length)
      out.append(name)
      out.i32(4, UNCOMPRESSED)
      out.i64(5, rows)
      out.i64(6, size)
      out.i64(7, size)
      out.i64(9, offset)
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
