/**
 * The report as ONE self-contained HTML document: inline CSS, charts as inline SVG drawn here, no
 * script, no external font, image or stylesheet (a Content-Security-Policy forbids any fetch).
 * Readable on a phone (fluid SVG, max-width) and on paper (`@media print`).
 *
 * @since 0.1.0
 */
import { formatDecimal, WEIGHT_SCALE } from "@b3-pipeline/core/Domain"
import { barsLabelAbove, barsLabelLeft, lines, seriesColor, weightUnits } from "./Charts.js"
import type { Bar } from "./Charts.js"
import { escapeHtml, formatCount, formatDate, formatDecimalText, formatPercent } from "./Format.js"
import type { ReportLocale } from "./Format.js"
import type { ReportChange, ReportData } from "./Model.js"
import { textFor } from "./Text.js"

/** @category rendering */
export interface RenderOptions {
  /** Number and date formats: pt-BR `"3,570%"`, `"90.587.133.892"`; en-US `"3.570%"`, `"90,587,133,892"`. */
  readonly locale: ReportLocale
  /** Shown in the footer when given (the renderer itself never reads the clock). */
  readonly generatedAt?: string
}

/** How many members the top-weights chart shows before grouping the rest as "others". @category rendering */
export const TOP_BARS = 15

const sumWeights = (weights: ReadonlyArray<string>): string =>
  formatDecimal(weights.reduce((acc, w) => acc + BigInt(weightUnits(w)), 0n), WEIGHT_SCALE)

const STYLE = `
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d9dee4; --bar: #1f6fb4; --bar-muted: #9aa7b4; --bg: #ffffff;
  --card: #f6f8fa; --in: #1d7a35; --out: #b3261e; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 880px; margin: 0 auto; padding: 20px 16px 40px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h1 .date { font-weight: 400; color: var(--muted); }
h2 { font-size: 1.15rem; margin: 0 0 10px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.facts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin: 0; }
.facts div { background: var(--card); border-radius: 8px; padding: 8px 12px; }
.facts dt { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.facts dd { margin: 2px 0 0; font-size: 1.05rem; font-weight: 600; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
section { margin-top: 28px; break-inside: avoid; page-break-inside: avoid; }
svg { display: block; width: 100%; max-width: 520px; height: auto; overflow: visible; }
svg text { font-family: inherit; fill: var(--fg); }
svg .label { font-size: 13px; }
svg .value { font-size: 12px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .bar { fill: var(--bar); }
svg .bar.muted { fill: var(--bar-muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 10px 0 0; }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend svg { width: 22px; height: 12px; display: inline-block; }
.legend small { color: var(--muted); }
.empty { background: var(--card); border-radius: 8px; padding: 12px 14px; color: var(--muted); margin: 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; color: var(--muted); padding-bottom: 6px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr[data-row="entered"] td.change { color: var(--in); font-weight: 600; }
tr[data-row="left"] td.change { color: var(--out); font-weight: 600; }
details { margin-top: 28px; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 36px; color: var(--muted); font-size: .85rem; }
@media (max-width: 560px) {
  main { padding: 14px 10px 28px; }
  h1 { font-size: 1.35rem; }
  .facts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .facts dd { font-size: .95rem; }
  table { font-size: .85rem; }
  th, td { padding: 5px 4px; }
}
@media print {
  :root { --bg: #fff; --card: #fff; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .facts div { border: 1px solid var(--line); }
  svg { max-width: 17cm; }
  svg .bar, svg .line, .legend svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  details > summary { list-style: none; }
  a { color: inherit; text-decoration: none; }
}
`

const fact = (field: string, label: string, value: string): string =>
  `<div><dt>${escapeHtml(label)}</dt><dd data-field="${field}">${escapeHtml(value)}</dd></div>`

