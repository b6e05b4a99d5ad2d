/**
 * Custom resource handler (CDK Provider framework, onEvent): applies the visual refine job's Glue Studio
 * graph with glue:UpdateJob, which CloudFormation's AWS::Glue::Job cannot carry. `JobUpdate` arrives as
 * JSON text so numbers and booleans keep their types. UpdateJob replaces the whole definition, so the
 * payload carries every field. After the update, GetJob confirms every node arrived (an SDK that does not
 * know a node kind drops it silently). Delete is a no-op: the job itself is deleted with its CfnJob.
 */
import { GetJobCommand, GlueClient, UpdateJobCommand } from "@aws-sdk/client-glue"
import type { JobUpdate } from "@aws-sdk/client-glue"

interface Event {
  readonly RequestType: "Create" | "Update" | "Delete"
  readonly PhysicalResourceId?: string
  readonly ResourceProperties: { readonly JobName: string; readonly JobUpdate: string }
}

const glue = new GlueClient({})

export const handler = async (event: Event) => {
  const jobName = event.ResourceProperties.JobName
  if (event.RequestType === "Delete") return { PhysicalResourceId: event.PhysicalResourceId ?? jobName }
  const update = JSON.parse(event.ResourceProperties.JobUpdate) as JobUpdate
  const sent = Object.keys(update.CodeGenConfigurationNodes ?? {}).sort()
  await glue.send(new UpdateJobCommand({ JobName: jobName, JobUpdate: update }))
  const job = (await glue.send(new GetJobCommand({ JobName: jobName }))).Job
  const stored = Object.keys(job?.CodeGenConfigurationNodes ?? {}).sort()
  const lost = sent.filter((id) => !stored.includes(id))
  if (lost.length > 0 || job?.JobMode !== "VISUAL") {
    throw new Error(`glue:UpdateJob on ${jobName} lost nodes [${lost.join(", ")}] or mode (${job?.JobMode})`)
  }
  return { PhysicalResourceId: jobName, Data: { Nodes: String(stored.length) } }
}
