/**
 * The experiments' section of docs/RESULTS.md: one block between `<!-- experiment-NAME:begin -->`
 * and `<!-- experiment-NAME:end -->`, replaced in place (or appended) and written atomically
 * (a temporary file renamed over the old), so an interrupted run never leaves half a document.
 * @module
 */

/**
 * `text` with the block of experiment `name` set to `body` (appended if it has none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSection } from "./docs_section.ts";
 * const once = withSection("# R\n", "cls", "a");
 * assert.equal(once, "# R\n\n<!-- experiment-cls:begin -->\na\n<!-- experiment-cls:end -->\n");
 * assert.equal(withSection(once, "cls", "b"), once.replace("\na\n", "\nb\n"));
 * ```
 */
export function withSection(text: string, name: string, body: string): string {
  const begin = `<!-- experiment-${name}:begin -->`, end = `<!-- experiment-${name}:end -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = text.indexOf(begin), j = text.indexOf(end);
  return i >= 0 && j > i
    ? text.slice(0, i) + block + text.slice(j + end.length)
    : `${text.trimEnd()}\n\n${block}\n`;
}

/**
 * Sets experiment `name`'s block of the file at `path` (docs/RESULTS.md) to `body`, atomically.
 *
 * @example
 * ```ts ignore
 * import { writeSection } from "./docs_section.ts";
 * await writeSection(new URL("../docs/RESULTS.md", import.meta.url), "cls", "| table |");
 * ```
 */
export async function writeSection(path: URL, name: string, body: string): Promise<void> {
  const next = withSection(await Deno.readTextFile(path), name, body);
  const tmp = `${path.pathname}.tmp`;
  await Deno.writeTextFile(tmp, next);
  await Deno.rename(tmp, path);
}
