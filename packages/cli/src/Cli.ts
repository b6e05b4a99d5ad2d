/**
 * The `b3` command line: a thin shell over core's `Pipeline`. Commands pick a target (local
 * warehouse or AWS) through `Env`, and only ever talk to ports.
 *
 * @since 0.1.0
 */
import type { Language } from "@b3-pipeline/core/Domain"
import { ALL_INDEX_CODES, IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import type { FetchMethod } from "@b3-pipeline/core/PortfolioSource"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { BatchSummary } from "./Batch.js"
import * as QueryCommand from "./commands/query.js"
import * as ReportCommand from "./commands/report.js"
import * as Env from "./Env.js"
import type { FileOptions } from "./Files.js"
import * as Globals from "./Globals.js"
import * as Help from "./Help.js"
import type * as Output from "./Output.js"
import * as Stdio from "./Stdio.js"
import { decodeOptional, decodeWith, UsageError } from "./Usage.js"

export { SqlFileError } from "./commands/query.js"
export { UsageError } from "./Usage.js"

// Each command loads what it runs on first use (a dynamic import per handler), so that `b3 --help`,
// `b3 --version` and usage errors never load DuckDB, the AWS SDK, the HTTP client or the report.
// A module of the command itself that fails to load is a broken installation: a defect.
const load = <A>(f: () => Promise<A>): Effect.Effect<A> => Effect.promise(f)

// ---------------------------------------------------------------------------------------------
// Shared options
// ---------------------------------------------------------------------------------------------

const optionalRefDate = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

const languageOption = Options.choice("language", ["pt-br", "en-us"]).pipe(
  Options.withDescription("Payload language (default: detected from the payload; B3 answers pt-br by default)"),
  Options.optional
)

const allowUnknownIndex = Options.boolean("allow-unknown-index").pipe(
  Options.withDescription(
    "Accept an index code outside B3's list (a new index); without it such a payload is quarantined (UnknownIndex)"
  )
)
const maxPayloadMb = Options.integer("max-payload-mb").pipe(
  Options.withDescription(
    "Largest payload file accepted, in MiB (default 64; real ones are under 0.1); a larger file is quarantined by streaming, never loaded"
  ),
  Options.withDefault(64)
)
const limits = (o: { readonly allowUnknownIndex: boolean; readonly maxPayloadMb: number }) => ({
  allowUnknownIndex: o.allowUnknownIndex,
  maxPayloadBytes: Math.max(1, o.maxPayloadMb) * 1024 * 1024
})

const parseIndexList = (text: string) =>
  Effect.forEach(
    text.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== ""),
    decodeWith(IndexCode, "index code")
  )

const optionalDate = (o: Option.Option<string>) => decodeOptional(o, decodeWith(RefDate, "date (want YYYY-MM-DD)"))

/** The root command: its options are read by every subcommand. */
const b3 = Command.make("b3", Globals.options).pipe(
  Command.withDescription(
    "B3 index portfolios (Carteira do Dia) into a lakehouse you query with SQL. Stages: fetch -> parse -> raw -> refine -> query."
  )
)

/**
 * Runs a command's handler on its target. `access` says whether the command only reads the local
 * warehouse (it must exist) or may create it (`Globals.ensureWarehouse`). The handler prints
 * through the plain console (`Stdio`), not the help-cleaning one.
 */
const withTarget = <A, E, R>(
  sub: Globals.Values,
  access: Globals.Access,
  f: (env: { target: Env.Target; warehouse: string }) => Effect.Effect<A, E, R>
) => onTarget(sub, access, Env.layer, f)

/** `withTarget` with the services `layer` builds (`b3 query`: the query engine alone). */
const onTarget = <A, E, R, ROut, LE>(
  sub: Globals.Values,
  access: Globals.Access,
  layer: (target: Env.Target, warehouse: string) => Layer.Layer<ROut, LE>,
  f: (env: { target: Env.Target; warehouse: string }) => Effect.Effect<A, E, R>
) =>
  Effect.flatMap(b3, (root) => {
    const given = Globals.resolve(root, sub)
    const env = { target: given.target, warehouse: Env.resolveWarehouse(given.warehouse) }
    return Stdio.withPlainConsole(Effect.zipRight(
      env.target === "local" ? Globals.ensureWarehouse(env.warehouse, access) : Effect.void,
      f(env).pipe(Effect.provide(layer(env.target, env.warehouse)))
    ))
  })

const noWait = Options.boolean("no-wait").pipe(
  Options.withDescription("If another b3 process is writing this warehouse, fail at once (exit 1) instead of waiting")
)

/**
 * A command that writes: under the target's writer lock (another writer waits, or fails with
 * --no-wait), which also removes what a killed writer left behind.
 */
