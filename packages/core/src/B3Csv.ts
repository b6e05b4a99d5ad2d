/**
 * The CSV decoder of stage 2 (parse): B3's `GetDownloadPortfolioDay` (the CSV in base64, sometimes
 * JSON-quoted) and the CSV file itself, by ticker or by sector, latin1 or UTF-8. Entry point for
 * callers: `B3Wire.decode` (format detection); this module is its CSV half.
 *
 * @since 0.1.0
 */
import type { IndexCode, Portfolio } from "./Domain.js"
import type { DecodeOptions } from "./internal/wireDecode.js"
import { decideLanguage, parseReductorField, parseTotal, textBytes } from "./internal/wireDecode.js"
import {
  BAD,
  parseShortDate,
  parseWeight,
  separatorsOf,
  voteQuantity,
  voteReductor,
  voteWeight
} from "./internal/wireNumbers.js"
import { fail, INDEX_CODE, RowSink } from "./internal/wireRows.js"
import { decodeCsvText, decodeUtf8, fromBase64Body } from "./internal/wireText.js"

const TITLE = /^\s*(\S+)\s+-\s+(.*?)\s*(\d{1,2}\/\d{1,2}\/(?:\d{4}|\d{2}))\s*$/
const isTotalLabel = (s: string): boolean => /^Quantidade Te|Theoret?h?ical Quantity|Quantity Total/i.test(s.trim())
const firstField = (line: string): string => {
  const at = line.indexOf(";")
  return at === -1 ? line : line.slice(0, at)
}
const isReductorLabel = (s: string): boolean => /^(Redutor|Reductor)\b/i.test(s.trim())

