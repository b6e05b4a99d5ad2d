// The library as another team gets it: packs every publishable package (each `prepack` builds its
// dist/ with `tsc -b`), installs the tarballs into a throwaway service in a temporary folder outside
// the workspace (offline: the npm cache already holds every dependency; our own packages come from
// the tarballs, never a registry), and there:
//   1. runs scripts/consumer/main.mjs with plain `node` (no TypeScript loader): codec, pipeline on the
//      memory layers and on LocalLive, the refined row read back;
//   2. type-checks scripts/consumer/consumer.ts and every README's TypeScript example with strict and
//      the default lib, once with NodeNext and once with Bundler resolution;
//   3. runs vitest on scripts/consumer/test (a property test on the exported test kit, the ObjectStore
//      contract suite against an adapter defined in the consumer);
//   4. runs the installed `b3` binary on the sample (ingest, then query the refined row as JSON);
//   5. bundles an S3-only entry and checks no Glue or Athena client is in it, and bundles a Lambda of
//      the consumer's own with lambda-entry's esbuild recipe and runs it from another folder (wasm);
//   6. prints each tarball's size and the cold import time of @b3-pipeline/core from dist.
// Usage: node scripts/consumer-check.mjs [--keep]   (part of `npm test`)
import { spawnSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const PACKAGES = ["core", "b3-simulator", "local-adapter", "aws-adapter", "lambda-entry", "cli"]
const SAMPLE = "IBOVDia_03-10-25.csv"
const keep = process.argv.includes("--keep")
const started = performance.now()
/** The median of five timings. */
const median5 = (ms) => [...ms].sort((a, b) => a - b)[2]
const lap = (what, since) => console.log(`  ${what}: ${((performance.now() - since) / 1000).toFixed(1)} s`)

const run = (cmd, args, cwd, options = {}) => {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    // NO_COLOR: with CI set, vitest and friends colour their output even into a pipe
    env: { ...process.env, NODE_OPTIONS: "", NO_COLOR: "1", npm_config_audit: "false", npm_config_fund: "false" },
    maxBuffer: 64 * 1024 * 1024,
    ...options
  })
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? "")
    process.stderr.write(r.stderr ?? "")
    throw new Error(`consumer check: \`${cmd} ${args.join(" ")}\` failed in ${cwd} (exit ${r.status})`)
  }
  return r.stdout
}
const installedVersion = (name) =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version

