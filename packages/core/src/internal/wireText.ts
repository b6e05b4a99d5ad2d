/**
 * Bytes to text and back: UTF-8 vs latin1 detection, true ISO-8859-1 (not windows-1252), base64.
 */

const utf8Lenient = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false })
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
const utf8Encoder = new TextEncoder()

export const decodeUtf8 = (bytes: Uint8Array): string => utf8Lenient.decode(bytes)
export const encodeUtf8 = (text: string): Uint8Array => utf8Encoder.encode(text)

/** ISO-8859-1: every byte is the code point of the same value. */
export const decodeLatin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")

/** ISO-8859-1 bytes of `text`; characters above U+00FF become `?` (B3's CSV cannot carry them). */
export const encodeLatin1 = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    out[i] = c <= 0xff ? c : 0x3f
  }
  return out
}

/**
 * The text of a CSV download. Rule: bytes that are valid UTF-8 AND hold at least one multi-byte
 * sequence are UTF-8 (a file re-saved by a person); anything else is latin1 (B3's own download).
 * Pure ASCII reads the same either way. A UTF-8 byte-order mark is dropped.
 */
export const decodeCsvText = (bytes: Uint8Array): { readonly text: string; readonly encoding: "utf8" | "latin1" } => {
  const high = bytes.some((b) => b >= 0x80)
  if (high) {
    try {
      const text = utf8Strict.decode(bytes)
      return { text, encoding: "utf8" }
    } catch {
      // not UTF-8: latin1
    }
  }
  const text = decodeLatin1(bytes)
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, encoding: high ? "latin1" : "utf8" }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * When `text` (trimmed, JSON quotes stripped) is base64, the bytes it encodes; otherwise undefined.
 * Whitespace and line breaks inside are allowed.
 */
export const fromBase64Body = (text: string): Uint8Array | undefined => {
  if (text.indexOf(";") !== -1) return undefined
  let t = text.trim()
  if (t.length >= 2 && t.charCodeAt(0) === 34 && t.charCodeAt(t.length - 1) === 34) {
    try {
      const inner: unknown = JSON.parse(t)
      if (typeof inner !== "string") return undefined
      t = inner.trim()
    } catch {
      return undefined
    }
  }
  t = t.replace(/\s+/g, "")
  if (t.length === 0 || t.length % 4 !== 0 || !BASE64.test(t)) return undefined
  const buf = Buffer.from(t, "base64")
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

export const toBase64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")

// ---------------------------------------------------------------------------------------------
// What the bytes are: encoding, text or not, HTML or not
// ---------------------------------------------------------------------------------------------

/** How much of the start of a payload the sniffers look at. */
const SNIFF = 1024

/** What `sniffText` saw: text bytes to decode (UTF-8 or latin1, BOM removed), or why they are not. */
export type Sniffed =
  | { readonly _tag: "Text"; readonly bytes: Uint8Array; readonly encoding: "utf8-or-latin1" | "utf16le" | "utf16be" }
  | { readonly _tag: "NotText"; readonly detail: string }
  | { readonly _tag: "UnsupportedEncoding"; readonly detail: string }
  | { readonly _tag: "HtmlPage"; readonly detail: string; readonly value: string }

const utf16 = (bytes: Uint8Array, label: "utf-16le" | "utf-16be"): Uint8Array | undefined => {
  try {
    return encodeUtf8(new TextDecoder(label, { fatal: true, ignoreBOM: false }).decode(bytes))
  } catch {
    return undefined
  }
}

/** UTF-16 without a BOM: ASCII text has a NUL in every other byte of the first line. */
const utf16Guess = (bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined => {
  const n = Math.min(bytes.length, 64) & ~1
  if (n < 4) return undefined
  let even = 0
  let odd = 0
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) even++
    if (bytes[i + 1] === 0) odd++
  }
  const half = n / 2
  if (odd === half && even === 0) return "utf-16le"
  if (even === half && odd === 0) return "utf-16be"
  return undefined
}

/**
 * The text inside `bytes`, ready for the JSON and CSV decoders: a UTF-8 BOM is dropped, UTF-16
 * (with a BOM, or ASCII-range text without one) is converted to UTF-8; NUL or many control
 * characters say binary (`NotText`); a first character `<` says an HTML page. Costs one pass over
 * at most the first 1 KiB (plus the conversion, for UTF-16 only).
 */
export const sniffText = (bytes: Uint8Array): Sniffed => {
  // the common case, every page of a B3 JSON answer: `{` then a non-NUL byte is UTF-8 JSON text
  // (binary that happens to start with `{` fails JSON.parse as NotJson)
  if (bytes[0] === 0x7b && bytes.length > 1 && bytes[1] !== 0) {
    return { _tag: "Text", bytes, encoding: "utf8-or-latin1" }
  }
  let body = bytes
  let encoding: "utf8-or-latin1" | "utf16le" | "utf16be" = "utf8-or-latin1"
  const b0 = bytes[0]
  const b1 = bytes[1]
  const utf16Label = b0 === 0xff && b1 === 0xfe ?
    "utf-16le" :
    b0 === 0xfe && b1 === 0xff ?
    "utf-16be" :
    utf16Guess(bytes)
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) body = bytes.subarray(3)
  else if (utf16Label !== undefined) {
    const converted = bytes.length % 2 === 0 ? utf16(bytes, utf16Label) : undefined
    if (converted === undefined) {
      return { _tag: "UnsupportedEncoding", detail: `looks like ${utf16Label.toUpperCase()} but does not decode as it` }
    }
    body = converted
    encoding = utf16Label === "utf-16le" ? "utf16le" : "utf16be"
  } else if ((b0 === 0x00 && b1 === 0x00) || (b0 === 0x2b && b1 === 0x2f && bytes[2] === 0x76)) {
    return { _tag: "UnsupportedEncoding", detail: "UTF-32 or UTF-7 text: save it as UTF-8 or latin1" }
  }
  const n = Math.min(body.length, SNIFF)
  let controls = 0
  let first = -1
  for (let i = 0; i < n; i++) {
    const c = body[i] ?? 0
    if (c === 0) {
      return { _tag: "NotText", detail: `binary data (a NUL byte at offset ${i}), not a text payload` }
    }
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) controls++
    if (first === -1 && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) first = i
  }
  if (controls > 0 && controls * 20 > n) {
    return { _tag: "NotText", detail: `binary data (${controls} control bytes in the first ${n}), not a text payload` }
  }
  if (first !== -1 && body[first] === 0x3c) {
    const head = decodeUtf8(body.subarray(first, Math.min(body.length, first + SNIFF)))
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(head)?.[1]?.trim()
    return {
      _tag: "HtmlPage",
      detail: `an HTML page${
        title !== undefined && title !== "" ? ` titled ${JSON.stringify(title.slice(0, 60))}` : ""
      } (a challenge or maintenance page?), not a B3 payload`,
      value: head.slice(0, 80)
    }
  }
  return { _tag: "Text", bytes: body, encoding }
}