const decodeCsv = (bytes: Uint8Array, options: DecodeOptions): Portfolio => {
  const format = "CSV"
  const { text } = decodeCsvText(textBytes(format, bytes, undefined))
  const lines = text.split("\n")
  lines.forEach((l, i) => {
    if (l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1)
  })
  while (lines.length > 0 && lines.at(-1)?.trim() === "") lines.pop()
  const title = TITLE.exec(lines[0] ?? "")
  if (title === null) {
    const t = text.trimStart()
    if (t.startsWith("{") || t.startsWith("[")) {
      return fail(format, "NotB3Csv", "a JSON document where B3's CSV download was expected", { value: t.slice(0, 80) })
    }
    return fail(format, "NotB3Csv", "the first line is not a title like \"IBOV - Carteira do Dia 03/10/25\"", {
      value: (lines[0] ?? "").slice(0, 80)
    })
  }
  const code = title[1] ?? ""
  if (!INDEX_CODE.test(code)) return fail(format, "BadIndexCode", "invalid index code in the title", { value: code })
  if (options.indexCode !== undefined && options.indexCode !== code) {
    fail(format, "BadIndexCode", `the title's index ${code} differs from --index ${options.indexCode}`, {
      value: code
    })
  }
  const header = (lines[1] ?? "").split(";")
  if (header.length > 0 && header[header.length - 1] === "") header.pop()
  const h0 = (header[0] ?? "").trim()
  const sectorMode = header.length === 7 && /^(Setor|Sector)/i.test(h0)
  if (!sectorMode && !(header.length === 5 && /^C/i.test(h0))) {
    return fail(format, "NotB3Csv", "the second line is not B3's column header (5 columns, or 7 by sector)", {
      value: (lines[1] ?? "").slice(0, 80)
    })
  }
  const cols = sectorMode ? 7 : 5
  // Rows up to the total footer, then the optional reductor footer.
  // the total footer is the last line but one or two: search from the end, not a regex per row
  let end = lines.length - 1
  while (end >= 2 && !isTotalLabel(firstField(lines[end] ?? ""))) end--
  if (end < 2) {
    return fail(format, "BadEnvelope", "no \"Quantidade Teórica Total\" footer (truncated file?)", {
      field: "footer"
    })
  }
  const footer = lines[end] ?? ""
  const totalFields = footer.split(";").slice(1).filter((f) => f.trim() !== "")
  let reductorText: string | undefined
  for (const l of lines.slice(end + 1)) {
    if (l.trim() === "") continue
    const f = l.split(";")
    if (isReductorLabel(f[0] ?? "") && reductorText === undefined) {
      reductorText = f.slice(1).find((x) => x.trim() !== "") ?? ""
    } else {
      fail(format, "NotB3Csv", "unexpected line after the footer", { value: l })
    }
  }
  const totalText = totalFields[0]
  if (totalText === undefined) {
    return fail(format, "BadEnvelope", "the total footer has no total", { field: "footer", value: footer })
  }

  const language = decideLanguage(format, options, [footer.split(";", 1)[0], lines[0], h0], () => {
    const v = voteQuantity(totalText) ?? (reductorText ? voteReductor(reductorText) : undefined)
    if (v !== undefined) return v
    for (let i = 2; i < end; i++) {
      const f = (lines[i] ?? "").split(";")
      const q = f[cols - 2]
      const p = f[cols - 1]
      const w = (q !== undefined ? voteQuantity(q) : undefined) ?? (p !== undefined ? voteWeight(p) : undefined)
      if (w !== undefined) return w
    }
    return undefined
  })
  const sep = separatorsOf(language)
  const titleDate = title[3] ?? ""
  const refDate = parseShortDate(titleDate, language)
  if (refDate === undefined) {
    return fail(
      format,
      "BadDate",
      `the title's date is not a real ${language === "pt-br" ? "DD/MM/YY" : "MM/DD/YY"} date`,
      {
        field: "title",
        value: titleDate
      }
    )
  }
  if (options.refDate !== undefined && options.refDate !== refDate) {
    fail(format, "BadDate", `the title's date ${refDate} differs from --date ${options.refDate}`, {
      field: "title",
      value: titleDate
    })
  }
  const totalQuantity = parseTotal(format, totalText, sep, language, "footer")
  const footerWeight = totalFields[1]
  if (footerWeight !== undefined && parseWeight(footerWeight, sep) === BAD) {
    fail(format, "BadNumber", `the footer's weight total is not a ${language} weight`, {
      field: "footer",
      value: footerWeight
    })
  }
  const reductor = parseReductorField(format, reductorText, sep, language, "Redutor")

  const sink = new RowSink(format, sep, language, end - 2)
  let rowNo = 0
  for (let i = 2; i < end; i++) {
    const line = lines[i] ?? ""
    if (line.trim() === "") continue
    rowNo++
    const f = line.split(";")
    if (!(f.length === cols || (f.length === cols + 1 && f[cols] === ""))) {
      fail(format, "BadField", `expected ${cols} fields (${cols + 1} with the trailing ';'), got ${f.length}`, {
        row: rowNo,
        value: line
      })
    }
    if (sectorMode) sink.add(rowNo, undefined, f[1], f[2], f[3], f[5], f[4], f[0], f[6], true)
    else sink.add(rowNo, undefined, f[0], f[1], f[2], f[4], f[3], null, null, false)
  }
  return sink.finish({
    indexCode: code as IndexCode,
    refDate,
    segment: sectorMode ? "2" : "1",
    totalQuantity,
    reductor,
    totalField: "footer"
  })
}

/** A CSV download: the (JSON-quoted) base64 body or the CSV itself; both are sniffed for text. */
/** Throws `Fail`: callers go through `B3Wire.decode` (`text` is page 1 already sniffed). */
export const decodePayloadUnsafe = (pages: ReadonlyArray<Uint8Array>, text: Uint8Array, options: DecodeOptions) => {
  if (pages.length !== 1) fail("CSV", "PageMismatch", `a CSV download is one page, got ${pages.length}`)
  const inner = fromBase64Body(decodeUtf8(text))
  return decodeCsv(inner ?? text, options)
}