const changeRows = (kind: "entered" | "left", label: string, rows: ReadonlyArray<ReportChange>, locale: ReportLocale) =>
  rows.map((r) =>
    `<tr data-row="${kind}"><td class="change">${escapeHtml(label)}</td><td>${escapeHtml(r.ticker)}</td><td>${
      escapeHtml(r.company)
    }</td><td class="num">${escapeHtml(formatPercent(r.weightPct, locale))}</td></tr>`
  ).join("")

/**
 * Renders the report. Pure: the same data and options give the same bytes.
 *
 * @category rendering
 */
export const renderReport = (data: ReportData, options: RenderOptions): string => {
  const { locale } = options
  const t = textFor(locale)
  const date = formatDate(data.refDate, locale)
  const title = t.title(data.indexCode, date)

  // header
  const facts = [
    fact("index", t.index, data.indexCode),
    fact("date", t.date, date),
    fact("constituents", t.constituents, formatCount(data.constituents, locale)),
    fact(
      "total-quantity",
      t.totalQuantity,
      data.totalQuantity === null ? "\u2014" : formatDecimalText(data.totalQuantity, locale)
    ),
    fact("reductor", t.reductor, data.reductor === null ? "\u2014" : formatDecimalText(data.reductor, locale)),
    fact("weight-sum", t.weightSum, formatPercent(sumWeights(data.members.map((m) => m.weightPct)), locale))
  ].join("")

  // top weights
  const top = data.members.slice(0, TOP_BARS)
  const rest = data.members.slice(TOP_BARS)
  const topBars: Array<Bar> = top.map((m) => ({
    label: m.ticker,
    title: `${m.ticker} \u2014 ${m.company}`,
    weightPct: m.weightPct,
    attrs: { ticker: m.ticker }
  }))
  if (rest.length > 0) {
    topBars.push({
      label: t.others(formatCount(rest.length, locale)),
      title: t.otherConstituents(formatCount(rest.length, locale)),
      weightPct: sumWeights(rest.map((m) => m.weightPct)),
      attrs: { others: String(rest.length) },
      muted: true
    })
  }
  const topSection = data.members.length === 0 ?
    `<p class="empty" data-empty="top-weights">${escapeHtml(t.noConstituents)}</p>` :
    barsLabelLeft("top-weights", t.topWeightsOf(top.length, data.indexCode, date), topBars, locale)

  // sectors
  const sectorSection = data.sectors.length === 0 ?
    `<p class="empty" data-empty="sectors">${escapeHtml(t.noSectorData)}</p>` :
    barsLabelAbove(
      "sectors",
      t.bySectorOf(data.indexCode, date),
      data.sectors.map((s) => ({
        label: s.sector ?? t.noSector,
        title: t.sectorMembers(s.sector ?? t.noSector, formatCount(s.members, locale), s.members === 1),
        weightPct: s.weightPct,
        attrs: { sector: s.sector ?? "" },
        muted: s.sector === null
      })),
      locale
    )

  // weight over time
  const series = data.series.map((s, i) => ({
    empty: s.points.length === 0,
    key: s.ticker,
    title: s.company === "" ? s.ticker : `${s.ticker} (${s.company})`,
    color: seriesColor(i),
    points: s.points.map((p) => ({ date: p.refDate, weightPct: p.weightPct }))
  }))
  const legend = series.map((s) =>
    `<li data-legend="${
      escapeHtml(s.key)
    }"><svg viewBox="0 0 22 12" aria-hidden="true"><line x1="1" x2="21" y1="6" y2="6" stroke="${s.color}" stroke-width="2"/><circle cx="11" cy="6" r="3.5" fill="${s.color}"/></svg>` +
    `<span>${escapeHtml(s.title)}</span>${s.empty ? ` <small>${escapeHtml(t.noSnapshotUpTo(date))}</small>` : ""}</li>`
  ).join("")
  const timeSection = series.length === 0 ?
    `<p class="empty" data-empty="weights-over-time">${escapeHtml(t.noTicker)}</p>` :
    lines(
      "weights-over-time",
      t.overTimeOf(series.map((s) => s.key).join(", ")),
      data.dates,
      series,
      locale
    ) + `<ul class="legend">${legend}</ul>`
  const firstDate = data.dates[0]
  const lastDate = data.dates[data.dates.length - 1]
  const span = firstDate === undefined || lastDate === undefined ?
    "" :
    t.snapshots(
      formatCount(data.dates.length, locale),
      data.dates.length === 1,
      formatDate(firstDate, locale),
      formatDate(lastDate, locale)
    )

  // entering and leaving
  let changes: string
  const c = data.comparison
  if (c === null) {
    changes = `<p class="empty" data-empty="changes">${escapeHtml(t.onlyOneSnapshot(data.indexCode, date))}</p>`
  } else if (c.entered.length === 0 && c.left.length === 0) {
    changes = `<p class="empty" data-empty="changes">${
      escapeHtml(t.noChange(formatDate(c.from, locale), formatDate(c.to, locale)))
    }</p>`
  } else {
    changes = `<div class="table-wrap"><table data-table="changes"><caption>${
      escapeHtml(
        t.changeCaption(
          formatDate(c.from, locale),
          formatDate(c.to, locale),
          formatCount(c.entered.length, locale),
          formatCount(c.left.length, locale)
        )
      )
    }</caption><thead><tr><th>${escapeHtml(t.change)}</th><th>${escapeHtml(t.ticker)}</th><th>${
      escapeHtml(t.company)
    }</th><th class="num">${escapeHtml(t.weight)}</th></tr></thead><tbody>${
      changeRows("entered", t.entered, c.entered, locale)
    }${changeRows("left", t.left, c.left, locale)}</tbody></table></div>`
  }

  // all members
  const memberRows = data.members.map((m, i) =>
    `<tr data-row="member"><td class="num">${i + 1}</td><td>${escapeHtml(m.ticker)}</td><td>${
      escapeHtml(m.company)
    }</td><td>${escapeHtml(m.shareClass ?? "")}</td><td>${escapeHtml(m.sector ?? "")}</td><td class="num">${
      escapeHtml(formatPercent(m.weightPct, locale))
    }</td><td class="num">${escapeHtml(formatDecimalText(m.theoreticalQty, locale))}</td></tr>`
  ).join("")

  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header data-section="header">
<h1>${escapeHtml(data.indexCode)} <span class="date">${escapeHtml(date)}</span></h1>
<p class="sub">${escapeHtml(t.subtitle)}</p>
<dl class="facts">${facts}</dl>
</header>
<section data-section="top-weights">
<h2>${escapeHtml(t.topWeights)}</h2>
${topSection}
</section>
<section data-section="sectors">
<h2>${escapeHtml(t.bySector)}</h2>
${sectorSection}
</section>
<section data-section="weights-over-time">
<h2>${escapeHtml(t.overTime)}</h2>
${span === "" ? "" : `<p class="sub">${escapeHtml(span)}</p>`}
${timeSection}
</section>
<section data-section="changes">
<h2>${escapeHtml(t.changes)}</h2>
${changes}
</section>
<details data-section="members">
<summary>${escapeHtml(t.allConstituents(formatCount(data.members.length, locale)))}</summary>
<div class="table-wrap"><table data-table="members"><thead><tr><th class="num">#</th><th>${
    escapeHtml(t.ticker)
  }</th><th>${escapeHtml(t.company)}</th><th>${escapeHtml(t.shareClass)}</th><th>${
    escapeHtml(t.sector)
  }</th><th class="num">${escapeHtml(t.weight)}</th><th class="num">${
    escapeHtml(t.theoreticalQty)
  }</th></tr></thead><tbody>${memberRows}</tbody></table></div>
</details>
<footer>${escapeHtml(t.source)}${
    options.generatedAt === undefined ? "" : ` ${escapeHtml(t.generated(options.generatedAt))}`
  }</footer>
</main>
</body>
</html>
`
}
