/**
 * Every word of the report in each locale: `--locale pt-BR` (the default: our users are Brazilian)
 * is Portuguese, with B3's own terms (Carteira do Dia, Redutor, Qtde. Teórica); `en-US` is English.
 *
 * @since 0.1.0
 */
import type { ReportLocale } from "./Format.js"

/** @category models */
export interface ReportText {
  readonly title: (index: string, date: string) => string
  readonly subtitle: string
  readonly index: string
  readonly date: string
  readonly constituents: string
  readonly totalQuantity: string
  readonly reductor: string
  readonly weightSum: string
  readonly topWeights: string
  readonly topWeightsOf: (n: number, index: string, date: string) => string
  readonly others: (n: string) => string
  readonly otherConstituents: (n: string) => string
  readonly noConstituents: string
  readonly bySector: string
  readonly bySectorOf: (index: string, date: string) => string
  readonly noSector: string
  readonly sectorMembers: (sector: string, n: string, one: boolean) => string
  readonly noSectorData: string
  readonly overTime: string
  readonly overTimeOf: (tickers: string) => string
  readonly noSnapshotUpTo: (date: string) => string
  readonly noTicker: string
  readonly snapshots: (n: string, one: boolean, from: string, to: string) => string
  readonly changes: string
  readonly onlyOneSnapshot: (index: string, date: string) => string
  readonly noChange: (from: string, to: string) => string
  readonly changeCaption: (from: string, to: string, entered: string, left: string) => string
  readonly change: string
  readonly ticker: string
  readonly company: string
  readonly weight: string
  readonly entered: string
  readonly left: string
  readonly allConstituents: (n: string) => string
  readonly shareClass: string
  readonly sector: string
  readonly theoreticalQty: string
  readonly source: string
  readonly generated: (at: string) => string
}

const ptBR: ReportText = {
  title: (index, date) => `Carteira do ${index}, ${date}`,
  subtitle: "Carteira do Dia de um índice da B3, do warehouse do b3-pipeline",
  index: "Índice",
  date: "Data",
  constituents: "Ativos",
  totalQuantity: "Qtde. teórica total",
  reductor: "Redutor",
  weightSum: "Soma das participações",
  topWeights: "Maiores participações",
  topWeightsOf: (n, index, date) => `As ${n} maiores participações do ${index} em ${date}`,
  others: (n) => `outros (${n})`,
  otherConstituents: (n) => `${n} outros ativos`,
  noConstituents: "nenhum ativo nesta data",
  bySector: "Participação por setor",
  bySectorOf: (index, date) => `Participação por setor do ${index} em ${date}`,
  noSector: "(sem setor)",
  sectorMembers: (sector, n, one) => `${sector}, ${n} ${one ? "ativo" : "ativos"}`,
  noSectorData: "sem dados de setor (segmento 1): esta carteira foi obtida por ativo; " +
    "obtenha a carteira por setor (segmento 2) para ver as participações por setor",
  overTime: "Participação ao longo do tempo",
  overTimeOf: (tickers) => `Participação ao longo do tempo de ${tickers}`,
  noSnapshotUpTo: (date) => `(nenhuma carteira até ${date})`,
  noTicker: "nenhum ativo escolhido",
  snapshots: (n, one, from, to) => `${n} ${one ? "carteira" : "carteiras"} de ${from} a ${to}`,
  changes: "Entradas e saídas",
  onlyOneSnapshot: (index, date) => `só há uma carteira do ${index} até ${date}: nada a comparar`,
  noChange: (from, to) => `nenhum ativo entrou ou saiu entre ${from} e ${to}`,
  changeCaption: (from, to, entered, left) =>
    `${from} \u2192 ${to}: ${entered} entraram, ${left} saíram (participação na data em que o ativo estava na carteira)`,
  change: "Mudança",
  ticker: "Código",
  company: "Ação",
  weight: "Part. (%)",
  entered: "entrou",
  left: "saiu",
  allConstituents: (n) => `Todos os ${n} ativos`,
  shareClass: "Tipo",
  sector: "Setor",
  theoreticalQty: "Qtde. teórica",
  source:
    "Fonte: B3 (Brasil, Bolsa, Balc\u00e3o), carteiras diárias dos índices; tabelas b3_portfolio_refined e b3_portfolio_raw.",
  generated: (at) => `Gerado em ${at}.`
}

const enUS: ReportText = {
  title: (index, date) => `${index} portfolio, ${date}`,
  subtitle: "B3 index portfolio (Carteira do Dia) from the b3-pipeline warehouse",
  index: "Index",
  date: "Date",
  constituents: "Constituents",
  totalQuantity: "Total quantity",
  reductor: "Reductor",
  weightSum: "Sum of weights",
  topWeights: "Top weights",
  topWeightsOf: (n, index, date) => `Top ${n} weights of ${index} on ${date}`,
  others: (n) => `others (${n})`,
  otherConstituents: (n) => `${n} other constituents`,
  noConstituents: "no constituents on this date",
  bySector: "Weight by sector",
  bySectorOf: (index, date) => `Weight by sector of ${index} on ${date}`,
  noSector: "(no sector)",
  sectorMembers: (sector, n, one) => `${sector}, ${n} constituent${one ? "" : "s"}`,
  noSectorData: "no sector data (segment 1): this snapshot was ingested by ticker; " +
    "ingest the by-sector portfolio (segment 2) to see weights by sector",
  overTime: "Weight over time",
  overTimeOf: (tickers) => `Weight over time of ${tickers}`,
  noSnapshotUpTo: (date) => `(no snapshot up to ${date})`,
  noTicker: "no ticker chosen",
  snapshots: (n, one, from, to) => `${n} snapshot${one ? "" : "s"} from ${from} to ${to}`,
  changes: "Entering and leaving",
  onlyOneSnapshot: (index, date) => `only one snapshot of ${index} up to ${date}: nothing to compare`,
  noChange: (from, to) => `no constituent entered or left between ${from} and ${to}`,
  changeCaption: (from, to, entered, left) =>
    `${from} \u2192 ${to}: ${entered} entered, ${left} left (weight on the date the ticker was present)`,
  change: "Change",
  ticker: "Ticker",
  company: "Company",
  weight: "Weight",
  entered: "entered",
  left: "left",
  allConstituents: (n) => `All ${n} constituents`,
  shareClass: "Class",
  sector: "Sector",
  theoreticalQty: "Theoretical quantity",
  source:
    "Source: B3 (Brasil, Bolsa, Balc\u00e3o) daily index portfolios, tables b3_portfolio_refined and b3_portfolio_raw.",
  generated: (at) => `Generated ${at}.`
}

/** The report's words in a locale. @category text */
export const textFor = (locale: ReportLocale): ReportText => locale === "pt-BR" ? ptBR : enUS
