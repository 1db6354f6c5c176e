/** Launching replica scripts under the installed MPI launchers, for the tests. */

/**
 * Deadlock guard of the sim runs in tests: generous, because `deno test` type-checks each sim
 * Worker's module graph when it starts (seconds, and much more on a machine shared by many jobs).
 */
export const SIM_TIMEOUT_MS = 120_000;

/** An MPI launcher found on this machine. */
export interface Launcher {
  /** `openmpi` or `mpich`. */
  flavor: "openmpi" | "mpich";
  /** The executable. */
  cmd: string;
  /** Arguments placed before `-np` (Open MPI: oversubscribe a 2-core machine). */
  args: string[];
}

async function probe(cmd: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  } catch {
    return null;
  }
}

/** The launchers installed: Open MPI's `mpirun` and MPICH's `mpiexec.hydra`, where present. */
export async function launchers(): Promise<Launcher[]> {
  const found: Launcher[] = [];
  for (const cmd of ["mpirun.openmpi", "mpirun"]) {
    if ((await probe(cmd))?.includes("Open MPI")) {
      found.push({ flavor: "openmpi", cmd, args: ["--oversubscribe"] });
      break;
    }
  }
  for (const cmd of ["mpiexec.hydra", "mpirun.mpich"]) {
    if ((await probe(cmd))?.includes("HYDRA")) {
      found.push({ flavor: "mpich", cmd, args: [] });
      break;
    }
  }
  return found;
}

/** Environment Open MPI needs to run as root in a container. */
export const MPI_ENV: Record<string, string> = {
  OMPI_ALLOW_RUN_AS_ROOT: "1",
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
  OMPI_MCA_btl_vader_single_copy_mechanism: "none",
  NO_COLOR: "1",
};

/** What one `mpirun` job did. */
export interface Job {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `deno run -A script ...args` on `np` ranks; killed after `timeoutMs`. */
export async function mpirun(
  l: Launcher,
  np: number,
  script: string | URL,
  args: string[] = [],
  timeoutMs = 90_000,
): Promise<Job> {
  const t0 = performance.now();
  const path = script instanceof URL ? script.pathname : script;
  const out = await new Deno.Command(l.cmd, {
    args: [...l.args, "-np", String(np), Deno.execPath(), "run", "-A", path, ...args],
    env: MPI_ENV,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
  };
}

/** The results of a job, indexed by rank, reassembled from its `RESULT <rank> <i>/<n> <piece>` lines. */
export function results(stdout: string): string[] {
  const pieces: string[][] = [], counts: number[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^RESULT (\d+) (\d+)\/(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const r = Number(m[1]);
    (pieces[r] ??= [])[Number(m[2])] = m[4]!;
    counts[r] = Number(m[3]);
  }
  const out: string[] = [];
  pieces.forEach((p, r) => {
    // A rank with a missing piece has no result (the comparison then fails, naming it).
    if (p.length === counts[r] && !p.includes(undefined as unknown as string)) out[r] = p.join("");
  });
  return out;
}
