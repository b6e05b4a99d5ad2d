/**
 * Writes `glue/refine-job.visual.json` (the visual job definition with `${Bucket}`, `${JobName}` and
 * `${JobRoleArn}` placeholders). Run `npm run generate -w @b3-pipeline/glue` after changing
 * sql/refine.sql, job/visual/*.py or src/visualJob.ts; a test fails while the committed file is stale.
 */
import * as fs from "node:fs"
import { visualJobJsonPath } from "../src/GlueAssets.js"
import { renderVisualJobJson } from "../src/visualJob.js"

const text = renderVisualJobJson()
const before = fs.existsSync(visualJobJsonPath) ? fs.readFileSync(visualJobJsonPath, "utf8") : undefined
if (before === text) {
  console.log(`${visualJobJsonPath}: up to date`)
} else {
  fs.writeFileSync(visualJobJsonPath, text)
  console.log(`${visualJobJsonPath}: written (${text.length} bytes)`)
}
