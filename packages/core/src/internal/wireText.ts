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
  let high = false
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      high = true
      break
    }
  }
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
