/**
 * Deterministic, realistic portfolios for tests, the B3 simulator, benchmarks and the offline demo.
 *
 * Same options, same portfolio. The membership of an index (tickers, names, types, sectors,
 * theoretical quantities) is drawn once per four-month period (B3 rebalances in January, May and
 * September); the weights drift from day to day. So a run of consecutive days looks like an archive
 * of real "Carteira do Dia" payloads.
 *
 * @since 0.1.0
 */
import type { IndexCode, Language, Portfolio, RefDate, Segment, SourceFormat, Ticker } from "./Domain.js"
import { epochDay, fromEpochDay } from "./Domain.js"

/** @category generators */
export interface GenerateOptions {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  /** Members; default realistic per index (IBOV ~85, IBRA ~180). At most 100000 (each weight is >= 0.001%). */
  readonly size?: number
  /** `"2"` (rows carry sectors, the default) or `"1"` (sectors null). Forced to `"1"` for GetTheoricalPortfolio. */
  readonly segment?: Segment
  readonly seed?: number
  /** Recorded in the portfolio; default `"pt-br"`. */
  readonly language?: Language
  /** Recorded in the portfolio; default `"GetPortfolioDay"`. */
  readonly format?: SourceFormat
}

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/** FNV-1a over the UTF-16 code units of `s`. */
const hashString = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; returns floats in [0, 1). */
const mulberry32 = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const rngFor = (...parts: ReadonlyArray<string | number>): () => number => mulberry32(hashString(parts.join("|")))

const intIn = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1))
const pick = <A>(rng: () => number, xs: ReadonlyArray<A>): A => {
  const x = xs[Math.floor(rng() * xs.length)]
  if (x === undefined) throw new RangeError("pick: an empty list")
  return x
}

// ---------------------------------------------------------------------------------------------
// Pools (real-looking B3 roots, names, sectors and types)
// ---------------------------------------------------------------------------------------------

