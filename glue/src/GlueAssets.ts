/**
 * Where the Glue job's shipped files live in this package, and readers for them. The refine SQL is
 * ONE file (`sql/refine.sql`): the script job reads it through `--extra-files`, the visual graph embeds
 * its text, and the local DuckDB engine runs it.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Absolute path of the `glue/` package. @category paths */
export const GLUE_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** The shipped name of the refine SQL (the script job opens this name; keep in sync with refine_job.py). @category names */
export const REFINE_SQL_FILE = "refine.sql"

/** @category paths */
export const refineSqlPath: string = path.join(GLUE_ROOT, "sql", REFINE_SQL_FILE)
/** The hand-written PySpark script of the script-mode job. @category paths */
export const jobScriptPath: string = path.join(GLUE_ROOT, "job", "refine_job.py")
/** Folder of the Python bodies of the visual graph's CustomCode nodes. @category paths */
export const visualCodeDir: string = path.join(GLUE_ROOT, "job", "visual")
/** Folder of the Athena validation queries. @category paths */
export const validationDir: string = path.join(GLUE_ROOT, "sql", "validation")
/** The committed, generated visual job definition. @category paths */
export const visualJobJsonPath: string = path.join(GLUE_ROOT, "refine-job.visual.json")

/** The refine SQL's text, exactly as shipped. @category readers */
export const readRefineSql = (): string => fs.readFileSync(refineSqlPath, "utf8")

/** The Python body of a visual CustomCode node (`select_raw_date`, `purge_refined_date`). @category readers */
export const readVisualCode = (name: string): string => fs.readFileSync(path.join(visualCodeDir, `${name}.py`), "utf8")

/** The validation queries, `name` = file name without `.sql`, sorted by name. @category readers */
export const readValidationQueries = (): ReadonlyArray<{ readonly name: string; readonly sql: string }> =>
  fs.existsSync(validationDir)
    ? fs.readdirSync(validationDir).filter((f) => f.endsWith(".sql")).sort().map((f) => ({
      name: f.slice(0, -4),
      sql: fs.readFileSync(path.join(validationDir, f), "utf8")
    }))
    : []
