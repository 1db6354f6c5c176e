/**
 * Keeps the library's JSDoc examples honest. `deno test --doc` runs every ```ts block in a
 * JSDoc comment, but it compares nothing an example merely prints, so a value written in a
 * comment next to a `console.log` can be wrong for years (one was). This test reads the
 * library's sources from disk and fails, naming file, line and the offending line, on:
 *
 * 1. **A printed value with its expected result in a comment**: `console.log(...) // [3, 5]`,
 *    `console.log(...); // [3, 5]`, or a `console.log(...)` statement whose next line is a
 *    comment-only line that starts like a value (`// [3, 5]`, `// 0.5`, `// "cpu"`, `// true`,
 *    `// Tensor(...)`). Write `assert.deepEqual(await y.toArray(), [3, 5])` (from
 *    `node:assert/strict`) instead. Applies to every block, `ts ignore` ones included: a value
 *    claimed in a comment is unchecked whether or not the block runs.
 * 2. **A silent example**: a runnable block (not `ignore`) with no assertion (`assert…(` or
 *    `assert.…(`) and no comment at all. Such a block only shows that some calls do not throw
 *    and says nothing about what they give; either check a result or say in a comment what the
 *    reader should take from it. A block that explains itself in a comment passes: the rule
 *    asks for intent, not for an assertion everywhere (examples that write files, start
 *    training or open a device often can only show the call).
 *
 * The scanned roots are {@link ROOTS}; a fenced block counts when it sits inside a `/** … *\/`
 * comment and its language is `ts`, `js` (or their long names) or none.
 */

import assert from "node:assert/strict";
import { LIBRARY_DIRS } from "./_library.ts";

/** The library's source roots, relative to the repository root. */
const ROOTS = [...LIBRARY_DIRS, "mod.ts", "train.ts"];

const REPO = new URL("../", import.meta.url);

/** One offending example line. */
interface Finding {
  file: string;
  line: number;
  rule: "printed-value" | "silent-example";
  text: string;
}

/** A fenced code block found in a JSDoc comment. */
interface Block {
  /** 1-based file line of each code line. */
  lines: { line: number; text: string }[];
  /** Marked `ignore`: type-checked by nobody, never run. */
  ignored: boolean;
  /** Another language (`sh`, `json`, …): skipped. */
  foreign: boolean;
}

const JS_LANGS = new Set(["", "ts", "typescript", "js", "javascript", "tsx", "jsx"]);

/** The fenced code blocks of every JSDoc comment in `src`, with their file line numbers. */
function jsdocBlocks(src: string): Block[] {
  const blocks: Block[] = [];
  const lines = src.split("\n");
  let inDoc = false;
  let block: Block | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!inDoc) {
      const open = raw.indexOf("/**");
      if (open < 0 || raw.slice(0, open).includes("//")) continue;
      inDoc = true;
      if (raw.indexOf("*/", open + 3) >= 0) inDoc = false; // one-line doc comment
      continue;
    }
    if (raw.includes("*/") && block === null) {
      inDoc = false;
      continue;
    }
    // Strip the comment's leading ` * ` (keeping the code's own indentation after it).
    const text = raw.replace(/^\s*\*(?: |$)/, "");
    const fence = /^\s*```\s*([A-Za-z]*)(.*)$/.exec(text);
    if (fence) {
      if (block === null) {
        const foreign = !JS_LANGS.has(fence[1]!.toLowerCase());
        block = { lines: [], ignored: /\bignore\b/.test(fence[2]!), foreign };
      } else {
        if (!block.foreign) blocks.push(block);
        block = null;
      }
      continue;
    }
    if (block !== null) block.lines.push({ line: i + 1, text });
    if (raw.includes("*/")) {
      inDoc = false;
      block = null; // an unterminated fence ends with its comment
    }
  }
  return blocks;
}

/** Index just past the `)` that closes the `(` at `open`, skipping strings; -1 if none. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  let quote = "";
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return -1;
}

/** A comment-only line whose text starts like a printed value. */
const VALUE_COMMENT =
  /^\s*\/\/\s*(?:[[{"'`\d-]|true\b|false\b|null\b|undefined\b|NaN\b|Infinity\b|Tensor\b|[≈~])/;

/** Rule 1 over one block: `console.log(...)` followed by its result in a comment. */
function printedValues(block: Block): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  // Join the block so a console.log spanning lines is matched to its closing line.
  const starts: number[] = [];
  let joined = "";
  for (const l of block.lines) {
    starts.push(joined.length);
    joined += l.text + "\n";
  }
  const lineAt = (offset: number) => {
    let k = 0;
    while (k + 1 < starts.length && starts[k + 1]! <= offset) k++;
    return k;
  };
  const re = /\bconsole\.(?:log|info|debug)\s*\(/g;
  for (let m = re.exec(joined); m !== null; m = re.exec(joined)) {
    const end = closeParen(joined, m.index + m[0].length - 1);
    if (end < 0) continue;
    const k = lineAt(end - 1);
    const rest = joined.slice(end, starts[k + 1] ?? joined.length).replace(/\n$/, "");
    const first = block.lines[lineAt(m.index)]!;
    if (/^\s*\)*\s*;?\s*\/\//.test(rest)) {
      out.push({ line: block.lines[k]!.line, text: block.lines[k]!.text.trim() });
    } else if (/^\s*;?\s*$/.test(rest) && k + 1 < block.lines.length) {
      const next = block.lines[k + 1]!;
      if (VALUE_COMMENT.test(next.text)) out.push({ line: first.line, text: first.text.trim() });
    }
  }
  return out;
}