const STOCK_ROOTS: ReadonlyArray<readonly [string, string]> = (
  "PETR:PETROBRAS VALE:VALE ITUB:ITAUUNIBANCO BBDC:BRADESCO BBAS:BRASIL ABEV:AMBEV S/A B3SA:B3 WEGE:WEG " +
  "BPAC:BTGP BANCO ITSA:ITAUSA SUZB:SUZANO S.A. RENT:LOCALIZA EQTL:EQUATORIAL RADL:RAIADROGASIL " +
  "JBSS:JBS PRIO:PETRORIO GGBR:GERDAU RDOR:REDE D OR VIVT:TELEF BRASIL ELET:ELETROBRAS SBSP:SABESP " +
  "RAIL:RUMO S.A. BBSE:BBSEGURIDADE CSAN:COSAN EMBR:EMBRAER HAPV:HAPVIDA KLBN:KLABIN S/A CMIG:CEMIG " +
  "UGPA:ULTRAPAR LREN:LOJAS RENNER TIMS:TIM CPLE:COPEL SANB:SANTANDER BR ENEV:ENEVA CCRO:CCR SA " +
  "TOTS:TOTVS ASAI:ASSAI VBBR:VIBRA HYPE:HYPERA ENGI:ENERGISA EGIE:ENGIE BRASIL NTCO:GRUPO NATURA " +
  "CMIN:CSNMINERACAO BRFS:BRF SA CSNA:SID NACIONAL MULT:MULTIPLAN TAEE:TAESA CPFE:CPFL ENERGIA " +
  "GOAU:GERDAU MET SMTO:SAO MARTINHO MGLU:MAGAZ LUIZA ALOS:ALLOS CYRE:CYRELA REALT BRAV:BRAVA " +
  "RECV:PETRORECSA AZZA:AZZAS 2154 CRFB:CARREFOUR BR USIM:USIMINAS COGN:COGNA ON YDUQ:YDUQS PART " +
  "MRFG:MARFRIG BEEF:MINERVA DIRR:DIRECIONAL CVCB:CVC BRASIL PCAR:P.ACUCAR-CBD AZUL:AZUL GOLL:GOL " +
  "POMO:MARCOPOLO STBP:SANTOS BRP ISAE:ISA ENERGIA SLCE:SLC AGRICOLA IGTI:IGUATEMI S.A VAMO:VAMOS " +
  "SMFT:SMART FIT AURE:AUREN MRVE:MRV EZTC:EZTEC FLRY:FLEURY ODPV:ODONTOPREV PSSA:PORTO SEGURO " +
  "CXSE:CAIXA SEGURI IRBR:IRBRASIL RE BRAP:BRADESPAR ALUP:ALUPAR SAPR:SANEPAR CSMG:COPASA ECOR:ECORODOVIAS " +
  "ARZZ:AREZZO CO SOMA:GRUPO SOMA PETZ:PETZ VIVA:VIVARA S.A. GRND:GRENDENE LEVE:METAL LEVE TUPY:TUPY " +
  "RAPT:RANDON PART FRAS:FRAS-LE POSI:POSITIVO TEC LWSA:LOCAWEB CASH:MELIUZ INTB:INTELBRAS " +
  "MOVI:MOVIDA SIMH:SIMPAR JHSF:JHSF PART EVEN:EVEN TEND:TENDA CURY:CURY S/A PLPL:PLANOEPLANO " +
  "BEES:BANESTES BRSR:BANRISUL ABCB:ABC BRASIL BMGB:BANCO BMG PINE:PINE MDIA:M.DIASBRANCO " +
  "CAML:CAMIL AGRO:BRASILAGRO TTEN:3TENTOS RANI:IRANI DXCO:DEXCO UNIP:UNIPAR KEPL:KEPLER WEBER " +
  "SHUL:SCHULZ ROMI:INDS ROMI MYPK:IOCHP-MAXION ANIM:ANIMA SEER:SER EDUCA QUAL:QUALICORP MATD:MATER DEI " +
  "ONCO:ONCOCLINICAS PGMN:PAGUE MENOS PNVL:DIMED BLAU:BLAU GMAT:GRUPO MATEUS LJQQ:QUERO-QUERO " +
  "ALPA:ALPARGATAS CEAB:C&A MODAS GUAR:GUARARAPES TRIS:TRISUL LAVV:LAVVI MDNE:MOURA DUBEUX"
).split(/ (?=[A-Z0-9]{4}:)/).map((s) => {
  const i = s.indexOf(":")
  return [s.slice(0, i), s.slice(i + 1)] as const
})

const FUND_ROOTS: ReadonlyArray<readonly [string, string]> = (
  "KNRI:FII KINEA RI HGLG:FII CSHG LOG XPML:FII XP MALLS MXRF:FII MAXI REN KNCR:FII KINEA CR " +
  "VISC:FII VINCI SC BTLG:FII BTLG HGRU:FII CSHG URB XPLG:FII XP LOG VILG:FII VINCI LG " +
  "HGBS:FII HEDGEBS IRDM:FII IRIDIUM RBRR:FII RBR REND KNIP:FII KINEA IP PVBI:FII VBI PRI " +
  "HCTR:FII HECTARE BCFF:FII BC FFII RECR:FII REC RECE VGIR:FII VG IRB CPTS:FII CAPI SEC " +
  "HGRE:FII CSHG REAL JSRE:FII JS REAL ALZR:FII ALIANZA TRXF:FII TRX REAL GGRC:FII GGR COVE " +
  "LVBI:FII VBI LOG BRCO:FII BRESCO RBRF:FII RBR ALPH TGAR:FII TG ATIVO KNSC:FII KINEA SC " +
  "MCCI:FII MAUA VINO:FII VINCI OF RZTR:FII RIZA TX HSML:FII HSI MALL GARE:FII GUARDIAN"
).split(/ (?=[A-Z0-9]{4}:)/).map((s) => {
  const i = s.indexOf(":")
  return [s.slice(0, i), s.slice(i + 1)] as const
})

