/**
 * The layering of the library, as written in docs/ARCHITECTURE.md's "Layers" section (the
 * `layer -> layers it may import` block is read from there): every import and export-from —
 * static, `import type`, and dynamic `import("…")` with a literal — of every .ts file under
 * tensor/, autodiff/, nn/, models/, data/, distributed/, trainer/, cli/, experiments/ plus
 * mod.ts and train.ts must (a) go only to a layer its own layer may import, never outside the
 * library (tests/, bench/, tools/, …), (b) leave no import cycle among library files (type-only
 * imports included), and (c) in the core, be a relative `.ts` file (no npm:/jsr:/http(s):/node:/
 * bare specifiers).
 * Failures name the file, line and import; cycles are printed as paths.
 */
import assert from "node:assert/strict";
import { LIBRARY_DIRS } from "./_library.ts";

/** One import or export-from of a file. */
export interface ImportRef {
  spec: string;
  line: number;
  kind: "import" | "import type" | "export" | "export type" | "dynamic" | "side-effect";
}

/** The layer rules: who may import whom, and which layers form the dependency-free core. */
export interface LayerRules {
  allow: Map<string, Set<string>>;
  core: Set<string>;
}

const REGEX_AFTER = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * `src` with comments, string contents, template literals and regex literals blanked (same
 * length, newlines kept), and the value of every string literal keyed by its opening quote.
 */
export function maskSource(src: string): { code: string; strings: Map<number, string> } {
  const out = src.split("");
  const strings = new Map<number, string>();
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let prev = ""; // last significant code character
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === "/" && src[i + 1] === "/") {
      let j = i;
      while (j < n && src[j] !== "\n") j++;
      blank(i, j);
      i = j;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const j = end < 0 ? n : end + 2;
      blank(i, j);
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      strings.set(i, src.slice(i + 1, j));
      blank(i + 1, j);
      i = j + 1;
      prev = c;
    } else if (c === "`") {
      let j = i + 1, depth = 0;
      while (j < n) {
        const d = src[j]!;
        if (d === "\\") j += 2;
        else if (depth === 0 && d === "`") break;
        else {
          if (d === "$" && src[j + 1] === "{") depth++, j++;
          else if (depth > 0 && d === "{") depth++;
          else if (depth > 0 && d === "}") depth--;
          j++;
        }
      }
      blank(i + 1, j);
      i = j + 1;
      prev = "`";
    } else if (c === "/" && isRegexStart(out, i, prev)) {
      let j = i + 1, inClass = false;
      while (j < n && src[j] !== "\n") {
        const d = src[j]!;
        if (d === "\\") {
          j += 2;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      prev = "/";
    } else {
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return { code: out.join(""), strings };
}

function isRegexStart(out: string[], i: number, prev: string): boolean {
  if (prev === "" || !/[\w$)\]}]/.test(prev)) return true;
  if (!/[\w$]/.test(prev)) return false;
  let k = i - 1;
  while (k >= 0 && /\s/.test(out[k]!)) k--;
  let w = "";
  while (k >= 0 && /[\w$]/.test(out[k]!)) w = out[k--] + w;
  return REGEX_AFTER.has(w);
}

