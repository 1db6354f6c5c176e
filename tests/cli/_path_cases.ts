/**
 * Runs `train.ts` command lines through `main` and collects exit codes and stderr: in this
 * process, or (given a deno command prefix, e.g. one that drops privileges) in one subprocess
 * that runs this file as a script, the command lines on stdin, the results as JSON on stdout.
 * @module
 */
import { fileURLToPath } from "node:url";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";

/** An exit code and what went to stderr. */
export interface CaseResult {
  code: number;
  stderr: string;
}

async function inProcess(argvs: string[][]): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const argv of argvs) {
    const io = captureIO();
    out.push({ code: await main(argv, io), stderr: io.stderr });
  }
  return out;
}

/** Each of `argvs` through `main`; with `deno` (a command running deno), in a subprocess. */
export async function runCases(argvs: string[][], deno?: string[]): Promise<CaseResult[]> {
  if (!deno) return await inProcess(argvs);
  const self = fileURLToPath(import.meta.url);
  const child = new Deno.Command(deno[0]!, {
    args: [...deno.slice(1), "run", "-A", self],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(argvs)));
  await w.close();
  const r = await child.output();
  const text = new TextDecoder().decode(r.stdout);
  if (r.code !== 0) {
    throw new Error(`case runner exited ${r.code}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return JSON.parse(text) as CaseResult[];
}

if (import.meta.main) {
  const argvs = JSON.parse(await new Response(Deno.stdin.readable).text()) as string[][];
  const results = await inProcess(argvs);
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(results)));
}