const tmp = mkdtempSync(join(tmpdir(), "b3-consumer-"))
console.log(`consumer check in ${tmp}`)
try {
  // 1. pack (prepack builds dist/)
  let t = performance.now()
  const tarballs = join(tmp, "tarballs")
  mkdirSync(tarballs)
  const packed = JSON.parse(
    run(
      "npm",
      ["pack", "--json", "--pack-destination", tarballs, ...PACKAGES.flatMap((p) => ["-w", `packages/${p}`])],
      root
    )
  )
  lap("pack (build + tarballs)", t)

  // 2. the service
  t = performance.now()
  const service = join(tmp, "service")
  mkdirSync(service)
  const deps = Object.fromEntries(packed.map((p) => [p.name, `file:../tarballs/${p.filename}`]))
  const pin = (names) => Object.fromEntries(names.map((n) => [n, installedVersion(n)]))
  writeFileSync(
    join(service, "package.json"),
    JSON.stringify(
      {
        name: "consumer-service",
        private: true,
        type: "module",
        dependencies: { ...deps, ...pin(["effect", "@effect/platform", "@effect/platform-node"]) },
        devDependencies: pin(["typescript", "vitest", "@effect/vitest", "fast-check", "@types/node", "esbuild"])
      },
      null,
      2
    )
  )
  cpSync(join(root, "scripts", "consumer"), service, { recursive: true })
  cpSync(join(root, "fixtures", "b3", SAMPLE), join(service, SAMPLE))
  // every README's TypeScript examples, one module each
  mkdirSync(join(service, "readme"))
  const readmes = [
    ["root", join(root, "README.md")],
    ...PACKAGES.map((p) => [p, join(root, "packages", p, "README.md")])
  ]
  let examples = 0
  for (const [name, file] of readmes) {
    const text = readFileSync(file, "utf8")
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
    if (name !== "root" && blocks.length === 0) throw new Error(`${file} has no TypeScript example`)
    blocks.forEach((code, i) => writeFileSync(join(service, "readme", `${name}-${i + 1}.ts`), `${code}\nexport {}\n`))
    examples += blocks.length
  }
  // Offline first. `npm ci` caches tarballs but not every package's metadata, which a fresh install
  // needs to resolve versions: when some is missing, --prefer-offline fetches only that metadata
  // (tarballs still come from the cache; ours are the local files above, never a registry's).
  const install = (mode) =>
    spawnSync("npm", ["install", mode, "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: service,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" }
    })
  let installed = install("--offline")
  let mode = "--offline"
  if (installed.status !== 0) {
    mode = "--prefer-offline"
    installed = install(mode)
  }
  if (installed.status !== 0) {
    process.stderr.write(installed.stderr)
    throw new Error(`consumer check: npm install failed in ${service}`)
  }
  lap(`npm install ${mode}`, t)

  // 3. plain node
  t = performance.now()
  process.stdout.write(run(process.execPath, ["main.mjs", SAMPLE], service).replace(/^/gm, "    "))
  lap("plain node: codec, memory pipeline, LocalLive", t)

  // 4. type-check, two resolutions
  t = performance.now()
  const tsc = join(service, "node_modules", "typescript", "bin", "tsc")
  for (const config of ["tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
    run(process.execPath, [tsc, "-p", config], service)
  }
  lap(
    `tsc strict, default lib, NodeNext (our .d.ts checked too) + Bundler (consumer.ts + ${examples} README examples)`,
    t
  )

  // 5. vitest against the exported test kit
  t = performance.now()
  const vitest = join(service, "node_modules", "vitest", "vitest.mjs")
  const tests = run(process.execPath, [vitest, "run", "--reporter=dot"], service).replace(/\x1b\[[0-9;]*m/g, "")
  const count = /Tests\s+(\d+) passed/.exec(tests)?.[1]
  if (count === undefined || /failed/.test(tests)) throw new Error(`consumer vitest:\n${tests}`)
  console.log(`    consumer vitest: ${count} tests passed`)
  lap("vitest: kit property test + ObjectStore contract on a consumer adapter", t)

  // 6. the installed b3 binary
  t = performance.now()
  const b3 = join(service, "node_modules", ".bin", "b3")
  const warehouse = join(tmp, "b3-warehouse")
  run(b3, ["--warehouse", warehouse, "ingest", "--file", SAMPLE], service)
  const rows = JSON.parse(
    run(b3, [
      "--warehouse",
      warehouse,
      "query",
      "--format",
      "json",
      "SELECT ticker, weight_pct FROM b3_portfolio_refined WHERE ticker = 'PETR4'"
    ], service)
  )
  if (rows.length !== 1 || String(rows[0].weight_pct) !== "6.341") {
    throw new Error(`b3 query: expected PETR4 6.341, got ${JSON.stringify(rows)}`)
  }
  console.log(`    b3 ingest + query: ${JSON.stringify(rows[0])}`)
  // the package ships the bundle and its help snapshot (prepack), and bin/b3.js runs it
  const cliDist = join(service, "node_modules", "@b3-pipeline", "cli", "dist")
  for (const file of ["b3.mjs", "b3.help.json"]) statSync(join(cliDist, file))
  const { version } = JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8"))
  const printed = run(b3, ["--version"], service).trim()
  if (printed !== version) throw new Error(`b3 --version: expected ${version}, got ${printed}`)
  const help = run(b3, ["query", "--help"], service)
  if (!help.includes("--format")) throw new Error(`b3 query --help: no --format in\n${help}`)
  const timed = (args, cmd = b3) => {
    const ms = []
    for (let i = 0; i < 5; i++) {
      const began = performance.now()
      run(cmd, args, service)
      ms.push(performance.now() - began)
    }
    return `${median5(ms).toFixed(0)} ms`
  }
  console.log(
    `    installed b3, median of 5 new processes: --version ${timed(["--version"])}, query --help ${
      timed(["query", "--help"])
    }, query of the refined table ${
      timed(["--warehouse", warehouse, "query", "SELECT count(*) FROM b3_portfolio_refined"])
    } (node -e 0: ${timed(["-e", "0"], process.execPath)})`
  )
  lap("installed b3 binary", t)

  // 7. bundles: S3-only entry; a Lambda of the consumer's own with the recipe
  t = performance.now()
  process.stdout.write(run(process.execPath, ["bundle.mjs", SAMPLE], service).replace(/^/gm, "    "))
  lap("esbuild: S3-only bundle, own Lambda with parquet-wasm", t)

  // 8. figures
  console.log("  tarballs:")
  for (const p of packed) {
    const bytes = statSync(join(tarballs, p.filename)).size
    console.log(
      `    ${p.name.padEnd(28)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB packed, ${
        (p.unpackedSize / 1024).toFixed(1).padStart(8)
      } KiB unpacked, ${p.entryCount} files`
    )
  }
  for (const specifier of ["@b3-pipeline/core", "@b3-pipeline/core/B3Wire"]) {
    const importMs = []
    for (let i = 0; i < 5; i++) {
      const out = run(process.execPath, [
        "--input-type=module",
        "-e",
        `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`
      ], service)
      importMs.push(Number(out.trim()))
    }
    console.log(
      `  cold import of ${specifier} from dist/ (new process each): first ${importMs[0].toFixed(0)} ms, median ${
        median5(importMs).toFixed(0)
      } ms of 5`
    )
  }
  console.log(`consumer check passed in ${((performance.now() - started) / 1000).toFixed(1)} s`)
} finally {
  if (keep) console.log(`kept ${tmp}`)
  else rmSync(tmp, { recursive: true, force: true })
}