const ASSERTION = /\bassert\w*\s*(?:\.\s*\w+\s*)?\(/;
const COMMENT = /\/\/|\/\*/;

/** Rule 2 over one block: runnable, with no assertion and no comment. */
function isSilent(block: Block): boolean {
  if (block.ignored) return false;
  const code = block.lines.map((l) => l.text).join("\n");
  if (code.trim() === "") return false;
  return !ASSERTION.test(code) && !COMMENT.test(code);
}

/** Both rules over one file's source; `file` only labels the findings. */
function scanSource(file: string, src: string): Finding[] {
  const findings: Finding[] = [];
  for (const block of jsdocBlocks(src)) {
    for (const p of printedValues(block)) findings.push({ file, rule: "printed-value", ...p });
    if (isSilent(block)) {
      const first = block.lines.find((l) => l.text.trim() !== "")!;
      findings.push({ file, rule: "silent-example", line: first.line, text: first.text.trim() });
    }
  }
  return findings;
}

/** Every `.ts` file under the roots, as repository-relative paths, sorted. */
function sourceFiles(roots: string[]): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    const url = new URL(rel, REPO);
    const info = Deno.statSync(url);
    if (info.isFile) {
      if (rel.endsWith(".ts")) files.push(rel);
      return;
    }
    for (const e of Deno.readDirSync(url)) walk(`${rel}/${e.name}`);
  };
  for (const r of roots) walk(r);
  return files.sort();
}

function scanRoots(roots: string[]): Finding[] {
  return sourceFiles(roots).flatMap((f) => scanSource(f, Deno.readTextFileSync(new URL(f, REPO))));
}

function report(findings: Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line}: ${f.text}`).join("\n");
}

Deno.test("doc examples: no value is printed with its result in a comment", () => {
  const bad = scanRoots(ROOTS).filter((f) => f.rule === "printed-value");
  assert.equal(
    bad.length,
    0,
    `${bad.length} example line(s) print a value and state it in a comment; ` +
      `assert it instead (node:assert/strict):\n${report(bad)}`,
  );
});

Deno.test("doc examples: every runnable example asserts or explains itself", () => {
  const bad = scanRoots(ROOTS).filter((f) => f.rule === "silent-example");
  assert.equal(
    bad.length,
    0,
    `${bad.length} example(s) have no assertion and no comment; check a result or say ` +
      `what the example shows:\n${report(bad)}`,
  );
});

Deno.test("doc examples scanner: the roots exist and hold examples", () => {
  const files = sourceFiles(ROOTS);
  assert.ok(files.includes("tensor/ops/elementwise.ts"), "tensor/ops/elementwise.ts scanned");
  const blocks = files.reduce(
    (n, f) => n + jsdocBlocks(Deno.readTextFileSync(new URL(f, REPO))).length,
    0,
  );
  assert.ok(blocks > 300, `only ${blocks} example blocks found`);
});

Deno.test("doc examples scanner: flags synthetic bad examples and passes good ones", () => {
  const src = [
    "/**", // 1
    " * Adds.", // 2
    " * @example", // 3
    " * ```ts", // 4
    " * import { add, tensor } from './mod.ts';", // 5
    " * console.log(await add(tensor([1]), 1).toArray()); // [2]", // 6
    " * console.log(1) // 1", // 7
    " * console.log(", // 8
    " *   2,", // 9
    " * ); // 2", // 10
    " * console.log(3);", // 11
    " * // [3]", // 12
    " * console.log('a // b');", // 13
    " * ```", // 14
    " */", // 15
    "export const a = 1;", // 16
    "/**", // 17
    " * @example", // 18
    " * ```ts", // 19
    " * const x = 1;", // 20
    " * ```", // 21
    " */", // 22
    "/**", // 23
    " * @example", // 24
    " * ```ts", // 25
    " * import assert from 'node:assert/strict';", // 26
    " * assert.equal(1 + 1, 2);", // 27
    " * console.log('hi');", // 28
    " * // now something else", // 29
    " * ```", // 30
    " * ```ts", // 31
    " * const y = 2; // shows the call only", // 32
    " * ```", // 33
    " * ```ts ignore", // 34
    " * const z = 3;", // 35
    " * console.log(z); // 3", // 36
    " * ```", // 37
    " * ```sh", // 38
    " * echo x # console.log(1) // 1", // 39
    " * ```", // 40
    " */", // 41
    "// console.log(4); // 4 outside any doc comment", // 42
  ].join("\n");
  const found = scanSource("x.ts", src).map((f) => `${f.rule}@${f.line}`);
  assert.deepEqual(found, [
    "printed-value@6",
    "printed-value@7",
    "printed-value@10",
    "printed-value@11",
    "silent-example@20",
    "printed-value@36",
  ]);
  assert.equal(
    report(scanSource("x.ts", src).slice(0, 1)),
    "x.ts:6: console.log(await add(tensor([1]), 1).toArray()); // [2]",
  );
});
