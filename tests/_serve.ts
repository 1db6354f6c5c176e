/**
 * A read-only static HTTP server for the repository, serving `.ts` as
 * `application/typescript` (a MIME type Deno accepts; `python3 -m http.server` says
 * `video/mp2t`, which Deno rejects with `SyntaxError: Expected ','`). Tests use `serveRepo()`
 * (127.0.0.1, a free port) to import tessera by URL the way users do; `deno task serve`
 * runs this file to serve the checkout for real:
 *
 * ```sh
 * deno task serve                 # http://127.0.0.1:8000/  (--port N, --hostname H)
 * deno run --allow-import=127.0.0.1:8000 http://127.0.0.1:8000/examples/quickstart.ts
 * ```
 *
 * @module
 */

import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** A running server; `await using` shuts it down. */
export interface RepoServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `127.0.0.1:<port>`, as `--allow-import`/`--allow-net` want it. */
  host: string;
  /** Stops the server and waits until it has closed every connection. */
  shutdown(): Promise<void>;
}

/** A response body served at a fixed path instead of a repository file. */
export interface ExtraRoute {
  /** Response body. */
  body: string;
  /** Content-Type header. */
  type: string;
}

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".wgsl": "text/plain; charset=utf-8",
  ".gz": "application/gzip",
  ".png": "image/png",
  ".jpg": "image/jpeg",
};

/** The repository root: the folder above `tests/`. */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL("../", import.meta.url)));

/**
 * Serves the files under the repository root (GET and HEAD only). Paths with `..`, dot
 * folders (`.git`), or leading outside the root through symlinks get 404, as do folders.
 *
 * @param extra fixed routes (absolute URL paths) served before the files, e.g. probe modules
 */
export async function serveRepo(
  extra: Record<string, ExtraRoute> = {},
  opts: { hostname?: string; port?: number } = {},
): Promise<RepoServer> {
  const rootReal = await Deno.realPath(REPO_ROOT);
  const notFound = () => new Response("not found\n", { status: 404 });

  async function handle(req: Request): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad request\n", { status: 400 });
    }
    const route = extra[path];
    if (route) {
      const body = req.method === "HEAD" ? null : route.body;
      return new Response(body, { headers: { "content-type": route.type } });
    }
    const parts = path.split("/").filter((p) => p !== "");
    if (path.includes("\0") || path.includes("\\") || parts.some((p) => p.startsWith("."))) {
      return notFound();
    }
    let file: string;
    try {
      file = await Deno.realPath(join(rootReal, ...parts));
      if (!file.startsWith(rootReal + sep) || !(await Deno.stat(file)).isFile) return notFound();
    } catch {
      return notFound();
    }
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const bytes = await Deno.readFile(file);
    return new Response(req.method === "HEAD" ? null : bytes, {
      headers: { "content-type": type, "content-length": String(bytes.length) },
    });
  }

  const hostname = opts.hostname ?? "127.0.0.1";
  const server = Deno.serve({ hostname, port: opts.port ?? 0, onListen() {} }, handle);
  const host = `${hostname}:${server.addr.port}`;
  const shutdown = async () => {
    await server.shutdown();
    await server.finished;
  };
  return { origin: `http://${host}`, host, shutdown, [Symbol.asyncDispose]: shutdown };
}

/** `deno task serve [--port N] [--hostname H]`: serves the checkout until Ctrl-C. */
async function main(args: string[]): Promise<void> {
  const opts = { hostname: "127.0.0.1", port: 8000 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--port" && value !== undefined && /^\d+$/.test(value)) opts.port = Number(value);
    else if (flag === "--hostname" && value) opts.hostname = value;
    else {
      console.error(`serve: unknown flag or bad value: ${flag} ${value ?? ""}`);
      console.error("usage: deno task serve [--port N] [--hostname H]");
      Deno.exit(2);
    }
  }
  const server = await serveRepo({}, opts);
  // The first line is read by tests/url_import_test.ts; keep its shape.
  console.log(`Serving ${REPO_ROOT} at ${server.origin}/`);
  console.log(
    `Import e.g. ${server.origin}/mod.ts with: deno run --allow-import=${server.host} <your script>`,
  );
}

if (import.meta.main) await main(Deno.args);
