/**
 * A tiny tmpfs for "disk full" tests: `mountTmpfs(size, prefix)` mounts one of `size` (e.g. "40k")
 * on a fresh temp directory and returns it, or returns null (with a warning naming `who`) where
 * mounting is refused (not root, or no permission); `unmountTmpfs` undoes it.
 */

async function run(cmd: string, ...args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** Mounts a tmpfs of `size` on a new temp dir; null where that is not permitted. */
export async function mountTmpfs(size: string, who: string): Promise<string | null> {
  const mountPoint = await Deno.makeTempDir({ prefix: "tessera_tmpfs_" });
  if (
    Deno.uid() === 0 && await run("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint)
  ) {
    return mountPoint;
  }
  await Deno.remove(mountPoint, { recursive: true });
  console.warn(`${who}: skipped (cannot mount a tmpfs: not root or not permitted)`);
  return null;
}

/** Unmounts and removes a {@link mountTmpfs} directory. */
export async function unmountTmpfs(mountPoint: string): Promise<void> {
  await run("umount", mountPoint);
  await Deno.remove(mountPoint, { recursive: true });
}
