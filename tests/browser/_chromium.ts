/**
 * Test helper: headless Chromium driven over the DevTools protocol (a WebSocket from Deno; no
 * puppeteer). {@link findChromium} looks for Debian's `chromium` (or `$CHROMIUM`);
 * {@link launchChromium} starts it with a fresh profile and returns a handle whose
 * `close()` (or `await using`) ends the browser and waits for the process.
 *
 * @module
 */

/** Where Chromium is looked for, after `$CHROMIUM`. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** The Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  let env: string | undefined;
  try {
    env = Deno.env.get("CHROMIUM");
  } catch {
    env = undefined;
  }
  for (const p of env ? [env, ...CANDIDATES] : CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** A DevTools protocol message from the browser. */
interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** One page (tab), attached with a flat session. */
export interface Page {
  /** Evaluates a JavaScript expression in the page and returns its (JSON) value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` every 100 ms until it is truthy; throws after `timeoutMs`. */
  waitFor(expression: string, timeoutMs: number): Promise<void>;
  /** A PNG of the visible page. */
  screenshot(): Promise<Uint8Array>;
  /** Console messages and uncaught exceptions the page reported, in order. */
  readonly log: { kind: "console" | "exception"; level: string; text: string }[];
}

/** A running browser. */
export interface Chromium extends AsyncDisposable {
  /** Opens `url` in a new tab of `width`×`height` and waits for its load event. */
  newPage(url: string, width?: number, height?: number): Promise<Page>;
  /** Closes the browser and waits for the process to exit. */
  close(): Promise<void>;
}

/** Seconds {@link launchChromium} waits for the browser's DevTools endpoint. */
const START_TIMEOUT_S = 90;

/**
 * Starts headless Chromium at `exe` with `extraArgs`, retrying once when the first start fails
 * (a cold start can exit early while its profile is created under load).
 */
export async function launchChromium(exe: string, extraArgs: string[] = []): Promise<Chromium> {
  try {
    return await launchOnce(exe, extraArgs);
  } catch {
    return await launchOnce(exe, extraArgs);
  }
}

/**
 * One start of headless Chromium at `exe` with `extraArgs` (e.g. WebGPU switches). The flags
 * keep it off the network (no background fetches, component updates or sync).
 */
async function launchOnce(exe: string, extraArgs: string[] = []): Promise<Chromium> {
  const profile = await Deno.makeTempDir({ prefix: "tessera-chromium-" });
  const child = new Deno.Command(exe, {
    args: [
      "--headless",
      "--no-sandbox",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      ...extraArgs,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const cleanup = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  // Chromium writes its port and browser endpoint path to <profile>/DevToolsActivePort.
  // A cold first start on a loaded 2-core CI machine (font cache, profile creation) has taken
  // over 15 s; 90 s bounds a hang without failing a slow start.
  let wsUrl: string | undefined;
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  while (Date.now() < deadline && !exited) {
    try {
      const [port, path] = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n");
      if (port && path) {
        wsUrl = `ws://127.0.0.1:${port}${path}`;
        break;
      }
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!wsUrl) {
    await cleanup();
    throw new Error(
      `${exe} did not start (${exited ? "it exited" : "no DevToolsActivePort"} after ` +
        `${START_TIMEOUT_S} s)`,
    );
  }

  const ws = new WebSocket(wsUrl);
  const opened = new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = () => fail(new Error(`cannot connect to ${wsUrl}`));
  });
  const closed = new Promise<void>((ok) => ws.addEventListener("close", () => ok()));
  try {
    await opened;
  } catch (e) {
    await cleanup();
    throw e;
  }
  let nextId = 1;
  const pending = new Map<
    number,
    { ok: (r: Record<string, unknown>) => void; fail: (e: Error) => void }
  >();
  const listeners = new Set<(m: CdpMessage) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as CdpMessage;
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.fail(new Error(m.error.message));
      else p?.ok(m.result ?? {});
    } else for (const l of listeners) l(m);
  };
  ws.onclose = () => {
    for (const p of pending.values()) p.fail(new Error("DevTools connection closed"));
    pending.clear();
  };
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((ok, fail) => {
      const id = nextId++;
      pending.set(id, { ok, fail });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  async function newPage(url: string, width = 1200, height = 800): Promise<Page> {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    const log: Page["log"] = [];
    let loaded: () => void = () => {};
    const onLoad = new Promise<void>((ok) => loaded = ok);
    listeners.add((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === "Runtime.consoleAPICalled") {
        const p = m.params as { type: string; args: { value?: unknown; description?: string }[] };
        log.push({
          kind: "console",
          level: p.type,
          text: p.args.map((a) => a.value ?? a.description ?? "").join(" "),
        });
      } else if (m.method === "Runtime.exceptionThrown") {
        const d =
          (m.params as { exceptionDetails: { text: string; exception?: { description?: string } } })
            .exceptionDetails;
        log.push({ kind: "exception", level: "error", text: d.exception?.description ?? d.text });
      } else if (m.method === "Page.loadEventFired") loaded();
    });
    await send("Runtime.enable", {}, sessionId);
    await send("Page.enable", {}, sessionId);
    await send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    }, sessionId);
    await send("Page.navigate", { url }, sessionId);
    await onLoad;
    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = await send("Runtime.evaluate", {
        expression,
        returnByValue: true,
        awaitPromise: true,
      }, sessionId) as { result: { value?: T }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
      return r.result.value as T;
    };
    return {
      log,
      evaluate,
      async waitFor(expression, timeoutMs) {
        const t0 = Date.now();
        while (!(await evaluate<boolean>(`!!(${expression})`))) {
          if (Date.now() - t0 > timeoutMs) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async screenshot() {
        const { data } = await send("Page.captureScreenshot", { format: "png" }, sessionId) as {
          data: string;
        };
        return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      },
    };
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      try {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          send("Browser.close"),
          new Promise((r) => {
            timer = setTimeout(r, 3000);
          }),
        ]).finally(() => clearTimeout(timer));
      } catch {
        // the connection may drop before the reply
      }
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
      const t = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 5000);
      await status;
      clearTimeout(t);
      await cleanup();
    })();
  return { newPage, close, [Symbol.asyncDispose]: close };
}