const PATTERNS: [RegExp, (m: RegExpExecArray) => ImportRef["kind"]][] = [
  [
    /(?<![.\w$])import\s+([\w$*{},\s]+?)\s*\bfrom\s*["']/g,
    (m) => /^type\s/.test(m[1]!) ? "import type" : "import",
  ],
  [/(?<![.\w$])import\s*["']/g, () => "side-effect"],
  [
    /(?<![.\w$])export\s+([\w$*{},\s]+?)\s*\bfrom\s*["']/g,
    (m) => /^type\s/.test(m[1]!) ? "export type" : "export",
  ],
  [/(?<![.\w$])import\s*\(\s*["']/g, () => "dynamic"],
];

/** Every import / export-from / literal dynamic import of a TypeScript source, in order. */
export function parseImports(src: string): ImportRef[] {
  const { code, strings } = maskSource(src);
  const refs: { at: number; ref: ImportRef }[] = [];
  for (const [re, kind] of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(code); m; m = re.exec(code)) {
      const quote = m.index + m[0].length - 1;
      const spec = strings.get(quote);
      if (spec === undefined) continue;
      const line = code.slice(0, m.index).split("\n").length;
      refs.push({ at: m.index, ref: { spec, line, kind: kind(m) } });
    }
  }
  return refs.sort((a, b) => a.at - b.at).map((r) => r.ref);
}

/**
 * The rules block of the "## Layers" section of ARCHITECTURE.md: lines `layer -> deps…` and
 * `core = layers…` inside a fenced block.
 */
export function parseLayerRules(markdown: string): LayerRules {
  const start = markdown.indexOf("\n## Layers\n");
  if (start < 0) throw new Error("layering: no '## Layers' section");
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const blocks = section.split("```").filter((_, i) => i % 2 === 1);
  const block = blocks.find((b) => /^\s*\w+\s*->/m.test(b));
  if (!block) throw new Error("layering: no `layer -> deps` block in the Layers section");
  const allow = new Map<string, Set<string>>();
  let core = new Set<string>();
  for (const raw of block.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    let m = /^(\w+)\s*->\s*([\w\s]*)$/.exec(line);
    if (m) {
      allow.set(m[1]!, new Set(m[2]!.split(/\s+/).filter(Boolean)));
      continue;
    }
    m = /^core\s*=\s*([\w\s]*)$/.exec(line);
    if (m) core = new Set(m[1]!.split(/\s+/).filter(Boolean));
    else throw new Error(`layering: cannot read rules line "${line}"`);
  }
  for (const [layer, deps] of allow) {
    for (const d of deps) {
      if (!allow.has(d)) throw new Error(`layering: ${layer} -> unknown layer "${d}"`);
    }
  }
  return { allow, core };
}

/** The layer of a repository-relative path: its top folder, "root" (mod.ts), "train" (train.ts). */
export function layerOf(path: string, rules: LayerRules): string | undefined {
  if (path === "mod.ts") return rules.allow.has("root") ? "root" : undefined;
  if (path === "train.ts") return rules.allow.has("train") ? "train" : undefined;
  const top = path.split("/")[0]!;
  return path.includes("/") && rules.allow.has(top) && top !== "root" && top !== "train"
    ? top
    : undefined;
}

/** Joins a relative specifier to the importing file's folder; undefined if it leaves the repo. */
export function resolve(from: string, spec: string): string | undefined {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}

/** Result of {@link checkLayering}: rule violations and the library's import graph. */
export interface LayeringReport {
  violations: string[];
  graph: Map<string, string[]>;
}

/**
 * Checks every import of the library files in `files` (repository-relative path → source)
 * against `rules`; files outside every layer are not scanned but count as import targets.
 */
export function checkLayering(files: Map<string, string>, rules: LayerRules): LayeringReport {
  const violations: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, src] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const layer = layerOf(file, rules);
    if (!layer) continue;
    const edges: string[] = [];
    graph.set(file, edges);
    for (const ref of parseImports(src)) {
      const where = `${file}:${ref.line}: ${ref.kind} "${ref.spec}"`;
      if (!ref.spec.startsWith("./") && !ref.spec.startsWith("../")) {
        if (rules.core.has(layer)) {
          violations.push(`${where}: the core (${layer}/) imports only relative .ts files`);
        }
        continue;
      }
      const target = resolve(file, ref.spec);
      if (target === undefined) {
        violations.push(`${where}: leaves the repository`);
        continue;
      }
      if (!target.endsWith(".ts")) {
        violations.push(`${where}: a relative import must name a .ts file`);
        continue;
      }
      const to = layerOf(target, rules);
      if (!to) {
        violations.push(`${where}: ${target} is outside the library (tests/, bench/, tools/, …)`);
        continue;
      }
      if (!files.has(target)) {
        violations.push(`${where}: ${target} does not exist`);
        continue;
      }
      if (to !== layer && !rules.allow.get(layer)!.has(to)) {
        const what = to === "root" ? "the root mod.ts" : `${to}/`;
        violations.push(
          `${where}: ${layer === "root" ? "mod.ts" : layer + "/"} may not import ${what}`,
        );
        continue;
      }
      if (!edges.includes(target)) edges.push(target);
    }
  }
  return { violations, graph };
}

/**
 * The import cycles of `graph`: for every strongly connected component with a cycle, the
 * shortest cycle through each of its files (deduplicated), as `[a, b, …, a]`.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), sccs: string[][] = [];
  const connect = (v: string) => {
    idx.set(v, index), low.set(v, index++), stack.push(v), on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) connect(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do (w = stack.pop()!, on.delete(w), scc.push(w)); while (w !== v);
      sccs.push(scc);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) connect(v);
  const cycles: string[][] = [], seen = new Set<string>();
  for (const scc of sccs) {
    const inScc = new Set(scc);
    for (const s of scc.sort()) {
      // BFS from s's successors back to s, inside the component.
      const parent = new Map<string, string>();
      const queue = [s];
      let found = false;
      while (queue.length && !found) {
        const v = queue.shift()!;
        for (const w of graph.get(v) ?? []) {
          if (!inScc.has(w)) continue;
          if (w === s) {
            parent.set(s + "\0end", v), found = true;
            break;
          }
          if (!parent.has(w)) parent.set(w, v), queue.push(w);
        }
      }
      if (!found) continue;
      const path = [s];
      for (let v = parent.get(s + "\0end")!; v !== s; v = parent.get(v)!) path.unshift(v);
      path.unshift(s);
      const key = [...path.slice(1)].sort().join("|");
      if (!seen.has(key)) seen.add(key), cycles.push(path);
    }
  }
  return cycles;
}

// ---- the repository ------------------------------------------------------------------------

const ROOT = new URL("../", import.meta.url);
const DIRS = LIBRARY_DIRS;

async function libraryFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && e.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  };
  for (const d of DIRS) await walk(d);
  for (const f of ["mod.ts", "train.ts"]) {
    files.set(f, await Deno.readTextFile(new URL(f, ROOT)));
  }
  return files;
}

const rules = parseLayerRules(
  await Deno.readTextFile(new URL("docs/ARCHITECTURE.md", ROOT)),
);

Deno.test("layering: ARCHITECTURE.md's rules cover every scanned layer", () => {
  for (const l of [...DIRS, "root", "train"]) assert.ok(rules.allow.has(l), `no rule for ${l}`);
  assert.deepEqual([...rules.core].sort(), ["autodiff", "models", "nn", "tensor"]);
});

Deno.test("layering: every import of library code keeps the layers of ARCHITECTURE.md", async () => {
  const files = await libraryFiles();
  const { violations, graph } = checkLayering(files, rules);
  assert.ok(graph.size > 100, `only ${graph.size} library files found`);
  assert.ok(
    violations.length === 0,
    `${violations.length} import(s) break the layering:\n  ${violations.join("\n  ")}`,
  );
});

Deno.test("layering: no import cycle among library files (type-only imports included)", async () => {
  const { graph } = checkLayering(await libraryFiles(), rules);
  const cycles = findCycles(graph);
  assert.ok(
    cycles.length === 0,
    `${cycles.length} import cycle(s):\n  ${cycles.map((c) => c.join(" → ")).join("\n  ")}`,
  );
});

// ---- the checker catches what it should -----------------------------------------------------

Deno.test("layering self-test: the parser finds every import form and nothing in comments or strings", () => {
  const src = [
    'import { a, type B } from "./a.ts";',
    'import type { C } from "../c.ts";',
    "import * as d from './d.ts';",
    'import "./side.ts";',
    'export { e } from "./e.ts";',
    'export type * from "./f.ts";',
    "export * as g from './g.ts';",
    'type H = typeof import("npm:h@1");',
    'const i = await import( "./i.ts" );',
    '// import { no } from "./comment.ts";',
    '/* export * from "./block.ts"; */',
    "const s = \"import x from './string.ts'\";",
    'const re = /import "\\.\\/regex.ts"/, t = `import("./template.ts")`;',
    'const half = 4 / 2; export {\n  j,\n  type K,\n} from "./j.ts";',
    'const w = ok.import("./method.ts");',
  ].join("\n");
  assert.deepEqual(parseImports(src).map((r) => [r.kind, r.spec, r.line]), [
    ["import", "./a.ts", 1],
    ["import type", "../c.ts", 2],
    ["import", "./d.ts", 3],
    ["side-effect", "./side.ts", 4],
    ["export", "./e.ts", 5],
    ["export type", "./f.ts", 6],
    ["export", "./g.ts", 7],
    ["dynamic", "npm:h@1", 8],
    ["dynamic", "./i.ts", 9],
    ["export", "./j.ts", 14],
  ]);
});

Deno.test("layering self-test: violations and cycles of a synthetic tree are reported", () => {
  const files = new Map([
    ["mod.ts", 'export * from "./tensor/a.ts";'],
    ["tensor/a.ts", 'import type { B } from "./b.ts";\nexport const a = 1;'],
    ["tensor/b.ts", 'import { a } from "./a.ts";\nimport { x } from "../tests/_helpers.ts";'],
    ["tensor/c.ts", 'import { y } from "npm:left-pad@1";\nimport { z } from "./missing.ts";'],
    ["nn/layer.ts", 'import { a } from "../mod.ts";\nimport { q } from "./q.js";'],
    ["models/m.ts", 'import { Rng } from "../data/rng.ts";\nimport { a } from "../tensor/a.ts";'],
    ["data/rng.ts", 'import { join } from "node:path";\nconst s = await import("../cli/main.ts");'],
    ["cli/main.ts", 'import { m } from "../models/m.ts";\nimport { r } from "../mod.ts";'],
    ["tests/_helpers.ts", 'import { a } from "../tensor/a.ts";'],
  ]);
  const { violations, graph } = checkLayering(files, rules);
  assert.deepEqual(violations, [
    'data/rng.ts:2: dynamic "../cli/main.ts": data/ may not import cli/',
    'models/m.ts:1: import "../data/rng.ts": models/ may not import data/',
    'nn/layer.ts:1: import "../mod.ts": nn/ may not import the root mod.ts',
    'nn/layer.ts:2: import "./q.js": a relative import must name a .ts file',
    'tensor/b.ts:2: import "../tests/_helpers.ts": tests/_helpers.ts is outside the library (tests/, bench/, tools/, …)',
    'tensor/c.ts:1: import "npm:left-pad@1": the core (tensor/) imports only relative .ts files',
    'tensor/c.ts:2: import "./missing.ts": tensor/missing.ts does not exist',
  ]);
  assert.deepEqual(findCycles(graph), [["tensor/a.ts", "tensor/b.ts", "tensor/a.ts"]]);
  // a longer cycle is printed once, whichever file it is found from
  const ring = new Map([["x.ts", ["y.ts"]], ["y.ts", ["z.ts"]], ["z.ts", ["x.ts"]], ["w.ts", []]]);
  assert.deepEqual(findCycles(ring), [["x.ts", "y.ts", "z.ts", "x.ts"]]);
});
