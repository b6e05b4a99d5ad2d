/**
 * Arrow columns in, Parquet bytes out (and back), with parquet-wasm and apache-arrow.
 *
 * Rules learned the hard way (see shared/performance-notes.md):
 * - strings become dictionary columns built with a `Map` (never `vectorFromArray` on Utf8 per row);
 * - every column owns its buffers (apache-arrow writes a broken IPC stream when two share one);
 * - parquet-wasm wants the IPC *stream* format and consumes its `WriterProperties`: build them
 *   fresh for every file;
 * - no clock anywhere: the same columns always give the same bytes.
 */
import * as Arrow from "apache-arrow"
import { Compression, readParquet, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from "parquet-wasm"

/** One column ready to be written: its field and its data. */
export interface ColumnData {
  readonly field: Arrow.Field
  readonly data: Arrow.Data
}

const encoder = new TextEncoder()

const nullBitmapOf = (length: number, isNull: (i: number) => boolean): { bitmap: Uint8Array; nulls: number } => {
  const bitmap = new Uint8Array((length + 7) >> 3)
  let nulls = 0
  for (let i = 0; i < length; i++) {
    if (isNull(i)) nulls++
    else bitmap[i >> 3] = (bitmap[i >> 3] ?? 0) | (1 << (i & 7))
  }
  return { bitmap, nulls }
}

/** A Utf8 vector of the distinct strings (a dictionary), encoded into one buffer, not per row. */
const utf8Vector = (values: ReadonlyArray<string>): Arrow.Vector<Arrow.Utf8> => {
  let capacity = 0
  for (const v of values) capacity += v.length * 3
  const buffer = new Uint8Array(capacity)
  const offsets = new Int32Array(values.length + 1)
  let total = 0
  values.forEach((value, i) => {
    total += encoder.encodeInto(value, buffer.subarray(total)).written
    offsets[i + 1] = total
  })
  return new Arrow.Vector([
    Arrow.makeData({
      type: new Arrow.Utf8(),
      length: values.length,
      valueOffsets: offsets,
      data: buffer.slice(0, total)
    })
  ])
}

/**
 * A dictionary-encoded string column. `id` must be unique within a file. Distinct values are
 * interned in first-seen order, so equal input gives equal bytes.
 */
export const stringColumn = (
  name: string,
  id: number,
  length: number,
  valueAt: (i: number) => string | null
): ColumnData => {
  const codes = new Int32Array(length)
  const index = new Map<string, number>()
  const distinct: Array<string> = []
  let nullable = false
  for (let i = 0; i < length; i++) {
    const v = valueAt(i)
    if (v === null) {
      nullable = true
      codes[i] = 0
      continue
    }
    let code = index.get(v)
    if (code === undefined) {
      code = distinct.length
      index.set(v, code)
      distinct.push(v)
    }
    codes[i] = code
  }
  const type = new Arrow.Dictionary(new Arrow.Utf8(), new Arrow.Int32(), id)
  const dictionary = utf8Vector(distinct)
  if (!nullable) {
    return {
      field: new Arrow.Field(name, type, true),
      data: Arrow.makeData({ type, length, data: codes, dictionary })
    }
  }
  const { bitmap, nulls } = nullBitmapOf(length, (i) => valueAt(i) === null)
  return {
    field: new Arrow.Field(name, type, true),
    data: Arrow.makeData({ type, length, data: codes, dictionary, nullBitmap: bitmap, nullCount: nulls })
  }
}

/** A constant string column (one dictionary entry, its own zeroed codes buffer). */
export const constantStringColumn = (name: string, id: number, length: number, value: string): ColumnData =>
  stringColumn(name, id, length, () => value)

/** An Int32 column; the values are copied. */
export const int32Column = (name: string, values: Int32Array, isNull?: (i: number) => boolean): ColumnData => {
  const type = new Arrow.Int32()
  const data = values.slice()
  if (isNull === undefined) {
    return { field: new Arrow.Field(name, type, true), data: Arrow.makeData({ type, length: data.length, data }) }
  }
  const { bitmap, nulls } = nullBitmapOf(data.length, isNull)
  return {
    field: new Arrow.Field(name, type, true),
    data: Arrow.makeData({ type, length: data.length, data, nullBitmap: bitmap, nullCount: nulls })
  }
}

/** An Int64 column; the values are copied. */
export const int64Column = (name: string, values: BigInt64Array): ColumnData => {
  const type = new Arrow.Int64()
  const data = values.slice()
  return { field: new Arrow.Field(name, type, true), data: Arrow.makeData({ type, length: data.length, data }) }
}

/** A DATE column from days since the epoch. */
export const dateColumn = (name: string, days: Int32Array): ColumnData => {
  const type = new Arrow.DateDay()
  const data = days.slice()
  return { field: new Arrow.Field(name, type, true), data: Arrow.makeData({ type, length: data.length, data }) }
}

/**
 * A DECIMAL(precision, scale) column (128-bit, as Arrow stores every decimal up to 38 digits) from
 * exact unscaled integers. Throws a RangeError when a value has more digits than `precision`.
 */
export const decimalColumn = (
  name: string,
  precision: number,
  scale: number,
  length: number,
  unscaledAt: (i: number) => bigint | number | null
): ColumnData => {
  const type = new Arrow.Decimal(scale, precision, 128)
  const words = new Uint32Array(length * 4)
  const limit = 10n ** BigInt(precision)
  const numberLimit = Number(limit)
  let anyNull = false
  // wide values repeat (the reductor is constant per file): convert each distinct run once
  let lastValue: bigint | number | undefined
  let lastAt = 0
  for (let i = 0; i < length; i++) {
    const raw = unscaledAt(i)
    if (raw === null) {
      anyNull = true
      continue
    }
    if (typeof raw === "number") {
      if (!Number.isSafeInteger(raw) || Math.abs(raw) >= numberLimit) {
        throw new RangeError(`${name}: ${raw} does not fit decimal(${precision},${scale})`)
      }
      if (raw >= -0x80000000 && raw <= 0x7fffffff) {
        words[i * 4] = raw >>> 0
        const fill = raw < 0 ? 0xffffffff : 0
        words[i * 4 + 1] = fill
        words[i * 4 + 2] = fill
        words[i * 4 + 3] = fill
        continue
      }
    }
    if (raw === lastValue) {
      words.copyWithin(i * 4, lastAt * 4, lastAt * 4 + 4)
      continue
    }
    const v = BigInt(raw)
    if (v >= limit || v <= -limit) throw new RangeError(`${name}: ${v} does not fit decimal(${precision},${scale})`)
    const u = BigInt.asUintN(128, v)
    for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((u >> BigInt(32 * k)) & 0xffffffffn)
    lastValue = raw
    lastAt = i
  }
  if (!anyNull) {
    return { field: new Arrow.Field(name, type, true), data: Arrow.makeData({ type, length, data: words }) }
  }
  const { bitmap, nulls } = nullBitmapOf(length, (i) => unscaledAt(i) === null)
  return {
    field: new Arrow.Field(name, type, true),
    data: Arrow.makeData({ type, length, data: words, nullBitmap: bitmap, nullCount: nulls })
  }
}

/** Writes the columns (all of the same length) as one Parquet file. Deterministic bytes. */
export const writeColumns = (columns: ReadonlyArray<ColumnData>, length: number): Uint8Array => {
  const schema = new Arrow.Schema(columns.map((c) => c.field))
  const struct = Arrow.makeData({
    type: new Arrow.Struct(schema.fields),
    length,
    nullCount: 0,
    children: columns.map((c) => c.data)
  })
  const table = new Arrow.Table([new Arrow.RecordBatch(schema, struct)])
  const ipc = Arrow.tableToIPC(table, "stream")
  // Both are consumed by writeParquet: fresh ones every time.
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setCreatedBy("b3-pipeline (parquet-wasm 0.8)")
    .build()
  return writeParquet(WasmTable.fromIPCStream(ipc), props)
}

/** Reads a Parquet file into an Arrow table (throws on bytes that are not Parquet). */
export const readTable = (bytes: Uint8Array): Arrow.Table => {
  const wasm = readParquet(bytes, { batchSize: 65_536 })
  return Arrow.tableFromIPC(wasm.intoIPCStream())
}

/** A column of a table read back, or an Error naming it. */
export const child = (table: Arrow.Table, name: string): Arrow.Vector => {
  const v = table.getChild(name)
  if (v === null) throw new Error(`missing column ${name}`)
  return v
}

/** Strings (dictionary or plain Utf8), `null` for nulls. */
export const readStrings = (v: Arrow.Vector): Array<string | null> => {
  const out: Array<string | null> = new Array(v.length)
  let at = 0
  for (const chunk of v.data) {
    if (Arrow.DataType.isDictionary(chunk.type) && chunk.dictionary !== undefined && chunk.offset === 0) {
      const dict = chunk.dictionary.toArray() as Array<string | null>
      const codes = chunk.values as ArrayLike<number>
      for (let i = 0; i < chunk.length; i++) {
        out[at++] = chunk.getValid(i) ? (dict[Number(codes[i])] ?? null) : null
      }
    } else {
      const vec = new Arrow.Vector([chunk])
      for (let i = 0; i < chunk.length; i++) {
        const s = vec.get(i)
        out[at++] = s === null || s === undefined ? null : String(s)
      }
    }
  }
  return out
}

/** Int32 (or smaller) integers; `null` for nulls. */
export const readInt32 = (v: Arrow.Vector): Array<number | null> => {
  const out: Array<number | null> = new Array(v.length)
  let at = 0
  for (const chunk of v.data) {
    const vec = new Arrow.Vector([chunk])
    for (let i = 0; i < chunk.length; i++) {
      const x = vec.get(i)
      out[at++] = x === null || x === undefined ? null : Number(x)
    }
  }
  return out
}

/** Int64 (or any integer) as bigint; `null` for nulls. */
export const readInt64 = (v: Arrow.Vector): Array<bigint | null> => {
  const out: Array<bigint | null> = new Array(v.length)
  let at = 0
  for (const chunk of v.data) {
    const vec = new Arrow.Vector([chunk])
    for (let i = 0; i < chunk.length; i++) {
      const x = vec.get(i)
      out[at++] = x === null || x === undefined ? null : BigInt(x as bigint | number)
    }
  }
  return out
}

/** DATE columns as days since the epoch; `null` for nulls. */
export const readDateDays = (v: Arrow.Vector): Array<number | null> => {
  const out: Array<number | null> = new Array(v.length)
  let at = 0
  for (const chunk of v.data) {
    const dayUnit = chunk.type instanceof Arrow.DateDay || (chunk.type as { unit?: number }).unit === 0
    if (dayUnit && chunk.offset === 0) {
      const days = chunk.values as Int32Array
      for (let i = 0; i < chunk.length; i++) out[at++] = chunk.getValid(i) ? days[i] ?? null : null
    } else {
      const vec = new Arrow.Vector([chunk])
      for (let i = 0; i < chunk.length; i++) {
        const x = vec.get(i) as number | Date | null
        out[at++] = x === null || x === undefined ? null : Math.round(Number(x) / 86_400_000)
      }
    }
  }
  return out
}

/** Decimal columns as exact unscaled bigints, with the column's scale; `null` for nulls. */
export const readDecimals = (v: Arrow.Vector): { readonly scale: number; readonly values: Array<bigint | null> } => {
  if (!Arrow.DataType.isDecimal(v.type)) {
    throw new Error(`column is ${String(v.type)}, not a decimal`)
  }
  const type = v.type as Arrow.Decimal
  const stride = type.bitWidth / 32
  const out: Array<bigint | null> = new Array(v.length)
  let at = 0
  for (const chunk of v.data) {
    const words = chunk.values as Uint32Array
    const base = chunk.offset * stride
    for (let i = 0; i < chunk.length; i++) {
      if (!chunk.getValid(i)) {
        out[at++] = null
        continue
      }
      const p = base + i * stride
      const lo = words[p] ?? 0
      let small = true
      const fill = (lo | 0) < 0 ? 0xffffffff : 0
      for (let k = 1; k < stride; k++) {
        if (words[p + k] !== fill) {
          small = false
          break
        }
      }
      if (small) {
        out[at++] = BigInt(lo | 0)
        continue
      }
      let u = 0n
      for (let k = stride - 1; k >= 0; k--) u = (u << 32n) | BigInt(words[p + k] ?? 0)
      out[at++] = BigInt.asIntN(type.bitWidth, u)
    }
  }
  return { scale: type.scale, values: out }
}

/** Rescales an unscaled decimal from one scale to another, exactly (throws if digits would be lost). */
export const rescale = (value: bigint, from: number, to: number): bigint => {
  if (from === to) return value
  if (to > from) return value * 10n ** BigInt(to - from)
  const f = 10n ** BigInt(from - to)
  if (value % f !== 0n) throw new Error(`decimal ${value}e-${from} does not fit scale ${to}`)
  return value / f
}
