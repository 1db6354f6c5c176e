/**
 * Helpers of the dense-command tests (detect, segment): a tiny FMNIST-Scenes folder generated
 * into a temp dir for the length of a test.
 * @module
 */
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";

/**
 * Runs `f(data, dir)` on a fresh tiny FMNIST-Scenes folder (`images` train/val images, 8/4 by
 * default) at `data`, inside the temp dir `dir`, and removes `dir` afterwards.
 */
export async function withScenes(
  f: (data: string, dir: string) => Promise<void>,
  images: { train: number; val: number } = { train: 8, val: 4 },
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await generateScenes({ ...SCENES_VERSIONS.tiny, images }, dir);
    await f(`${dir}/fmnist-scenes-tiny`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