const BDR_ROOTS: ReadonlyArray<readonly [string, string]> = (
  "AAPL:APPLE MSFT:MICROSOFT AMZO:AMAZON GOGL:ALPHABET TSLA:TESLA INC M1TA:META PLATFORM NVDC:NVIDIA " +
  "NFLX:NETFLIX JPMC:JPMORGAN COCA:COCA COLA PEPB:PEPSICO INC DISB:DISNEY MCDC:MCDONALDS NIKE:NIKE " +
  "BERK:BERKSHIRE VISA:VISA INC MSCD:MASTERCARD PFIZ:PFIZER JNJB:JOHNSON WALM:WALMART"
).split(/ (?=[A-Z0-9]{4}:)/).map((s) => {
  const i = s.indexOf(":")
  return [s.slice(0, i), s.slice(i + 1)] as const
})

const STOCK_SECTORS: ReadonlyArray<string> = [
  "Bens Indls / Mat Transporte",
  "Bens Indls / Máqs e Equips",
  "Bens Indls/Transporte",
  "Cons N  Básico / Alimentos Processados",
  "Cons N Ciclico/Agropecuária",
  "Cons N Cíclico / Bebidas",
  "Cons N Cíclico / Comércio Distr.",
  "Cons N Cíclico / Pr Pessoal Limp",
  "Consumo Cíclico / Comércio",
  "Consumo Cíclico / Tecid Vest Calç",
  "Consumo Cíclico/Autos e Motos",
  "Consumo Cíclico/Constr Civil",
  "Consumo Cíclico/Viagens e Lazer",
  "Diversos",
  "Financ e Outros / Explor Imóveis",
  "Financ e Outros / Holdings Divers",
  "Financ e Outros / Interms Financs",
  "Financ e Outros / Previd  Seguros",
  "Financeiro e Outros/Serviços Financeiros Diversos",
  "Mats Básicos / Madeira e Papel",
  "Mats Básicos / Mineração",
  "Mats Básicos / Químicos",
  "Mats Básicos / Sid Metalurgia",
  "Petróleo, Gás e Biocombustíveis",
  "Saúde/Comércio Distr.",
  "Saúde/SM Hosp An.Diag",
  "Tec.Informação/Programas Servs",
  "Telecomunicação",
  "Utilidade Públ / Energ Elétrica",
  "Utilidade Públ / Água Saneamento"
]

const FUND_SECTORS: ReadonlyArray<string> = [
  "Títulos e Val. Mob.",
  "Lajes Corporativas",
  "Logística",
  "Shoppings",
  "Híbrido",
  "Fundo de Fundos",
  "Renda Urbana",
  "Agronegócio"
]

const BDR_SECTORS: ReadonlyArray<string> = [
  "Tecnologia da Informação",
  "Consumo Cíclico",
  "Consumo não Cíclico",
  "Financeiro",
  "Saúde",
  "Comunicações"
]

/** B3's fixed-width type: class padded to 4, event flag padded to 4, listing segment; trailing blanks cut. */
const fixedType = (cls: string, flag: string, listing: string): string =>
  (cls.padEnd(4) + flag.padEnd(4) + listing).trimEnd()

const EVENT_FLAGS: ReadonlyArray<string> = ["ED", "EJ", "EDJ", "EX", "ATZ", "EB", "EDR"]
const LISTINGS: ReadonlyArray<string> = ["NM", "NM", "NM", "NM", "N1", "N2", ""]

type Kind = "stock" | "fund" | "bdr"

const kindOf = (index: IndexCode): Kind =>
  index === "IFIX" || index === "IFIL" ? "fund" : index === "BDRX" ? "bdr" : "stock"

const defaultSize = (index: IndexCode, rng: () => number): number => {
  switch (index) {
    case "IBOV":
      return intIn(rng, 82, 88)
    case "IBRA":
      return intIn(rng, 175, 185)
    case "IBXX":
      return 100
    case "IBXL":
      return 50
    case "SMLL":
      return intIn(rng, 95, 105)
    case "IDIV":
      return intIn(rng, 37, 43)
    case "IFIX":
      return intIn(rng, 105, 115)
    default:
      return 20 + (hashString(index) % 81)
  }
}

const SYNTH_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
const SYNTH_SUFFIX = ["PART", "S.A.", "HOLDING", "ENERGIA", "CIA", "BRASIL", "GRUPO"]