const withWriter = <A, E, R>(
  command: string,
  sub: Globals.Values & { readonly noWait: boolean },
  access: Globals.Access,
  f: (env: { target: Env.Target; warehouse: string }) => Effect.Effect<A, E, R>,
  options: { readonly clean?: boolean } = {}
) =>
  withTarget(sub, access, (env) =>
    Effect.scoped(
      Effect.flatMap(
        Env.Refresher,
        (r) => Effect.zipRight(r.exclusive(`b3 ${command}`, { wait: !sub.noWait, ...options }), f(env))
      )
    ))

const finish = (summary: BatchSummary) =>
  Effect.flatMap(Effect.zip(Env.Refresher, load(() => import("./Batch.js"))), ([r, Batch]) =>
    Effect.zipRight(
      Stdio.out(Batch.formatSummary(summary, r.description)),
      Batch.succeeded(summary) ? Effect.void : Stdio.exitWith(1)
    ))

// ---------------------------------------------------------------------------------------------
// b3 run
// ---------------------------------------------------------------------------------------------

const run = Command.make("run", {
  ...Globals.options,
  index: Options.text("index").pipe(
    Options.withDescription("Comma-separated index codes (default IBOV), e.g. --index IBOV,IBXX,SMLL"),
    Options.optional
  ),
  all: Options.boolean("all").pipe(Options.withDescription(`All ${ALL_INDEX_CODES.length} index codes B3 serves`)),
  source: Options.choice("source", ["b3", "simulated"]).pipe(
    Options.withDescription(
      "b3: B3's live API (default), or the server at $B3_BASE_URL when set (a mirror, a proxy, recorded answers); simulated: a B3 simulator on 127.0.0.1 (offline demo, same HTTP code)"
    ),
    Options.withDefault("b3" as const)
  ),
  method: Options.choice("method", ["GetPortfolioDay", "GetDownloadPortfolioDay", "GetTheoricalPortfolio"]).pipe(
    Options.withDescription(
      "B3 method (default GetPortfolioDay, falling back to the CSV download when it keeps failing)"
    ),
    Options.withDefault("GetPortfolioDay" as FetchMethod)
  ),
  segment: Options.choice("segment", ["1", "2"]).pipe(
    Options.withDescription("2: rows grouped by sector (default, same rows plus the sector); 1: by ticker"),
    Options.withDefault("2" as const)
  ),
  language: languageOption,
  date: optionalRefDate(
    "date",
    "GetTheoricalPortfolio only: the date to file it under; --source simulated: the simulated day"
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription("Indices fetched at once (default 2: B3 is a shared public service)"),
    Options.withDefault(2)
  ),
  allowUnknownIndex,
  noWait
}, (o) =>
  withWriter("run", o, "write", () =>
    Effect.gen(function*() {
      if (o.all && Option.isSome(o.index)) return yield* new UsageError({ detail: "use --index or --all, not both" })
      const codes = o.all ? ALL_INDEX_CODES : yield* parseIndexList(Option.getOrElse(o.index, () => "IBOV"))
      const refDate = yield* optionalDate(o.date)
      const language = Option.getOrElse(o.language, () => "pt-br" as const)
      const [Simulator, B3HttpSource, NodeHttpClient, Pipeline, { request }, { runBatch }] = yield* load(() =>
        Promise.all([
          import("@b3-pipeline/b3-simulator/Simulator"),
          import("@b3-pipeline/core/B3HttpSource"),
          import("@effect/platform-node/NodeHttpClient"),
          import("@b3-pipeline/core/Pipeline"),
          import("@b3-pipeline/core/PortfolioSource"),
          import("./Batch.js")
        ])
      )
      const sim = o.source === "simulated" ?
        yield* Simulator.start(refDate !== undefined ? { today: refDate } : {}) :
        undefined
      // One HTTP client and source for the whole batch (built once in this scope, shared by every index).
      // --source b3 reads B3_BASE_URL (and the other B3_* settings of B3HttpSource.config) like the Lambda.
      const source = yield* Layer.build(
        (sim !== undefined ?
          B3HttpSource.layer({ baseUrl: sim.url, origin: "simulated", politeDelay: "0 millis" }) :
          B3HttpSource.layerConfig(B3HttpSource.config)).pipe(Layer.provide(NodeHttpClient.layerUndici))
      )
      if (sim !== undefined) yield* Stdio.err(`B3 simulator serving ${sim.today} at ${sim.url}\n`)
      else if ((process.env["B3_BASE_URL"] ?? "") !== "") {
        yield* Stdio.err(`B3 API at ${process.env["B3_BASE_URL"]} (B3_BASE_URL)\n`)
      }
      const items = codes.map((code) => ({
        label: code,
        ingest: Pipeline.ingest(request(code, { method: o.method, language, segment: o.segment }), {
          allowUnknownIndex: o.allowUnknownIndex
        }).pipe(
          Effect.provide(source)
        )
      }))
      const summary = yield* runBatch("run", items, { concurrency: o.concurrency, progress: true })
      yield* finish(summary)
    }).pipe(Effect.scoped))).pipe(
    Command.withDescription(
      "The main job: fetch the day's portfolio of each index -> parse -> write raw -> refine -> catalog, then a summary. Environment: B3_BASE_URL (B3's API root, default https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall), B3_PAGE_SIZE, B3_REQUEST_TIMEOUT, B3_MAX_ATTEMPTS."
    )
  )

