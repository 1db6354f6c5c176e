/**
 * A tiny static server for the browser demo (`deno task serve-example`): the page, the bundle
 * (`dist/`) and the Fashion-MNIST sample, with the COOP/COEP headers that make the page
 * cross-origin isolated (so `SharedArrayBuffer`, and with it the CPU backend's worker threads,
 * are available). Builds the bundle first when `dist/tessera.js` is missing.
 *
 * Usage: `deno run -A examples/browser/serve.ts [--port 8000] [--hostname 127.0.0.1]`, then
 * open the printed address.
 *
 * @module
 */

import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/** The URL path of the demo page. */
export const PAGE_PATH = "/examples/browser/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".gz": "application/octet-stream",
  ".png": "image/png",
};

/** Headers on every response: cross-origin isolation, no caching. */
export const ISOLATION_HEADERS: Record<string, string> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

/** Options of {@link serveExample}. */
export interface ServeOptions {
  /** Port (default 0: a free one). */
  port?: number;
  /** Interface (default 127.0.0.1). */
  hostname?: string;
  /** Folder served as `/dist/` (default the repository's `dist/`). */
  distDir?: string;
}

/** A running server; `await using` shuts it down. */
export interface ExampleServer extends AsyncDisposable {
  /** `http://host:port` */
  origin: string;
  /** The demo page's address. */
  page: string;
  /** Stops the server and waits for its connections to close. */
  shutdown(): Promise<void>;
}

/** Starts the server (see the module doc). */
export function serveExample(opts: ServeOptions = {}): Promise<ExampleServer> {
  const mounts: [string, string][] = [
    [PAGE_PATH, join(ROOT, "examples", "browser")],
    ["/dist/", resolve(opts.distDir ?? join(ROOT, "dist"))],
    ["/data/sample/fashion-mnist/", join(ROOT, "data", "sample", "fashion-mnist")],
  ];
  const respond = (body: BodyInit | null, status: number, type: string) =>
    new Response(body, { status, headers: { ...ISOLATION_HEADERS, "content-type": type } });

  async function handle(req: Request): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return respond("method not allowed\n", 405, "text/plain");
    }
    const path = new URL(req.url).pathname;
    if (path === "/") {
      return new Response(null, { status: 302, headers: { location: PAGE_PATH } });
    }
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const rest = decodeURIComponent(path.slice(prefix.length)) || "index.html";
      const parts = rest.split("/");
      if (parts.some((p) => p === "" || p.startsWith(".")) || rest.includes("\\")) break;
      try {
        const data = await Deno.readFile(join(dir, ...parts));
        const type = TYPES[extname(rest)] ?? "application/octet-stream";
        return respond(req.method === "HEAD" ? null : data, 200, type);
      } catch {
        break;
      }
    }
    return respond("not found\n", 404, "text/plain");
  }

  return new Promise((ok) => {
    const server = Deno.serve({
      port: opts.port ?? 0,
      hostname: opts.hostname ?? "127.0.0.1",
      onListen: () => {},
    }, handle);
    const { hostname, port } = server.addr;
    const origin = `http://${hostname}:${port}`;
    const shutdown = () => server.shutdown();
    ok({ origin, page: origin + PAGE_PATH, shutdown, [Symbol.asyncDispose]: shutdown });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8000" },
      hostname: { type: "string", default: "127.0.0.1" },
    },
    strict: true,
  });
  try {
    await Deno.stat(join(ROOT, "dist", "tessera.js"));
  } catch {
    const { bundle } = await import("../../tools/bundle.ts");
    console.error("dist/tessera.js is missing: building it (deno task bundle)");
    await bundle();
  }
  const server = await serveExample({ port: Number(values.port), hostname: values.hostname });
  console.log(`tessera demo: ${server.page}`);
}