interface Member {
  readonly ticker: string
  readonly asset: string
  readonly type: string
  readonly sector: string
  readonly quantity: bigint
}

/** Draws the membership of an index for one four-month period. */
const drawMembers = (index: IndexCode, period: string, seed: number, size: number): Array<Member> => {
  const rng = rngFor("members", index, period, seed)
  const kind = kindOf(index)
  const pool = kind === "fund" ? FUND_ROOTS : kind === "bdr" ? BDR_ROOTS : STOCK_ROOTS
  const sectors = kind === "fund" ? FUND_SECTORS : kind === "bdr" ? BDR_SECTORS : STOCK_SECTORS
  // Shuffle the pool (Fisher-Yates), then append synthetic roots as needed.
  const roots = pool.slice()
  for (let i = roots.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const a = roots[i]
    const b = roots[j]
    if (a !== undefined && b !== undefined) {
      roots[i] = b
      roots[j] = a
    }
  }
  const used = new Set<string>()
  const rootSector = new Map<string, string>()
  const out: Array<Member> = []
  let r = 0
  const nextRoot = (): readonly [string, string] => {
    const listed = roots[r]
    if (listed !== undefined) {
      r++
      return listed
    }
    for (;;) {
      let root = ""
      for (let k = 0; k < 4; k++) root += SYNTH_LETTERS[Math.floor(rng() * 26)]
      if (!used.has(root + "3") && !used.has(root + "11") && !used.has(root + "34") && !rootSector.has(root)) {
        return [root, `${root} ${pick(rng, SYNTH_SUFFIX)}`]
      }
    }
  }
  while (out.length < size) {
    const [root, asset] = nextRoot()
    const sector = rootSector.get(root) ?? pick(rng, sectors)
    rootSector.set(root, sector)
    const listing = pick(rng, LISTINGS)
    const flag = rng() < 0.12 ? pick(rng, EVENT_FLAGS) : ""
    let classes: ReadonlyArray<readonly [string, string]>
    if (kind === "fund") {
      classes = [["11", pick(rng, ["CI", "CI  ER", "CI  ER", "CI  ES", "CI  EJ"])]]
    } else if (kind === "bdr") {
      classes = [[pick(rng, ["34", "34", "35", "39"]), pick(rng, ["DRN", "DRN", "DR3", "DRN ED"])]]
    } else {
      const u = rng()
      if (u < 0.5) classes = [["3", fixedType("ON", flag, listing)]]
      else if (u < 0.65) classes = [["4", fixedType("PN", flag, listing === "NM" ? "N1" : listing)]]
      else if (u < 0.75) classes = [["11", fixedType("UNT", flag, listing === "NM" ? "N2" : listing)]]
      else if (u < 0.8) classes = [["5", fixedType("PNA", flag, "N1")], ["6", fixedType("PNB", flag, "N1")]]
      else if (u < 0.85) classes = [["6", fixedType("PNB", flag, listing === "NM" ? "N2" : listing)]]
      else classes = [["3", fixedType("ON", flag, "N1")], ["4", fixedType("PN", flag, "N1")]]
    }
    for (const [cls, type] of classes) {
      const ticker = root + cls
      if (out.length >= size || used.has(ticker)) continue
      used.add(ticker)
      // Log-uniform between 5e6 and 1.2e10: many above 2^31.
      const quantity = BigInt(Math.floor(Math.exp(Math.log(5e6) + rng() * (Math.log(1.2e10) - Math.log(5e6)))))
      out.push({ ticker, asset, type, sector, quantity })
    }
  }
  return out
}

/** Largest-remainder apportionment of `total` over positive `raw` shares, each part at least 1. */
const apportion = (raw: ReadonlyArray<number>, total: number): Int32Array => {
  const n = raw.length
  const out = new Int32Array(n)
  const free = total - n
  let sum = 0
  for (const x of raw) sum += x
  const rema: Array<[number, number]> = new Array(n)
  let given = 0
  raw.forEach((x, i) => {
    const exact = (x / sum) * free
    const fl = Math.floor(exact)
    out[i] = 1 + fl
    given += fl
    rema[i] = [exact - fl, i]
  })
  rema.sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let k = 0; k < free - given; k++) {
    const i = rema[k % n]?.[1]
    if (i !== undefined) out[i] = (out[i] ?? 0) + 1
  }
  return out
}