// ---------------------------------------------------------------------------------------------
// b3 ingest / replay
// ---------------------------------------------------------------------------------------------

const loadIngest = load(() => Promise.all([import("./Files.js"), import("./Batch.js")]))
type IngestModules = Effect.Effect.Success<typeof loadIngest>

const fileItem = ([Files]: IngestModules, file: string, options: FileOptions) => ({
  label: file,
  ingest: Files.ingestFile(file, options)
})

const ingest = Command.make("ingest", {
  ...Globals.options,
  file: Options.file("file", { exists: "yes" }).pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription(
      "A saved payload: a downloaded CSV (<INDEX>Dia_dd-mm-yy.csv), a GetPortfolioDay/GetTheoricalPortfolio JSON body, or a GetDownloadPortfolioDay base64 body. Repeatable."
    ),
    Options.atLeast(1)
  ),
  index: Options.text("index").pipe(
    Options.withDescription("Index code (default: from the file name or the CSV title; JSON bodies carry none)"),
    Options.optional
  ),
  language: languageOption,
  date: optionalRefDate("date", "B3 date YYYY-MM-DD: required for GetTheoricalPortfolio bodies (they carry none)"),
  allowUnknownIndex,
  maxPayloadMb,
  noWait
}, (o) =>
  withWriter("ingest", o, "write", () =>
    Effect.gen(function*() {
      const modules = yield* loadIngest
      const indexCode = Option.isSome(o.index)
        ? yield* decodeWith(IndexCode, "index code")(o.index.value.toUpperCase())
        : undefined
      const refDate = yield* optionalDate(o.date)
      const options: FileOptions = {
        indexCode,
        language: Option.getOrUndefined(o.language) as Language | undefined,
        refDate,
        ...limits(o)
      }
      const summary = yield* modules[1].runBatch("ingest", o.file.map((f) => fileItem(modules, f, options)))
      yield* finish(summary)
    }))).pipe(Command.withDescription("Ingest saved payload files through the same raw -> refine path as `run`."))

/** Payloads `b3 replay` ingests at once by default. @category constants */
export const REPLAY_CONCURRENCY = 4

const replay = Command.make("replay", {
  ...Globals.options,
  dir: Args.directory({ name: "DIR", exists: "yes" }).pipe(
    Args.withDescription(
      "A folder of <INDEX>Dia_*.csv files, saved JSON bodies, or archived payload folders (raw/b3_portfolio_payloads/...)"
    )
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.withDefault(REPLAY_CONCURRENCY),
    Options.withDescription(
      `Payloads ingested at once (default ${REPLAY_CONCURRENCY}: one's archive fsync overlaps the others' parsing; payloads of the same index and date still go one after another, in fetch order)`
    )
  ),
  allowUnknownIndex,
  maxPayloadMb,
  noWait
}, (o) =>
  withWriter("replay", o, "write", () =>
    Effect.gen(function*() {
      if (o.concurrency < 1) {
        return yield* new UsageError({ detail: `--concurrency must be at least 1 (got ${o.concurrency})` })
      }
      const modules = yield* loadIngest
      const [Files, { runBatch }] = modules
      const found = yield* Files.discover(o.dir)
      if (found.length === 0) return yield* new UsageError({ detail: `${o.dir}: no .csv/.json/.txt payloads found` })
      // ordered by fetch time: the last fetch of each (index, date) is written last, and wins
      const options: FileOptions = limits(o)
      const items = found.map((f) => ({
        label: f.path,
        group: f.group,
        ingest: f.kind === "file" ? Files.ingestFile(f.path, options) : Files.ingestArchive(f.path, options)
      }))
      const summary = yield* runBatch("replay", items, { concurrency: o.concurrency, progress: true })
      yield* finish(summary)
    }))).pipe(
    Command.withDescription("Backfill from archived payloads or downloaded CSVs, with progress and a final summary.")
  )

// ---------------------------------------------------------------------------------------------
// b3 refine / query / status
// ---------------------------------------------------------------------------------------------

