/**
 * Inline SVG charts for the report, drawn at build time: horizontal bars and lines with points.
 * Geometry uses numbers; every number shown as text is formatted from exact decimal text.
 * Elements carry data attributes (`data-chart`, `data-bar`, `data-point`, `data-series`) so tests
 * can count what was drawn.
 *
 * @since 0.1.0
 */
import { epochDay, formatDecimal, parseDecimal, WEIGHT_SCALE } from "@b3-pipeline/core/Domain"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { escapeHtml, formatPercent, formatShortDate } from "./Format.js"
import type { ReportLocale } from "./Format.js"

/** Colours of the line series (colour-blind-friendly first), cycled beyond ten. @category charts */
export const SERIES_COLORS: ReadonlyArray<string> = [
  "#1f6fb4",
  "#d1432b",
  "#2a9d3c",
  "#e08a00",
  "#7b4fb8",
  "#8c564b",
  "#d6479e",
  "#1aa3b5",
  "#8a8a1a",
  "#5f5f5f"
]

/** @category charts */
export const seriesColor = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length] ?? "#000000"

const r1 = (n: number): string => (Math.round(n * 10) / 10).toString()

/** Thousandths of a percent of an exact weight text (`"3.570"` -> 3570); 0 when malformed. */
export const weightUnits = (weightPct: string): number => Number(parseDecimal(weightPct, WEIGHT_SCALE) ?? 0n)

const truncate = (s: string, max: number): string => s.length <= max ? s : `${s.slice(0, max - 1)}\u2026`

// ---------------------------------------------------------------------------------------------
// Horizontal bars
// ---------------------------------------------------------------------------------------------

/** @category charts */
export interface Bar {
  /** Short label (ticker, or "others"). */
  readonly label: string
  /** Tooltip text (company, member count). */
  readonly title: string
  /** Exact weight, 3 decimals. */
  readonly weightPct: string
  /** Extra data attributes, already safe names (`ticker`, `sector`). */
  readonly attrs?: Readonly<Record<string, string>>
  readonly muted?: boolean
}

const WIDTH = 400

const attrsOf = (attrs: Readonly<Record<string, string>> | undefined): string =>
  attrs === undefined ? "" : Object.entries(attrs).map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`).join("")

/**
 * Bars with the label left of the bar (short labels: tickers).
 *
 * @category charts
 */
export const barsLabelLeft = (chart: string, title: string, bars: ReadonlyArray<Bar>, locale: ReportLocale): string => {
  const rowH = 26
  const barH = 18
  const top = 4
  const labelW = 92
  const valueW = 70
  const area = WIDTH - labelW - valueW
  const height = top * 2 + bars.length * rowH
  const max = Math.max(1, ...bars.map((b) => weightUnits(b.weightPct)))
  const body = bars.map((b, i) => {
    const y = top + i * rowH
    const w = Math.max(1, (weightUnits(b.weightPct) / max) * area)
    const value = formatPercent(b.weightPct, locale)
    return `<g${attrsOf(b.attrs)}>` +
      `<text class="label" x="${labelW - 8}" y="${r1(y + barH / 2)}" dy="0.35em" text-anchor="end">${
        escapeHtml(b.label)
      }</text>` +
      `<rect data-bar class="bar${b.muted === true ? " muted" : ""}" x="${labelW}" y="${y}" width="${
        r1(w)
      }" height="${barH}" rx="2"><title>${escapeHtml(`${b.title}: ${value}`)}</title></rect>` +
      `<text class="value" x="${r1(labelW + w + 6)}" y="${r1(y + barH / 2)}" dy="0.35em">${escapeHtml(value)}</text>` +
      `</g>`
  })
  return svg(chart, title, height, body.join(""))
}

/**
 * Bars with the label above the bar (long labels: sectors).
 *
 * @category charts
 */
