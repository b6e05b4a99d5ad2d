/**
 * CDK app: `npx cdk deploy -c env=dev` (from infra/). Context keys: env (default dev), indices
 * (default IBOV), extraIndices (codes beyond the 36 known, comma-separated), freshnessCutoff (HH:MM,
 * Sao Paulo), alarmEmail, triggeredJob (script | visual), lambdaDist (default ../packages/lambda-entry/dist).
 */
import * as cdk from "aws-cdk-lib"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { B3PipelineStack } from "../lib/B3PipelineStack.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const app = new cdk.App()
const ctx = (key: string): string | undefined => {
  const v = app.node.tryGetContext(key)
  return typeof v === "string" && v.length > 0 ? v : undefined
}
const envName = ctx("env") ?? "dev"
const dist = path.resolve(here, "..", ctx("lambdaDist") ?? "../packages/lambda-entry/dist")
const code = (handler: string) => {
  const dir = path.join(dist, handler)
  if (!fs.existsSync(path.join(dir, "index.mjs"))) {
    throw new Error(`${dir}/index.mjs is missing: run \`npm run bundle\` at the repository root first`)
  }
  return dir
}
const ctxOf = {
  indices: ctx("indices"),
  extraIndices: ctx("extraIndices"),
  freshnessCutoff: ctx("freshnessCutoff"),
  alarmEmail: ctx("alarmEmail")
}
const triggered = ctx("triggeredJob")
if (triggered !== undefined && triggered !== "script" && triggered !== "visual") {
  throw new Error(`context triggeredJob must be script or visual, got ${triggered}`)
}

new B3PipelineStack(app, `B3Pipeline-${envName}`, {
  envName,
  lambdaCode: { onRawObjectCreated: code("onRawObjectCreated"), scheduledIngest: code("scheduledIngest") },
  ...(ctxOf.indices !== undefined ? { indices: ctxOf.indices } : {}),
  ...(ctxOf.extraIndices !== undefined ? { extraIndexCodes: ctxOf.extraIndices.split(",") } : {}),
  ...(ctxOf.freshnessCutoff !== undefined ? { freshnessCutoff: ctxOf.freshnessCutoff } : {}),
  ...(ctxOf.alarmEmail !== undefined ? { alarmEmail: ctxOf.alarmEmail } : {}),
  ...(triggered !== undefined ? { triggeredJob: triggered } : {}),
  ...(process.env.CDK_DEFAULT_ACCOUNT !== undefined && process.env.CDK_DEFAULT_REGION !== undefined
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
  tags: { project: "b3-pipeline", environment: envName }
})
app.synth()
