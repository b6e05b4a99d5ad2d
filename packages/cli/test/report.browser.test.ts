/**
 * The report as a person sees it: written to a file, opened in headless Chromium (Debian's
 * `chromium`, driven by playwright-core), checked chart by chart, screenshotted under
 * `test-output/report/` (repo root, git-ignored).
 *
 * Without Chromium the test is skipped, and says so with the command that installs it. CI (`.ci/run`)
 * sets `B3_REQUIRE_BROWSER=1`: there a missing Chromium fails the test instead of skipping it.
 */
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generateHistory, generatePortfolio } from "@b3-pipeline/core/Generate"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import type { BrowserContext, Page } from "playwright-core"
import { formatDecimalText, formatPercent } from "../src/report/Format.js"
import type { ReportLocale } from "../src/report/Format.js"
import { loadReportData, renderReport } from "../src/report/Report.js"
import type { ReportData } from "../src/report/Report.js"
import { CREATE_RAW, CREATE_REFINED, duckDbEngine, insertPortfolios } from "./report-support.js"

const CHROMIUM = "/usr/bin/chromium"
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]
const INSTALL = "bash scripts/install-chromium.sh"
const BROWSER_REQUIRED = process.env["B3_REQUIRE_BROWSER"] === "1"
const SKIP = !BROWSER_REQUIRED && !fs.existsSync(CHROMIUM)
if (SKIP) {
  console.warn(`report browser test SKIPPED: ${CHROMIUM} is missing; install Chromium with \`${INSTALL}\` (as root)`)
}
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test-output/report")

// IBOV over three weeks across the 1 September rebalance (members change), by sector;
// SMLL on one day, by ticker (segment 1: no sector data).
const history = generateHistory({
  indexCode: "IBOV" as IndexCode,
  from: "2025-08-18" as RefDate,
  to: "2025-09-05" as RefDate,
  seed: 7
})
const smll = generatePortfolio({
  indexCode: "SMLL" as IndexCode,
  refDate: "2025-09-05" as RefDate,
  segment: "1",
  seed: 7
})
const SETUP = [CREATE_REFINED, CREATE_RAW, ...insertPortfolios([...history, smll])]

const load = (options: Parameters<typeof loadReportData>[0]) =>
  Effect.runPromise(Effect.scoped(loadReportData(options).pipe(Effect.provide(duckDbEngine(SETUP)))))

/** Evaluates a JS expression in the page (a string, so this file needs no DOM typings). */
const evaluate = <A>(page: Page, expression: string): Promise<A> => page.evaluate(expression) as Promise<A>

interface Box {
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
  readonly width: number
  readonly height: number
}

const boxes = (page: Page, selector: string): Promise<Array<Box>> =>
  evaluate(
    page,
    `Array.from(document.querySelectorAll(${JSON.stringify(selector)})).map((e) => {
      const r = e.getBoundingClientRect()
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }
    })`
  )

const launch = async (): Promise<{ context: BrowserContext; userDataDir: string }> => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing (B3_REQUIRE_BROWSER=1 forbids skipping): run \`${INSTALL}\` as root, then rerun`
    )
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "b3-report-chromium-"))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1000, height: 800 },
    offline: true
  })
  return { context, userDataDir }
}

/** Opens a report file and records every request and console error. */
const open = async (context: BrowserContext, file: string) => {
  const page = await context.newPage()
  const requests: Array<string> = []
  const errors: Array<string> = []
  page.on("request", (r) => requests.push(r.url()))
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text())
  })
  page.on("pageerror", (e) => errors.push(String(e)))
  const url = pathToFileURL(file).href
  await page.goto(url, { waitUntil: "load" })
  return { page, requests, errors, url }
}

const write = (name: string, html: string): string => {
  fs.mkdirSync(OUT, { recursive: true })
  const file = path.join(OUT, name)
  fs.writeFileSync(file, html)
  return file
}

/** Every text of a chart lies inside the chart (nothing clipped off the side). */
const assertTextsInside = async (page: Page, chart: string) => {
  const [frame] = await boxes(page, `svg[data-chart="${chart}"]`)
  assert.isDefined(frame, `chart ${chart} present`)
  const texts = await boxes(page, `svg[data-chart="${chart}"] text`)
  assert.isAbove(texts.length, 0)
  for (const t of texts) {
    assert.isAbove(t.width, 0, `${chart}: a label has no width`)
    assert.isAtLeast(t.left, frame!.left - 1, `${chart}: a label sticks out left`)
    assert.isAtMost(t.right, frame!.right + 1, `${chart}: a label sticks out right`)
  }
}