const periodOf = (d: RefDate): string => {
  const m = Number(d.slice(5, 7))
  return `${d.slice(0, 4)}Q${m <= 4 ? 1 : m <= 8 ? 2 : 3}`
}

/**
 * A portfolio that satisfies every invariant the decoders check (weights sum to 100.000 exactly,
 * quantities sum to the total, sector sums consistent, unique valid tickers). Same options, same
 * portfolio.
 *
 * @category generators
 */
export const generatePortfolio = (options: GenerateOptions): Portfolio => {
  const seed = options.seed ?? 0
  const index = options.indexCode
  const period = periodOf(options.refDate)
  const format = options.format ?? "GetPortfolioDay"
  const segment: Segment = format === "GetTheoricalPortfolio" ? "1" : options.segment ?? "2"
  const size = options.size ?? defaultSize(index, rngFor("size", index, period, seed))
  if (!Number.isInteger(size) || size < 1 || size > 100_000) {
    throw new RangeError(`generatePortfolio: size must be an integer in 1..100000, got ${size}`)
  }
  const members = drawMembers(index, period, seed, size)
  // Order like B3: by sector (segment 2), by trading name then ticker otherwise (tickers are unique:
  // a total order).
  const byName = (x: Member, y: Member) =>
    x.asset < y.asset ? -1 : x.asset > y.asset ? 1 : x.ticker < y.ticker ? -1 : x.ticker > y.ticker ? 1 : 0
  const order = members.slice().sort(
    segment === "2"
      ? (x, y) => (x.sector < y.sector ? -1 : x.sector > y.sector ? 1 : byName(x, y))
      : byName
  )
  // Weights: a stable heavy-tailed base per member, with a small daily drift.
  const day = rngFor("day", index, options.refDate, seed)
  const base = rngFor("base", index, period, seed)
  const raw = order.map(() => Math.exp(2.2 * (base() + base() + base() - 1.5)) * (0.97 + 0.06 * day()))
  const weights = apportion(raw, 100_000)
  const quantities = new BigInt64Array(size)
  let total = 0n
  order.forEach(({ quantity }, k) => {
    quantities[k] = quantity
    total += quantity
  })
  const reductor = BigInt(12_000_000 + Math.floor(day() * 8_000_000)) * 100_000_000n +
    BigInt(Math.floor(day() * 100_000_000))
  return {
    indexCode: index,
    refDate: options.refDate,
    language: options.language ?? "pt-br",
    format,
    segment,
    size,
    tickers: order.map((m) => m.ticker as Ticker),
    assets: order.map((m) => m.asset),
    types: order.map((m) => m.type),
    sectors: order.map((m) => segment === "2" ? m.sector : null),
    weights,
    quantities,
    totalQuantity: total,
    reductor
  }
}

/** @category generators */
export interface HistoryOptions extends Omit<GenerateOptions, "refDate"> {
  /** First day (included). */
  readonly from: RefDate
  /** Last day (included). */
  readonly to: RefDate
}

/**
 * The trading days (Monday to Friday; B3 holidays are not modelled) from `from` to `to`.
 *
 * @category generators
 */
export const tradingDays = (from: RefDate, to: RefDate): Array<RefDate> => {
  const out: Array<RefDate> = []
  for (let d = epochDay(from); d <= epochDay(to); d++) {
    const dow = (d + 4) % 7 // 1970-01-01 was a Thursday; 0 = Sunday
    if (dow !== 0 && dow !== 6) out.push(fromEpochDay(d))
  }
  return out
}

/**
 * One portfolio per trading day from `from` to `to`: membership stable within each four-month
 * period, weights drifting daily.
 *
 * @category generators
 */
export const generateHistory = (options: HistoryOptions): Array<Portfolio> =>
  tradingDays(options.from, options.to).map((refDate) => generatePortfolio({ ...options, refDate }))
