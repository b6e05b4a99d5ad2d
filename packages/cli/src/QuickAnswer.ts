/**
 * Answers the command lines whose output never depends on the machine (`b3 --help`, `b3 --version`,
 * `b3 <command> --help`) from a snapshot of that output, before Effect and @effect/cli are loaded:
 * these answers cost Node's own start and the read of one small JSON file.
 *
 * The snapshot is not written by hand: `scripts/build-cli.mjs` builds it with `HelpSnapshot.generate`
 * (the real program, run in-process on each of those command lines) from the same sources and in the
 * same build as the bundle, and writes it beside it (`dist/b3.help.json`). `bin/b3.js` only runs the
 * bundle when it is newer than every source, so the snapshot is never older than the commands it
 * describes; a test compares the bundle's answers with the sources' output. No Effect import here.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { stripVTControlCharacters } from "node:util"
import { useColour } from "./HelpText.js"

/**
 * One print of the program: `console.log` (stdout) or `console.error` (stderr) with these arguments,
 * terminal escapes included (removed when the stream is no terminal, as `Help.withCleanConsole` does).
 *
 * @category models
 */
export interface Print {
  readonly stream: "stdout" | "stderr"
  readonly args: ReadonlyArray<string>
}

/** What the program printed for one command line, and its exit code. @category models */
export interface Answer {
  readonly prints: ReadonlyArray<Print>
  readonly code: number
}

/** The answers, keyed by `key(args)`. @category models */
export interface Snapshot {
  readonly answers: Readonly<Record<string, Answer>>
}

/** The key of a command line (the arguments after `b3`) in a snapshot. @category snapshot */
export const key = (args: ReadonlyArray<string>): string => JSON.stringify(args)

const helpFlags = ["--help", "-h"]

/**
 * The command lines a snapshot holds, given the names of the subcommands: none (help), `--help`,
 * `-h`, `--version`, and `<command> --help`, `<command> -h` for each subcommand.
 *
 * @category snapshot
 */
export const commandLines = (commands: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => [
  [],
  ...helpFlags.map((flag) => [flag]),
  ["--version"],
  ...commands.flatMap((command) => helpFlags.map((flag) => [command, flag]))
]

// Whether `commandLines` could hold `args` (answers the other command lines without reading a file).
const mayHold = (args: ReadonlyArray<string>): boolean =>
  args.length === 0 ||
  (args.length === 1 && (helpFlags.includes(args[0] ?? "") || args[0] === "--version")) ||
  (args.length === 2 && helpFlags.includes(args[1] ?? ""))

/**
 * Where the snapshot of the bundle at `moduleUrl` is: `dist/b3.help.json` beside `dist/b3.mjs`.
 * Only the bundle has one (`undefined` for any other module, e.g. the compiled `dist/bin.js`).
 *
 * @category snapshot
 */
export const snapshotOf = (moduleUrl: string): URL | undefined =>
  moduleUrl.endsWith("/b3.mjs") ? new URL("b3.help.json", moduleUrl) : undefined

/**
 * Prints the snapshot's answer to `args` and sets the process's exit code: `true`, or `false` (and
 * nothing done) when the snapshot holds no answer to `args` or cannot be read.
 *
 * @category running
 */
export const answer = (snapshot: URL, args: ReadonlyArray<string>): boolean => {
  if (!mayHold(args)) return false
  let found: Answer | undefined
  try {
    found = (JSON.parse(readFileSync(snapshot, "utf8")) as Snapshot).answers[key(args)]
  } catch {
    return false
  }
  if (found === undefined) return false
  for (const print of found.prints) {
    const stream = print.stream === "stdout" ? process.stdout : process.stderr
    const text = useColour(stream) ? print.args : print.args.map((a) => stripVTControlCharacters(a))
    if (print.stream === "stdout") console.log(...text)
    else console.error(...text)
  }
  process.exitCode = found.code
  return true
}