const checkPage = async (context: BrowserContext, data: ReportData, locale: ReportLocale) => {
  const file = write(`report-${data.indexCode}-${locale}.html`, renderReport(data, { locale }))
  const { errors, page, requests, url } = await open(context, file)

  // no network: the document itself is the only request; no CSP violation or script error
  assert.deepStrictEqual(requests, [url])
  assert.deepStrictEqual(errors, [])

  // header
  const field = (name: string) => page.locator(`[data-field="${name}"]`).innerText()
  assert.strictEqual(await field("index"), data.indexCode)
  assert.strictEqual(await field("constituents"), String(data.constituents))
  assert.strictEqual(await field("total-quantity"), formatDecimalText(data.totalQuantity!, locale))
  assert.strictEqual(
    await field("reductor"),
    data.reductor === null ? "\u2014" : formatDecimalText(data.reductor, locale)
  )

  // top weights: 15 bars + others, each visible with its label
  const bars = page.locator(`svg[data-chart="top-weights"] rect[data-bar]`)
  const expectedBars = Math.min(15, data.members.length) + (data.members.length > 15 ? 1 : 0)
  assert.strictEqual(await bars.count(), expectedBars)
  for (const box of await boxes(page, `svg[data-chart="top-weights"] rect[data-bar]`)) {
    assert.isAbove(box.width, 0)
    assert.isAbove(box.height, 5)
  }
  const top = page.locator(`svg[data-chart="top-weights"]`)
  assert.isTrue(await top.getByText(data.members[0]!.ticker, { exact: true }).isVisible())
  assert.isTrue(await top.getByText(formatPercent(data.members[0]!.weightPct, locale), { exact: true }).isVisible())
  await assertTextsInside(page, "top-weights")

  // sectors
  if (data.sectors.length > 0) {
    assert.strictEqual(await page.locator(`svg[data-chart="sectors"] rect[data-bar]`).count(), data.sectors.length)
    assert.isTrue(
      await page.locator(`svg[data-chart="sectors"]`).getByText(data.sectors[0]!.sector!, { exact: true }).isVisible()
    )
    await assertTextsInside(page, "sectors")
  } else {
    const empty = page.locator(`[data-empty="sectors"]`)
    assert.isTrue(await empty.isVisible())
    assert.include(
      await empty.innerText(),
      locale === "pt-BR" ? "sem dados de setor (segmento 1)" : "no sector data (segment 1)"
    )
  }

  // weight over time: one series per ticker, one point per snapshot present, a visible legend
  const points = data.series.reduce((n, s) => n + s.points.length, 0)
  assert.isAbove(points, 0)
  assert.strictEqual(await page.locator(`svg[data-chart="weights-over-time"] circle[data-point]`).count(), points)
  assert.strictEqual(
    await page.locator(`svg[data-chart="weights-over-time"] g[data-series]`).count(),
    data.series.length
  )
  for (const s of data.series) {
    const item = page.locator(`li[data-legend="${s.ticker}"]`)
    assert.isTrue(await item.isVisible(), `legend ${s.ticker}`)
    assert.include(await item.innerText(), s.ticker)
  }
  for (const box of await boxes(page, `svg[data-chart="weights-over-time"] circle[data-point]`)) {
    assert.isAbove(box.width, 1)
  }
  await assertTextsInside(page, "weights-over-time")

  // entering and leaving
  if (data.comparison !== null && data.comparison.entered.length + data.comparison.left.length > 0) {
    const table = page.locator(`table[data-table="changes"]`)
    assert.isTrue(await table.isVisible())
    assert.strictEqual(await table.locator(`tr[data-row="entered"]`).count(), data.comparison.entered.length)
    assert.strictEqual(await table.locator(`tr[data-row="left"]`).count(), data.comparison.left.length)
  } else {
    assert.isTrue(await page.locator(`[data-empty="changes"]`).isVisible())
  }

  // desktop and phone screenshots; on a phone nothing overflows sideways
  await page.screenshot({ path: path.join(OUT, `report-${data.indexCode}-${locale}-desktop.png`), fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  const overflow = await evaluate<number>(page, "document.documentElement.scrollWidth - window.innerWidth")
  assert.isAtMost(overflow, 0, "the page scrolls sideways on a phone")
  await assertTextsInside(page, "top-weights")
  await page.screenshot({ path: path.join(OUT, `report-${data.indexCode}-${locale}-phone.png`), fullPage: true })
  // paper
  const pdf = await page.pdf({ format: "A4", printBackground: true })
  fs.writeFileSync(path.join(OUT, `report-${data.indexCode}-${locale}.pdf`), pdf)
  assert.isAbove(pdf.byteLength, 10_000)
  assert.deepStrictEqual(requests, [url])
  await page.close()
}

/** Dates bunched in early July then one in November: the spacing that made labels collide (`01/0711/07`). */
const irregular = (data: ReportData): ReportData => {
  const dates = [
    "2025-07-01",
    "2025-07-02",
    "2025-07-03",
    "2025-07-04",
    "2025-07-07",
    "2025-07-08",
    "2025-07-09",
    "2025-07-10",
    "2025-07-11",
    "2025-11-07"
  ] as Array<RefDate>
  return {
    ...data,
    dates,
    series: data.series.map((s) => ({
      ...s,
      points: dates.map((refDate, i) => ({ refDate, weightPct: s.points[i % s.points.length]!.weightPct }))
    }))
  }
}

/** The x-axis labels of the weight-over-time chart, measured by the browser, never overlap. */
const assertAxisLabelsApart = async (page: Page, what: string) => {
  const labels = (await boxes(page, `svg[data-chart="weights-over-time"] text[data-axis="x"]`))
    .sort((a, b) => a.left - b.left)
  assert.isAtLeast(labels.length, 2, `${what}: first and last dates are labelled`)
  for (let i = 1; i < labels.length; i++) {
    assert.isAbove(labels[i]!.left, labels[i - 1]!.right, `${what}: x-axis labels ${i - 1} and ${i} overlap`)
  }
  await assertTextsInside(page, "weights-over-time")
}

describe("report in a browser", () => {
  it.skipIf(SKIP)(
    "x-axis labels never overlap, on a phone and on a desktop, and headings follow the locale",
    async () => {
      const ibov = await load({})
      const { context, userDataDir } = await launch()
      try {
        for (const locale of ["pt-BR", "en-US"] as const) {
          for (const [name, data] of [["regular", ibov], ["irregular", irregular(ibov)]] as const) {
            const file = write(`axis-${name}-${locale}.html`, renderReport(data, { locale }))
            const { page } = await open(context, file)
            for (const width of [1000, 390, 320]) {
              await page.setViewportSize({ width, height: 900 })
              await assertAxisLabelsApart(page, `${name} ${locale} at ${width}px`)
            }
            const headings = await page.locator("h2").allInnerTexts()
            assert.deepStrictEqual(
              headings,
              locale === "pt-BR" ?
                [
                  "Maiores participações",
                  "Participação por setor",
                  "Participação ao longo do tempo",
                  "Entradas e saídas"
                ] :
                ["Top weights", "Weight by sector", "Weight over time", "Entering and leaving"]
            )
            await page.screenshot({ path: path.join(OUT, `axis-${name}-${locale}-phone.png`) })
            await page.close()
          }
        }
      } finally {
        await context.close()
        fs.rmSync(userDataDir, { recursive: true, force: true })
      }
    }
  )

  it.skipIf(SKIP)(
    `renders every chart in Chromium, offline, on desktop, phone and paper (needs: ${INSTALL})`,
    async () => {
      const ibov = await load({ compareDate: "2025-08-29" as RefDate })
      // the generated history rebalances on 1 September: some members entered or left
      assert.isNotNull(ibov.comparison)
      assert.isAbove(ibov.comparison!.entered.length + ibov.comparison!.left.length, 0)
      assert.isAbove(ibov.members.length, 15)
      const smllData = await load({ indexCode: "SMLL" as IndexCode })
      assert.deepStrictEqual(smllData.sectors, [])

      const { context, userDataDir } = await launch()
      try {
        await checkPage(context, ibov, "pt-BR")
        await checkPage(context, ibov, "en-US")
        await checkPage(context, smllData, "pt-BR")
      } finally {
        await context.close()
        fs.rmSync(userDataDir, { recursive: true, force: true })
      }
    }
  )
})
