/**
 * The Glue Data Catalog at the SDK boundary, in process: an `aws-sdk-client-mock` on a real
 * `GlueClient` answering the table and partition calls from a small model of Glue's catalog:
 *
 * - `GetTable` / `UpdateTable` / `GetPartitions` / `BatchCreatePartition` / `UpdatePartition` of a
 *   table that does not exist throw `EntityNotFoundException`; `CreateTable` of one that does
 *   throws `AlreadyExistsException`;
 * - `BatchCreatePartition` reports partitions that exist in `Errors` (`AlreadyExistsException`) and
 *   creates the others; it takes at most 100 partitions, `BatchDeletePartition` at most 25 (more is
 *   a `ValidationException`, as Glue answers), and reports absent ones as `EntityNotFoundException`;
 * - `GetTables` and `GetPartitions` answer in pages of `pageSize` (default 2, so paging is exercised)
 *   with a `NextToken`.
 *
 * Test support (`@b3-pipeline/aws-adapter/testing/GlueCatalogFake`): it needs `aws-sdk-client-mock`
 * (a devDependency of this package), so use it from tests only.
 *
 * @since 0.1.0
 */
import type { Partition, PartitionInput, Table, TableInput } from "@aws-sdk/client-glue"
import {
  AlreadyExistsException,
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
  UpdatePartitionCommand,
  UpdateTableCommand,
  ValidationException
} from "@aws-sdk/client-glue"
import { mockClient } from "aws-sdk-client-mock"

export interface GlueCatalogFakeOptions {
  /** Tables or partitions per `GetTables` / `GetPartitions` page (default 2). */
  readonly pageSize?: number
}

interface StoredTable {
  table: Table
  readonly partitions: Map<string, Partition>
}

const notFound = (what: string) => new EntityNotFoundException({ message: `${what} not found`, $metadata: {} })

/** Builds the fake: `client` is what `Glue` should provide; `tables` is the model's state. */
export const make = (options: GlueCatalogFakeOptions = {}) => {
  const client = new GlueClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
  const mock = mockClient(client)
  const pageSize = options.pageSize ?? 2
  const tables = new Map<string, StoredTable>()
  const keyOf = (database: string | undefined, name: string | undefined) => `${database ?? ""}.${name ?? ""}`
  const valuesKey = (values: ReadonlyArray<string> | undefined) => JSON.stringify(values ?? [])
  const stored = (database: string | undefined, name: string | undefined): StoredTable => {
    const found = tables.get(keyOf(database, name))
    if (found === undefined) throw notFound(`Table ${name}`)
    return found
  }
  const page = <A>(items: ReadonlyArray<A>, token: string | undefined) => {
    const from = token === undefined ? 0 : Number(token)
    const to = Math.min(items.length, from + pageSize)
    return { items: items.slice(from, to), next: to < items.length ? String(to) : undefined }
  }
  const tableOf = (database: string | undefined, input: TableInput | undefined): Table => ({
    ...structuredClone(input ?? {}),
    Name: input?.Name ?? "",
    DatabaseName: database
  })
  const partitionOf = (database: string | undefined, table: string | undefined, input: PartitionInput): Partition => ({
    ...structuredClone(input),
    DatabaseName: database,
    TableName: table
  })

  mock.on(GetTableCommand).callsFake(async (input: { DatabaseName?: string; Name?: string }) => ({
    Table: structuredClone(stored(input.DatabaseName, input.Name).table)
  }))

  mock.on(GetTablesCommand).callsFake(async (input: { DatabaseName?: string; NextToken?: string }) => {
    const all = [...tables.values()].map((t) => t.table).filter((t) => t.DatabaseName === input.DatabaseName)
    const { items, next } = page(all, input.NextToken)
    return { TableList: structuredClone(items), ...(next !== undefined ? { NextToken: next } : {}) }
  })

  mock.on(CreateTableCommand).callsFake(async (input: { DatabaseName?: string; TableInput?: TableInput }) => {
    const key = keyOf(input.DatabaseName, input.TableInput?.Name)
    if (tables.has(key)) {
      throw new AlreadyExistsException({ message: `Table ${input.TableInput?.Name} already exists`, $metadata: {} })
    }
    tables.set(key, { table: tableOf(input.DatabaseName, input.TableInput), partitions: new Map() })
    return {}
  })

  mock.on(UpdateTableCommand).callsFake(async (input: { DatabaseName?: string; TableInput?: TableInput }) => {
    stored(input.DatabaseName, input.TableInput?.Name).table = tableOf(input.DatabaseName, input.TableInput)
    return {}
  })

  mock.on(GetPartitionsCommand).callsFake(
    async (input: { DatabaseName?: string; TableName?: string; NextToken?: string }) => {
      const { items, next } = page(
        [...stored(input.DatabaseName, input.TableName).partitions.values()],
        input.NextToken
      )
      return { Partitions: structuredClone(items), ...(next !== undefined ? { NextToken: next } : {}) }
    }
  )

  mock.on(BatchCreatePartitionCommand).callsFake(
    async (input: { DatabaseName?: string; TableName?: string; PartitionInputList?: Array<PartitionInput> }) => {
      const list = input.PartitionInputList ?? []
      if (list.length > 100) {
        throw new ValidationException({ message: "PartitionInputList: at most 100 partitions", $metadata: {} })
      }
      const table = stored(input.DatabaseName, input.TableName)
      const errors = []
      for (const p of list) {
        const key = valuesKey(p.Values)
        if (table.partitions.has(key)) {
          errors.push({
            PartitionValues: p.Values,
            ErrorDetail: { ErrorCode: "AlreadyExistsException", ErrorMessage: "Partition already exists." }
          })
        } else {
          table.partitions.set(key, partitionOf(input.DatabaseName, input.TableName, p))
        }
      }
      return errors.length > 0 ? { Errors: errors } : {}
    }
  )

  mock.on(UpdatePartitionCommand).callsFake(
    async (
      input: {
        DatabaseName?: string
        TableName?: string
        PartitionValueList?: Array<string>
        PartitionInput?: PartitionInput
      }
    ) => {
      const table = stored(input.DatabaseName, input.TableName)
      const key = valuesKey(input.PartitionValueList)
      if (!table.partitions.has(key) || input.PartitionInput === undefined) throw notFound("Partition")
      table.partitions.delete(key)
      const updated = partitionOf(input.DatabaseName, input.TableName, input.PartitionInput)
      table.partitions.set(valuesKey(updated.Values), updated)
      return {}
    }
  )

  mock.on(BatchDeletePartitionCommand).callsFake(
    async (
      input: { DatabaseName?: string; TableName?: string; PartitionsToDelete?: Array<{ Values?: Array<string> }> }
    ) => {
      const list = input.PartitionsToDelete ?? []
      if (list.length > 25) {
        throw new ValidationException({ message: "PartitionsToDelete: at most 25 partitions", $metadata: {} })
      }
      const table = stored(input.DatabaseName, input.TableName)
      const errors = []
      for (const p of list) {
        if (!table.partitions.delete(valuesKey(p.Values))) {
          errors.push({
            PartitionValues: p.Values,
            ErrorDetail: { ErrorCode: "EntityNotFoundException", ErrorMessage: "Partition not found." }
          })
        }
      }
      return errors.length > 0 ? { Errors: errors } : {}
    }
  )

  return { client, mock, tables }
}
