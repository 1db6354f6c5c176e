/**
 * The path-flag table: every path flag (`DIR`, `FILE`, `PATH` in `--help`) of every command of
 * `COMMANDS` (so a new command is covered when it lands) given a missing path, a file where a
 * directory is expected (and the reverse), a path under a file, and a path in a directory its
 * user may not read or write: exit code 2 and a first stderr line naming the flag and the path.
 * The permission cases run in one subprocess with the DAC capabilities dropped (root ignores
 * the mode bits otherwise), falling back to `nobody`; skipped, with the reason, where neither is
 * possible.
 */
import assert from "node:assert/strict";
import { COMMANDS } from "../../cli/main.ts";
import { captureIO } from "../../trainer/io.ts";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { writeLabelPng } from "../../data/label_png.ts";
import { SAMPLE } from "./_util.ts";
import { runCases } from "./_path_cases.ts";

/** A path flag in one command (or mode, `evaluate coco`) of `train.ts`. */
interface PathFlag {
  /** `["evaluate", "coco"]`: the words before the flags. */
  command: string[];
  flag: string;
  /** The placeholder: DIR, FILE or PATH (file or run directory). */
  kind: "DIR" | "FILE" | "PATH";
}

/** The path flags of every command, read off its `--help` (each `Usage:` line opens a mode). */
async function pathFlags(): Promise<PathFlag[]> {
  const out: PathFlag[] = [];
  for (const name of Object.keys(COMMANDS)) {
    const io = captureIO();
    assert.equal(await COMMANDS[name]!.run(["--help"], io), 0, name);
    let command = [name];
    for (const line of io.stdout.join("\n").split("\n")) {
      const u = /^Usage: deno run -A train\.ts (.*)$/.exec(line);
      if (u) {
        command = u[1]!.split(" ").filter((_w, i, a) =>
          !a.slice(0, i + 1).some((x) => x.startsWith("-") || x.startsWith("["))
        );
        continue;
      }
      for (const m of line.matchAll(/(?:^|\s\s)--([a-z][a-z-]*) (DIR|FILE|PATH)\b/g)) {
        const f = { command, flag: m[1]!, kind: m[2] as PathFlag["kind"] };
        if (!out.some((g) => g.command.join(" ") === command.join(" ") && g.flag === f.flag)) {
          out.push(f);
        }
      }
    }
  }
  return out;
}

/** Files every case may point at; `T` holds them, fresh names under it are never created. */
async function fixtures(T: string) {
  await Deno.writeTextFile(`${T}/file`, "not what you expected\n");
  await Deno.mkdir(`${T}/dir`);
  await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 4, val: 2 } }, T);
  const scenes = `${T}/fmnist-scenes-tiny`;
  const gt = `${T}/gt.json`, res = `${T}/res.json`;
  await Deno.writeTextFile(
    gt,
    JSON.stringify({
      images: [{ id: 1, width: 8, height: 8, file_name: "a.png" }],
      categories: [{ id: 1, name: "x" }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 4, 4], area: 16 }],
    }),
  );
  await Deno.writeTextFile(
    res,
    JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, 4, 4], score: 0.9 }]),
  );
  await Deno.mkdir(`${T}/seg-gt`), await Deno.mkdir(`${T}/seg-pred`);
  const map = { height: 2, width: 2, data: Uint8Array.of(1, 2, 3, 4) };
  await writeLabelPng(`${T}/seg-gt/a.png`, map), await writeLabelPng(`${T}/seg-pred/a.png`, map);
  // A directory nobody but a capable root may enter (mode 000), for the subprocess cases.
  await Deno.mkdir(`${T}/locked/inner`, { recursive: true });
  await Deno.writeTextFile(`${T}/locked/inner/file`, "x");
  await Deno.chmod(`${T}/locked`, 0o000);
  /** Valid other flags of each command (its required ones, and quick settings). */
  const base: Record<string, string[]> = {
    finetune: ["--smoke", "--data", SAMPLE, "--backend", "cpu"],
    pretrain: ["--smoke", "--data", SAMPLE, "--backend", "cpu"],
    probe: ["--smoke", "--data", SAMPLE, "--init", "none", "--backend", "cpu"],
    linear: ["--smoke", "--data", SAMPLE],
    "experiment-cls": ["--quick", "--data", SAMPLE, "--out", `${T}/experiment-out`],
    scenes: ["--version", "tiny", "--out", `${T}/scenes-out`],
    "evaluate coco": ["--gt", gt, "--results", res],
    "evaluate seg": ["--gt", `${T}/seg-gt`, "--pred", `${T}/seg-pred`],
    detect: ["--smoke", "--data", scenes, "--backend", "cpu"],
    segment: ["--smoke", "--data", scenes, "--backend", "cpu"],
  };
  return base;
}

/** `argv` with `--flag value` set (replacing the base's value of that flag). */
function withFlag(base: string[], flag: string, value: string): string[] {
  const i = base.indexOf(`--${flag}`);
  const rest = i < 0 ? base : [...base.slice(0, i), ...base.slice(i + 2)];
  return [...rest, `--${flag}`, value];
}