export const barsLabelAbove = (
  chart: string,
  title: string,
  bars: ReadonlyArray<Bar>,
  locale: ReportLocale
): string => {
  const rowH = 38
  const barH = 14
  const labelH = 17
  const top = 4
  const valueW = 70
  const area = WIDTH - valueW
  const height = top * 2 + bars.length * rowH
  const max = Math.max(1, ...bars.map((b) => weightUnits(b.weightPct)))
  const body = bars.map((b, i) => {
    const y = top + i * rowH
    const w = Math.max(1, (weightUnits(b.weightPct) / max) * area)
    const value = formatPercent(b.weightPct, locale)
    return `<g${attrsOf(b.attrs)}>` +
      `<text class="label" x="0" y="${y + labelH - 5}">${escapeHtml(truncate(b.label, 54))}</text>` +
      `<rect data-bar class="bar${b.muted === true ? " muted" : ""}" x="0" y="${y + labelH}" width="${
        r1(w)
      }" height="${barH}" rx="2"><title>${escapeHtml(`${b.title}: ${value}`)}</title></rect>` +
      `<text class="value" x="${r1(w + 6)}" y="${r1(y + labelH + barH / 2)}" dy="0.35em">${escapeHtml(value)}</text>` +
      `</g>`
  })
  return svg(chart, title, height, body.join(""))
}

const svg = (chart: string, title: string, height: number, body: string): string =>
  `<svg data-chart="${escapeHtml(chart)}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" ` +
  `preserveAspectRatio="xMinYMin meet" role="img" aria-label="${
    escapeHtml(title)
  }" xmlns="http://www.w3.org/2000/svg">` +
  `<title>${escapeHtml(title)}</title>${body}</svg>`

// ---------------------------------------------------------------------------------------------
// Lines with points
// ---------------------------------------------------------------------------------------------

/** @category charts */
export interface LineSeries {
  readonly key: string
  readonly title: string
  readonly color: string
  readonly points: ReadonlyArray<{ readonly date: RefDate; readonly weightPct: string }>
}

/** A "nice" step (1, 2 or 5 times a power of ten thousandths) giving about `n` intervals up to `max`. */
const niceStep = (max: number, n: number): number => {
  const raw = Math.max(1, max / n)
  const pow = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow
  return 10 * pow
}

/** An axis tick in thousandths, with only the decimals the step needs: 2000 -> "2%", 500 -> "0,5%". */
const tickText = (units: number, step: number, locale: ReportLocale): string => {
  const decimals = step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : step % 10 === 0 ? 2 : 3
  const full = formatDecimal(BigInt(units), WEIGHT_SCALE)
  const cut = decimals === 0 ? full.slice(0, full.indexOf(".")) : full.slice(0, full.indexOf(".") + 1 + decimals)
  return formatPercent(cut, locale)
}

/** Font size of axis ticks (`svg .tick` in the report's style) and a generous width per character. */
const TICK_CHAR_W = 11 * 0.62
/** Least space between two x-axis labels, in chart units. */
const TICK_GAP = 10

/** @category charts */
export interface XTick {
  readonly index: number
  readonly anchor: "start" | "middle" | "end"
}

/** Where a label of `width` sits for an anchor at `x`. */
const extent = (x: number, width: number, anchor: XTick["anchor"]): readonly [number, number] =>
  anchor === "start" ? [x, x + width] : anchor === "end" ? [x - width, x] : [x - width / 2, x + width / 2]

/**
 * The x-axis labels to draw, from each date's position and label length (characters): the first and
 * the last date (anchored inward), then dates near evenly spaced times, each kept only if its label
 * clears every label already kept by `TICK_GAP`. Labels never overlap, whatever the spacing of the
 * dates; the SVG scales as a whole, so this holds at any page width.
 *
 * @category charts
 */
export const pickXTicks = (
  xs: ReadonlyArray<number>,
  chars: ReadonlyArray<number>,
  minX: number,
  maxX: number
): Array<XTick> => {
  const n = xs.length
  const first = xs[0]
  const last = xs[n - 1]
  if (first === undefined || last === undefined) return []
  const at = (i: number): number => xs[i] ?? first
  const width = (i: number) => (chars[i] ?? 0) * TICK_CHAR_W
  if (n === 1 || last === first) return [{ index: 0, anchor: "middle" }]
  const kept: Array<{ tick: XTick; span: readonly [number, number] }> = []
  const tryKeep = (index: number, anchor: XTick["anchor"]) => {
    const span = extent(at(index), width(index), anchor)
    if (span[0] < minX - 1 && anchor === "middle") return
    if (span[1] > maxX + 1 && anchor === "middle") return
    const clear = kept.every((k) => span[1] + TICK_GAP <= k.span[0] || k.span[1] + TICK_GAP <= span[0])
    if (clear && !kept.some((k) => k.tick.index === index)) kept.push({ tick: { index, anchor }, span })
  }
  tryKeep(0, "start")
  tryKeep(n - 1, "end")
  // about one label per 90 units of axis, at evenly spaced times, each snapped to the nearest date
  const slots = Math.max(0, Math.floor((maxX - minX) / 90) - 1)
  for (let k = 1; k <= slots; k++) {
    const target = first + (k * (last - first)) / (slots + 1)
    let best = 0
    for (let i = 1; i < n; i++) if (Math.abs(at(i) - target) < Math.abs(at(best) - target)) best = i
    tryKeep(best, "middle")
  }
  return kept.map((k) => k.tick).sort((a, b) => a.index - b.index)
}

