/**
 * Test helper: a read-only static HTTP server for the repository, on 127.0.0.1 with a
 * free port, so tests can import tessera by URL the way users do.
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
export async function serveRepo(extra: Record<string, ExtraRoute> = {}): Promise<RepoServer> {
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

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const host = `127.0.0.1:${server.addr.port}`;
  const shutdown = async () => {
    await server.shutdown();
    await server.finished;
  };
  return { origin: `http://${host}`, host, shutdown, [Symbol.asyncDispose]: shutdown };
}