/** The bad values of a flag: [label, path]. Output flags (`--out`) may name a new path. */
function badValues(f: PathFlag, T: string, n: number): [string, string][] {
  const fresh = `${T}/missing-${n}/x`;
  const output = f.flag === "out";
  const cases: [string, string][] = [["under a file", `${T}/file/sub`]];
  if (!output) cases.push(["missing", fresh]);
  if (f.kind === "DIR") cases.push(["a file for a directory", `${T}/file`]);
  if (f.kind === "FILE") cases.push(["a directory for a file", `${T}/dir`]);
  if (f.kind === "PATH") cases.push(["a directory without a checkpoint", `${T}/dir`]);
  if (f.kind === "PATH" && !output) cases.push(["a file that is no checkpoint", `${T}/file`]);
  return cases;
}

/** What is wrong with a case's outcome, or null. */
function problem(f: PathFlag, what: string, value: string, code: number, stderr: string) {
  const at = `${f.command.join(" ")} --${f.flag} (${what}: ${value})`;
  const first = stderr.split("\n").find((l) => l.startsWith("train.ts")) ?? "";
  if (code !== 2) return `${at}: exit ${code}: ${first}`;
  if (!first.includes(`--${f.flag}`)) return `${at}: the message names no flag: ${first}`;
  if (!first.includes(value)) return `${at}: the message names no path: ${first}`;
  if (/\n\s+at /.test(stderr)) return `${at}: a stack trace`;
  return null;
}

Deno.test("every path flag of every command: missing, wrong kind, under a file → exit 2 naming flag and path", async () => {
  const T = await Deno.makeTempDir();
  try {
    const base = await fixtures(T);
    const flags = await pathFlags();
    assert.ok(flags.length >= 15, `only ${flags.length} path flags`);
    for (const name of Object.keys(COMMANDS)) {
      assert.ok(flags.some((f) => f.command[0] === name) || name === "linear", name);
    }
    const cases = flags.flatMap((f, i) =>
      badValues(f, T, i).map(([what, value]) => ({
        f,
        what,
        value,
        argv: [...f.command, ...withFlag(base[f.command.join(" ")] ?? [], f.flag, value)],
      }))
    );
    const results = await runCases(cases.map((c) => c.argv));
    const bad = cases.flatMap((c, i) => {
      const p = problem(c.f, c.what, c.value, results[i]!.code, results[i]!.stderr);
      return p === null ? [] : [p];
    });
    assert.deepEqual(bad, [], `${bad.length} of ${cases.length} cases:\n${bad.join("\n")}`);
  } finally {
    await Deno.chmod(`${T}/locked`, 0o755).catch(() => {});
    await Deno.remove(T, { recursive: true });
  }
});

/** A command prefix that runs deno without the permission override of root, or why not. */
async function unprivileged(T: string): Promise<string[] | string> {
  const probe = async (prefix: string[]) => {
    try {
      const r = await new Deno.Command(prefix[0]!, {
        args: [...prefix.slice(1), "cat", `${T}/locked/inner/file`],
        stdout: "null",
        stderr: "null",
      }).output();
      // The locked file must be unreadable, and deno itself must still run.
      if (r.code === 0) return false;
      const d = await new Deno.Command(prefix[0]!, {
        args: [...prefix.slice(1), Deno.execPath(), "--version"],
        stdout: "null",
        stderr: "null",
      }).output();
      return d.code === 0;
    } catch {
      return false;
    }
  };
  if (Deno.uid() !== 0) return (await probe(["env"])) ? ["env"] : "the locked file is readable";
  const drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"];
  if (await probe(drop)) return drop;
  return "neither setpriv can drop root's DAC capabilities nor is the process unprivileged";
}

Deno.test("every path flag in (or as) a directory without permission → exit 2 naming flag and path", async (t) => {
  const T = await Deno.makeTempDir();
  try {
    const base = await fixtures(T);
    const prefix = await unprivileged(T);
    if (typeof prefix === "string") {
      console.warn(`skipped: ${prefix}`);
      await t.step({ name: `skipped: ${prefix}`, ignore: true, fn: () => {} });
      return;
    }
    const flags = await pathFlags();
    const cases = flags.flatMap((f) => {
      const values = f.flag === "out"
        ? [`${T}/locked/new`, `${T}/locked/inner`]
        : [`${T}/locked/inner`, `${T}/locked/inner/file`];
      return values.map((value) => ({
        f,
        value,
        argv: [...f.command, ...withFlag(base[f.command.join(" ")] ?? [], f.flag, value)],
      }));
    });
    const results = await runCases(cases.map((c) => c.argv), [...prefix, Deno.execPath()]);
    const bad = cases.flatMap((c, i) => {
      const p = problem(c.f, "no permission", c.value, results[i]!.code, results[i]!.stderr);
      return p === null ? [] : [p];
    });
    assert.deepEqual(bad, [], `${bad.length} of ${cases.length} cases:\n${bad.join("\n")}`);
  } finally {
    await Deno.chmod(`${T}/locked`, 0o755).catch(() => {});
    await Deno.remove(T, { recursive: true });
  }
});
