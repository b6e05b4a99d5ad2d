/**
 * The text side of `Help`: when a stream gets terminal escapes, and how @effect/cli's help is cleaned.
 * No Effect import: `QuickAnswer` (which answers `b3 --help` before Effect is loaded) uses it too.
 *
 * @since 0.1.0
 */
import { stripVTControlCharacters } from "node:util"

/**
 * Whether a stream may carry terminal escapes (colour, bold): only a terminal, and only when
 * `NO_COLOR` is unset or empty (https://no-color.org).
 *
 * @category terminal
 */
export const useColour = (stream: { readonly isTTY?: boolean } = process.stdout): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

// The type paragraphs @effect/cli puts before each option's own description ("A user-defined piece of
// text.", "An existing file.", ...): they say nothing the usage line does not, so help drops them.
const genericLine =
  /^\s*(?:A user-defined piece of text(?: that is confidential)?\.|A true or false value\.|One of the following: .*|An integer\.|A floating point number\.|A date without a time-zone in the ISO-8601 format.*|An? (?:existing )?(?:file or directory|file|directory)(?: that must not exist)?\.)\s*$/

/**
 * Help and error text from @effect/cli as printed by `b3`: without the generic type paragraphs, and
 * without terminal escapes unless `colour`.
 *
 * @category terminal
 */
export const cleanHelp = (text: string, colour: boolean): string => {
  const lines = text.split("\n")
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    if (genericLine.test(stripVTControlCharacters(line))) {
      if ((lines[i + 1] ?? "x").trim() === "") i++ // and the blank line after it
      continue
    }
    out.push(line)
  }
  const joined = out.join("\n")
  return colour ? joined : stripVTControlCharacters(joined)
}