/**
 * Weight over time: a line per series, broken where the ticker was out of the index, a point per
 * snapshot where it was in. `dates` is the full time axis.
 *
 * @category charts
 */
export const lines = (
  chart: string,
  title: string,
  dates: ReadonlyArray<RefDate>,
  series: ReadonlyArray<LineSeries>,
  locale: ReportLocale
): string => {
  const height = 260
  const left = 46
  const right = 14
  const top = 12
  const bottom = 34
  const plotW = WIDTH - left - right
  const plotH = height - top - bottom
  const days = dates.map(epochDay)
  const d0 = days[0] ?? 0
  const d1 = days[days.length - 1] ?? 0
  const x = (d: RefDate): number => d1 === d0 ? left + plotW / 2 : left + ((epochDay(d) - d0) / (d1 - d0)) * plotW
  const maxUnits = Math.max(1, ...series.flatMap((s) => s.points.map((p) => weightUnits(p.weightPct))))
  const step = niceStep(maxUnits, 5)
  const yMax = Math.ceil(maxUnits / step) * step
  const y = (units: number): number => top + plotH - (units / yMax) * plotH

  const grid: Array<string> = []
  for (let v = 0; v <= yMax; v += step) {
    grid.push(
      `<line class="grid" x1="${left}" x2="${WIDTH - right}" y1="${r1(y(v))}" y2="${r1(y(v))}"/>` +
        `<text class="tick" x="${left - 6}" y="${r1(y(v))}" dy="0.35em" text-anchor="end">${
          escapeHtml(tickText(v, step, locale))
        }</text>`
    )
  }
  const firstYear = dates[0]?.slice(0, 4)
  const multiYear = firstYear !== undefined && firstYear !== dates[dates.length - 1]?.slice(0, 4)
  const xLabel = (d: RefDate): string => formatShortDate(d, locale) + (multiYear ? `/${d.slice(2, 4)}` : "")
  const xTicks = pickXTicks(dates.map(x), dates.map((d) => xLabel(d).length), left, WIDTH - right).flatMap((t) => {
    const d = dates[t.index]
    if (d === undefined) return []
    return `<line class="axis" x1="${r1(x(d))}" x2="${r1(x(d))}" y1="${top + plotH}" y2="${top + plotH + 4}"/>` +
      `<text class="tick" data-axis="x" x="${r1(x(d))}" y="${top + plotH + 18}" text-anchor="${t.anchor}">${
        escapeHtml(xLabel(d))
      }</text>`
  })

  const position = new Map(dates.map((d, i) => [d, i]))
  const radius = dates.length > 60 ? 2 : 3.5
  const drawn = series.map((s) => {
    let path = ""
    let prev = -2
    for (const p of s.points) {
      const i = position.get(p.date) ?? -10
      path += `${i === prev + 1 ? "L" : "M"}${r1(x(p.date))} ${r1(y(weightUnits(p.weightPct)))} `
      prev = i
    }
    const points = s.points.map((p) =>
      `<circle data-point data-date="${p.date}" data-weight="${escapeHtml(p.weightPct)}" cx="${r1(x(p.date))}" cy="${
        r1(y(weightUnits(p.weightPct)))
      }" r="${radius}" fill="${s.color}"><title>${
        escapeHtml(
          `${s.title}, ${formatShortDate(p.date, locale)}/${p.date.slice(0, 4)}: ${formatPercent(p.weightPct, locale)}`
        )
      }</title></circle>`
    )
    return `<g data-series="${escapeHtml(s.key)}">` +
      (path === "" ? "" : `<path class="line" d="${path.trim()}" stroke="${s.color}"/>`) + points.join("") + `</g>`
  })

  const axes = `<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"/>` +
    `<line class="axis" x1="${left}" x2="${WIDTH - right}" y1="${top + plotH}" y2="${top + plotH}"/>`
  return svg(chart, title, height, grid.join("") + axes + xTicks.join("") + drawn.join(""))
}