const refine = Command.make("refine", {
  ...Globals.options,
  date: optionalRefDate("date", "Also refine this B3 date, even if it is not stale"),
  all: Options.boolean("all").pipe(Options.withDescription("Refine every date of the raw table, stale or not")),
  noWait
}, (o) =>
  withWriter("refine", o, "read", () =>
    Effect.gen(function*() {
      const one = yield* optionalDate(o.date)
      const Output = yield* load(() => import("./Output.js"))
      const refresher = yield* Env.Refresher
      const newProgress = yield* Output.progressMaker()
      let progress: Output.Progress | undefined
      const result = yield* refresher.reconcile({
        all: o.all,
        deep: true,
        ...(one !== undefined ? { force: [one] } : {}),
        onDate: (done, total, refDate) => {
          if (total > 10) (progress ??= newProgress("refine", total)).update(done, refDate)
        }
      })
      progress?.done()
      if (result.runs.length === 0) {
        yield* Stdio.out("nothing to refine: the refined table matches the raw table\n")
      } else if (result.runs.length <= 10) {
        for (const r of result.runs) {
          yield* Stdio.out(
            `${r.refDate}: ${r.state}${r.rows !== undefined ? `, ${r.rows} rows` : ""} (run ${r.runId})\n`
          )
        }
      } else {
        yield* Stdio.out(`refined ${result.runs.length} date(s)\n`)
      }
      if (result.stillStale.length > 0) {
        if (refresher.inProcess) {
          yield* Stdio.out(
            `still stale: ${result.stillStale.map((s) => `${s.refDate} (${s.reason})`).join(", ")}\n`
          )
          yield* Stdio.exitWith(1)
        } else {
          yield* Stdio.out(`${result.runs.length} refine(s) started; they commit when the runs finish\n`)
        }
      }
    }), { clean: true })).pipe(
    Command.withDescription(
      "Refine the stale dates (raw changed since their refine, or never refined); --date D adds D, --all every date."
    )
  )

const query = Command.make("query", {
  ...Globals.options,
  sql: Args.text({ name: "SQL" }).pipe(
    Args.withDescription("SQL over b3_portfolio_raw / b3_portfolio_refined"),
    Args.optional
  ),
  file: Options.file("file", { exists: "yes" }).pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription("Read the SQL from a file (e.g. glue/sql/validation/*.sql)"),
    Options.optional
  ),
  format: Options.choice("format", ["table", "json", "csv"]).pipe(
    Options.withDescription("table (default), json (a JSON array of row objects, nothing else on stdout), csv"),
    Options.withDefault("table" as Output.Format)
  )
}, (o) => onTarget(o, "read", Env.layerQuery, () => QueryCommand.handler(o))).pipe(
  Command.withDescription("Run SQL (Athena-compatible) over the warehouse's tables.")
)

const status = Command.make(
  "status",
  Globals.options,
  (o) =>
    withTarget(o, "read", () =>
      load(() => import("./Status.js")).pipe(
        Effect.flatMap((Status) => Status.report),
        Effect.flatMap(Stdio.out)
      ))
).pipe(
  Command.withDescription("Which indices and dates the warehouse holds, the last runs and failures.")
)

const report = Command.make(
  "report",
  { ...Globals.options, ...ReportCommand.options },
  (o) => withTarget(o, "read", () => ReportCommand.handler(o))
).pipe(
  Command.withDescription(ReportCommand.description)
)

// ---------------------------------------------------------------------------------------------
// b3 forget
// ---------------------------------------------------------------------------------------------

const forget = Command.make(
  "forget",
  {
    ...Globals.options,
    index: Options.text("index").pipe(
      Options.withPseudoName("CODE"),
      Options.withDescription("Index code of the portfolio to take out of the tables, e.g. IBOV")
    ),
    date: Options.text("date").pipe(
      Options.withPseudoName("YYYY-MM-DD"),
      Options.withDescription("B3 date of that portfolio")
    )
  },
  (o) =>
    withWriter(
      "forget",
      { ...o, noWait: false },
      "read",
      (env) => load(() => import("./commands/forget.js")).pipe(Effect.flatMap((m) => m.handler(o, env.target)))
    )
).pipe(
  Command.withDescription(
    "Take one (index, date) out of the raw and refined tables (its payload bytes stay archived), refine again what depended on it, and log it in the run log."
  )
)

/** The command tree. @category commands */
export const command = b3.pipe(
  Command.withSubcommands([run, ingest, replay, refine, query, status, report, forget])
)

/** Parses argv and runs. @category running */
export const cli = (argv: ReadonlyArray<string>) =>
  Help.withCleanConsole(Command.run(command, { name: "b3", version: "0.1.0" })(argv))
