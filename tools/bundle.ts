/**
 * Builds tessera for browsers (`deno task bundle`):
 *
 * - `dist/tessera.js` and `dist/tessera.min.js`, one ES module each with a source map, built by
 *   esbuild from the root `mod.ts` (tensors, autodiff, both backends) plus the nn/ and models/
 *   entry points as the namespaces `nn` and `models`. data/ and cli/ stay out (sharp,
 *   `node:path`, the file system); the few library functions that take a file path throw a
 *   TesseraError outside Deno (tensor/host_fs.ts).
 * - `dist/tessera.d.ts` (with `dist/types/`, tsc's declarations of the sources).
 *
 * Before bundling it type-checks the library for the browser target: DOM libraries and
 * `@webgpu/types` instead of Deno's namespace (`tools/deno.browser.json`).
 *
 * Usage: `deno run -A tools/bundle.ts [--out DIR] [--no-check] [--no-dts] [--quiet]`.
 *
 * @module
 */

import * as esbuild from "npm:esbuild@0.28.2";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The repository root. */
export const ROOT: string = resolve(fileURLToPath(new URL("../", import.meta.url)));

/** The version of `@webgpu/types` the browser target is checked against. */
export const WEBGPU_TYPES = "@webgpu/types@0.1.74";
const TYPESCRIPT = "npm:typescript@5.9.3";

/** The bundle's entry module: what `dist/tessera.js` exports. */
export const ENTRY = [
  'export * from "./mod.ts";',
  'export * as nn from "./nn/mod.ts";',
  'export * as models from "./models/mod.ts";',
  "",
].join("\n");

/** One output file and its size. */
export interface BuiltFile {
  /** Absolute path. */
  path: string;
  /** Bytes. */
  bytes: number;
  /** Bytes after gzip. */
  gzipBytes: number;
}

/** Options of {@link bundle}. */
export interface BundleOptions {
  /** Output folder (default `dist/` in the repository). */
  outDir?: string;
  /** Run the browser-target type check first (default true). */
  check?: boolean;
  /** Write `tessera.d.ts` and `types/` (default true). */
  dts?: boolean;
  /** Progress lines go here (default: stderr). */
  log?: (line: string) => void;
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function run(args: string[], what: string): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  if (code !== 0) {
    const dec = new TextDecoder();
    throw new Error(`${what} failed:\n${dec.decode(stdout)}${dec.decode(stderr)}`);
  }
}

/** Type-checks the library for browsers: DOM libraries + `@webgpu/types`, no `Deno`. */
export async function checkBrowserTarget(): Promise<void> {
  await run(
    [
      "check",
      "--quiet",
      "--config",
      "tools/deno.browser.json",
      "mod.ts",
      "nn/mod.ts",
      "models/mod.ts",
    ],
    "browser-target type check (tools/deno.browser.json)",
  );
}

/** The folder of an npm package in Deno's cache (downloading it first). */
async function npmPackageDir(spec: string): Promise<string> {
  await run(["cache", "--quiet", "--no-lock", `npm:${spec}`], `deno cache npm:${spec}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const cache = JSON.parse(new TextDecoder().decode(out.stdout)).npmCache as string;
  const at = spec.lastIndexOf("@");
  return join(cache, "registry.npmjs.org", spec.slice(0, at), spec.slice(at + 1));
}

/** Writes `outDir/types/**` with tsc and `outDir/tessera.d.ts` over them. */
async function writeDeclarations(outDir: string): Promise<void> {
  const webgpu = join(await npmPackageDir(WEBGPU_TYPES), "dist", "index.d.ts");
  const types = join(outDir, "types");
  await Deno.remove(types, { recursive: true }).catch(() => {});
  const tmp = await Deno.makeTempDir({ prefix: "tessera-dts-" });
  try {
    const tsconfig = join(tmp, "tsconfig.json");
    await Deno.writeTextFile(
      tsconfig,
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["esnext", "dom", "dom.iterable", "dom.asynciterable"],
          types: [],
          strict: true,
          noUncheckedIndexedAccess: true,
          noImplicitOverride: true,
          allowImportingTsExtensions: true,
          declaration: true,
          emitDeclarationOnly: true,
          skipLibCheck: true,
          rootDir: ROOT,
          outDir: types,
        },
        files: [...["mod.ts", "nn/mod.ts", "models/mod.ts"].map((f) => join(ROOT, f)), webgpu],
      }),
    );
    await run(
      ["run", "-A", "--no-lock", `${TYPESCRIPT}/tsc`, "-p", tsconfig],
      "tsc (declarations)",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  // The sources import `./x.ts`; declarations are found as `./x.js` → `x.d.ts`.
  const rewrite = /(from\s+|import\()(["'])(\.{1,2}\/[^"']*)\.ts\2/g;
  for await (const f of walk(types)) {
    if (!f.endsWith(".d.ts")) continue;
    const src = await Deno.readTextFile(f);
    await Deno.writeTextFile(f, src.replace(rewrite, "$1$2$3.js$2"));
  }
  const head = [
    "// tessera's types for dist/tessera.js. WebGPU's types (GPUDevice, …) come from",
    `// ${WEBGPU_TYPES.replace(/@(?=[^@]*$)/, " ")} (npm), as in TypeScript's browser setups.`,
    "",
  ];
  await Deno.writeTextFile(
    join(outDir, "tessera.d.ts"),
    head.join("\n") + ENTRY.replaceAll('"./', '"./types/').replaceAll('.ts"', '.js"'),
  );
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

/**
 * Builds the browser bundle (see the module doc) and returns the files written with their
 * sizes.
 */
export async function bundle(opts: BundleOptions = {}): Promise<BuiltFile[]> {
  const outDir = resolve(opts.outDir ?? join(ROOT, "dist"));
  const log = opts.log ?? ((l: string) => console.error(l));
  await Deno.mkdir(outDir, { recursive: true });
  if (opts.check ?? true) {
    log(`type-checking the browser target (DOM + ${WEBGPU_TYPES})`);
    await checkBrowserTarget();
  }
  const paths: string[] = [];
  try {
    for (const minify of [false, true]) {
      const outfile = join(outDir, minify ? "tessera.min.js" : "tessera.js");
      await esbuild.build({
        stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: "tessera.ts", loader: "ts" },
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        minify,
        sourcemap: true,
        sourcesContent: true,
        legalComments: "none",
        outfile,
        logLevel: "warning",
      });
      paths.push(outfile, outfile + ".map");
    }
  } finally {
    await esbuild.stop();
  }
  if (opts.dts ?? true) {
    log("writing declarations (tsc)");
    await writeDeclarations(outDir);
    paths.push(join(outDir, "tessera.d.ts"));
  }
  const files: BuiltFile[] = [];
  for (const path of paths) {
    const data = await Deno.readFile(path);
    files.push({ path, bytes: data.length, gzipBytes: await gzipSize(data) });
  }
  return files;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string" },
      "no-check": { type: "boolean", default: false },
      "no-dts": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  const files = await bundle({
    outDir: values.out,
    check: !values["no-check"],
    dts: !values["no-dts"],
    log: values.quiet ? () => {} : undefined,
  });
  for (const f of files) {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(`${relative(Deno.cwd(), f.path)}: ${kb(f.bytes)} (gzip ${kb(f.gzipBytes)})`);
  }
}
