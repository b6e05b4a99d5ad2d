/**
 * The encoders of every B3 wire format: a `Portfolio` as B3 would serve it (`GetPortfolioDay` and
 * `GetTheoricalPortfolio` JSON pages, the CSV download, its base64 body). Used by the simulator,
 * the tests and the benches; the ingest path (and the Lambda bundle) never loads this module.
 *
 * @since 0.1.0
 */
import type { Language, Portfolio } from "./Domain.js"
import { formatQuantity, formatReductor, formatShortDate, formatWeight } from "./internal/wireNumbers.js"
import { encodeLatin1, encodeUtf8, toBase64 } from "./internal/wireText.js"

const TOTAL_LABEL: Record<Language, string> = {
  "pt-br": "Quantidade Teórica Total",
  "en-us": "Total Theorethical Quantity"
}
const REDUCTOR_LABEL: Record<Language, string> = { "pt-br": "Redutor", "en-us": "Reductor" }
const HUNDRED = 100_000

const chunks = (size: number, pageSize: number | undefined): Array<readonly [number, number]> => {
  const ps = pageSize === undefined || pageSize <= 0 ? Math.max(size, 1) : Math.floor(pageSize)
  const out: Array<readonly [number, number]> = []
  for (let s = 0; s < size; s += ps) out.push([s, Math.min(size, s + ps)])
  if (out.length === 0) out.push([0, 0])
  return out
}

/** Row `i` of the portfolio's columns (`i < p.size`: every column holds it). */
const rowAt = (p: Portfolio, i: number) => ({
  ticker: p.tickers[i] ?? "",
  asset: p.assets[i] ?? "",
  type: p.types[i] ?? "",
  sector: p.sectors[i] ?? null,
  weight: p.weights[i] ?? 0,
  quantity: p.quantities[i] ?? 0n
})

/** Sum of weights per sector, by sector text. */
const sectorTotals = (p: Portfolio): Map<string, number> => {
  const m = new Map<string, number>()
  for (let i = 0; i < p.size; i++) {
    const { sector, weight } = rowAt(p, i)
    if (sector !== null) m.set(sector, (m.get(sector) ?? 0) + weight)
  }
  return m
}

/** GetPortfolioDay JSON pages (segment from the portfolio). Default: one page (B3's `pageSize` 9999). @category encoding */
export const encodePortfolioDay = (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
): ReadonlyArray<Uint8Array> => {
  const l = options.language
  const bySector = p.segment === "2"
  const totals = bySector ? sectorTotals(p) : new Map<string, number>()
  const parts = chunks(p.size, options.pageSize)
  const pageSize = options.pageSize ?? 9999
  const header = {
    date: formatShortDate(p.refDate, l),
    text: TOTAL_LABEL[l],
    part: formatWeight(HUNDRED, l),
    partAcum: formatWeight(HUNDRED, l),
    textReductor: REDUCTOR_LABEL[l],
    reductor: p.reductor === null ? null : formatReductor(p.reductor, l),
    theoricalQty: formatQuantity(p.totalQuantity, l)
  }
  return parts.map(([from, to], k) => {
    const results = []
    for (let i = from; i < to; i++) {
      const r = rowAt(p, i)
      const sector = bySector ? r.sector : null
      results.push({
        segment: sector,
        cod: r.ticker,
        asset: r.asset,
        type: r.type,
        part: formatWeight(r.weight, l),
        partAcum: sector !== null ? formatWeight(totals.get(sector) ?? 0, l) : null,
        theoricalQty: formatQuantity(r.quantity, l)
      })
    }
    const page = { pageNumber: k + 1, pageSize, totalRecords: p.size, totalPages: parts.length }
    return encodeUtf8(JSON.stringify({ page, header, results }))
  })
}

/** GetTheoricalPortfolio JSON pages (`cont` is the 1-based position). @category encoding */
export const encodeTheoricalPortfolio = (
  p: Portfolio,
  options: { readonly language: Language; readonly pageSize?: number }
): ReadonlyArray<Uint8Array> => {
  const l = options.language
  const parts = chunks(p.size, options.pageSize)
  const pageSize = options.pageSize ?? 9999
  const header = {
    part: formatWeight(HUNDRED, l),
    theoricalQty: formatQuantity(p.totalQuantity, l),
    reductor: p.reductor === null ? null : formatReductor(p.reductor, l)
  }
  return parts.map(([from, to], k) => {
    const results = []
    for (let i = from; i < to; i++) {
      const r = rowAt(p, i)
      results.push({
        cod: r.ticker,
        asset: r.asset,
        type: r.type,
        theoricalQty: formatQuantity(r.quantity, l),
        part: formatWeight(r.weight, l),
        cont: i + 1
      })
    }
    const page = { pageNumber: k + 1, pageSize, totalRecords: p.size, totalPages: parts.length }
    return encodeUtf8(JSON.stringify({ page, header, results }))
  })
}

/** The CSV text (by ticker, or by sector when the portfolio has sectors). @category encoding */
export const encodeCsvText = (
  p: Portfolio,
  options?: { readonly eol?: "\r\n" | "\n"; readonly language?: Language }
): string => {
  const l = options?.language ?? "pt-br"
  const eol = options?.eol ?? "\r\n"
  const bySector = p.segment === "2"
  const pt = l === "pt-br"
  const lines: Array<string> = []
  lines.push(`${p.indexCode} - ${pt ? "Carteira do Dia" : "Portfolio of the Day"} ${formatShortDate(p.refDate, l)}`)
  const cols = pt ? "Código;Ação;Tipo;Qtde. Teórica;Part. (%)" : "Code;Stock;Type;Theoretical Qty.;Part. (%)"
  lines.push(bySector ? `${pt ? "Setor" : "Sector"};${cols};Part. (%)Acum.` : cols)
  const totals = bySector ? sectorTotals(p) : new Map<string, number>()
  for (let i = 0; i < p.size; i++) {
    const r = rowAt(p, i)
    const row = `${r.ticker};${r.asset};${r.type};${formatQuantity(r.quantity, l)};${formatWeight(r.weight, l)}`
    const sector = r.sector ?? ""
    lines.push(bySector ? `${sector};${row};${formatWeight(totals.get(sector) ?? 0, l)};` : `${row};`)
  }
  const pad = bySector ? ";;;;" : ";;;"
  lines.push(`${TOTAL_LABEL[l]}${pad}${formatQuantity(p.totalQuantity, l)};${formatWeight(HUNDRED, l)}`)
  if (p.reductor !== null) lines.push(`${REDUCTOR_LABEL[l]}${pad}${formatReductor(p.reductor, l)}`)
  return lines.join(eol) + eol
}

/** The CSV download (by ticker, or by sector when the portfolio has sectors). Default latin1, CRLF, pt-br. @category encoding */
export const encodeCsv = (
  p: Portfolio,
  options?: { readonly encoding?: "latin1" | "utf8"; readonly eol?: "\r\n" | "\n"; readonly language?: Language }
): Uint8Array => {
  const text = encodeCsvText(p, {
    ...(options?.eol !== undefined ? { eol: options.eol } : {}),
    ...(options?.language !== undefined ? { language: options.language } : {})
  })
  return options?.encoding === "utf8" ? encodeUtf8(text) : encodeLatin1(text)
}

/** The `GetDownloadPortfolioDay` body: the latin1 CSV in base64, optionally JSON-quoted. @category encoding */
export const encodeDownload = (p: Portfolio, options?: { readonly quoted?: boolean }): Uint8Array => {
  const b64 = toBase64(encodeCsv(p))
  return encodeUtf8(options?.quoted === true ? `"${b64}"` : b64)
}
