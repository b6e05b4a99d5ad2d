// Runs s3rver on 127.0.0.1 (random port) in its own Node process, started with
// --openssl-legacy-provider (s3rver's continuation tokens use DES). Protocol on stdout, one JSON per
// line: {"ready":{"port":N}} once listening, then {"event":<S3 event>} for every notification.
// It exits when its stdin closes (the parent test went away).
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import S3rver from "s3rver"

const buckets = process.argv.slice(2)
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"))
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  resetOnClose: true,
  configureBuckets: buckets.map((name) => ({ name }))
})
server.on("event", (event) => process.stdout.write(JSON.stringify({ event }) + "\n"))
const stop = () => {
  server.close().catch(() => {}).finally(() => {
    fs.rmSync(directory, { recursive: true, force: true })
    process.exit(0)
  })
}
process.stdin.on("end", stop)
process.stdin.on("close", stop)
process.stdin.resume()
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ ready: { port: address.port } }) + "\n"),
  (error) => {
    process.stderr.write(String(error && error.stack || error) + "\n")
    process.exit(1)
  }
)
