/**
 * Spherical k-means written in tessera ops, and the k-means patch tokenizer built on it
 * (spec `methods.md` §2: K-means codebook; §14.3: we use spherical (cosine) k-means on
 * L2-normalised, mean-centred patches, ~20 iterations).
 *
 * One iteration, on unit rows `x` `[M, d]` and unit centroids `C` `[K, d]`, in row chunks:
 * similarities `x Cᵀ`, assignments `argmax` (first maximum on ties), the objective
 * `mean(1 − max cos)` (= half the mean squared distance to the assigned unit centroid), then
 * per-cluster sums by `scatterAdd` and new centroids = normalised sums. The objective is
 * non-increasing: the update maximises each cluster's summed cosine, and re-assignment can
 * only improve it further.
 *
 * Empty clusters (no member this iteration), `emptyClusters`:
 * - `"reseed"` (default): the j-th empty cluster (in index order) takes the j-th worst-fitted
 *   point (lowest max cosine) as its centroid. It had no members, so the objective under the
 *   old assignment is unchanged and monotonicity is kept; dead codes come back to life.
 * - `"keep"`: an empty cluster keeps its previous centroid.
 *
 * Initialisation: `K` distinct rows drawn uniformly (random-patch init); requires `M ≥ K`.
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * import { kmeansTokenizer } from "./kmeans.ts";
 * const imgs = random.uniform(random.key(1), [16, 1, 8, 8]);
 * const { tokenizer, objectives } = await kmeansTokenizer(random.key(0), imgs, {
 *   vocabSize: 8, patchSize: 4, inChans: 1, iterations: 3,
 * });
 * console.log(tokenizer.codebook.shape, objectives.length); // [8, 16] 4
 * ```
 * @module
 */
import {
  argmax,
  argsort,
  concat,
  gather,
  matmul,
  max,
  ones,
  random,
  scatterAdd,
  scope,
  slice,
  sub,
  sum,
  type Tensor,
  tensor,
  TesseraError,
  transpose,
  where,
  zeros,
} from "../tensor/mod.ts";
import {
  fittingPatches,
  l2NormalizeRows,
  type PatchTokenizer,
  type TokenizerOptions,
} from "./tokenizers.ts";

/** Options of {@link sphericalKmeans}. */
export interface KmeansOptions {
  /** Update steps (default 20). */
  iterations?: number;
  /** Empty-cluster rule (default "reseed"; see the module doc). */
  emptyClusters?: "reseed" | "keep";
  /** Max elements of one similarity chunk `rows·K` (default 2²⁴). */
  chunkElems?: number;
}

/** Result of {@link sphericalKmeans}. */
export interface KmeansResult {
  /** float32 `[K, d]` unit centroids. */
  centroids: Tensor;
  /** `iterations + 1` objectives `mean(1 − max cos)`: at init, then after each update. */
  objectives: number[];
  /** Empty clusters met at each update. */
  emptyCounts: number[];
}

/** Assignment pass: sums, counts, objective sum and per-row best cosine. */
function assign(x: Tensor, c: Tensor, chunkElems: number) {
  return scope(() => {
    const [m, d] = x.shape as [number, number];
    const k = c.shape[0]!;
    const rows = Math.max(1, Math.floor(chunkElems / k));
    const cT = transpose(c);
    const backend = x.backend.name;
    let sums = zeros([k, d], { backend });
    let counts = zeros([k], { backend });
    const best: Tensor[] = [];
    for (let r = 0; r < m; r += rows) {
      const xs = slice(x, [[r, Math.min(m, r + rows)]]);
      const s = matmul(xs, cT);
      const a = argmax(s, 1);
      best.push(max(s, 1));
      sums = scatterAdd(sums, a, xs, 0);
      counts = scatterAdd(counts, a, ones([xs.shape[0]!], { backend }), 0);
    }
    const bestAll = best.length === 1 ? best[0]! : concat(best, 0);
    const objective = sum(sub(1, bestAll));
    return { sums, counts, bestAll, objective };
  });
}

/**
 * Spherical k-means on the rows of `x` (normalised here), `K` clusters.
 *
 * @param key PRNG key (initial centroids)
 * @param x float `[M, d]`, `M ≥ K`
 * @param k number of clusters
 * @param opts iterations, empty-cluster rule, chunk size
 * @returns centroids, objective per iteration, empty clusters per update
 *
 * @example
 * ```ts
 * import { random, tensor } from "../mod.ts";
 * import { sphericalKmeans } from "./kmeans.ts";
 * const x = tensor([[1, 0.1], [1, -0.1], [-0.1, 1], [0.1, 1]]);
 * const r = await sphericalKmeans(random.key(0), x, 2, { iterations: 5 });
 * console.log(r.objectives.at(-1)! < 0.01); // true
 * ```
 */
export async function sphericalKmeans(
  key: Tensor,
  x: Tensor,
  k: number,
  opts: KmeansOptions = {},
): Promise<KmeansResult> {
  const iterations = opts.iterations ?? 20;
  const rule = opts.emptyClusters ?? "reseed";
  const chunk = opts.chunkElems ?? 2 ** 24;
  if (x.ndim !== 2 || !Number.isInteger(k) || k < 1 || x.shape[0]! < k) {
    throw new TesseraError("sphericalKmeans", `need x [M, d] with M >= k = ${k}`);
  }
  const m = x.shape[0]!;
  const xn = l2NormalizeRows(x);
  let c = scope(() => gather(xn, slice(random.permutation(key, m), [[0, k]])));
  const objectives: number[] = [];
  const emptyCounts: number[] = [];
  try {
    for (let t = 0;; t++) {
      const a = assign(xn, c, chunk);
      try {
        objectives.push((await a.objective.item()) / m);
        if (t === iterations) break;
        const counts = (await a.counts.data()) as Float32Array;
        const empties = counts.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
        emptyCounts.push(empties);
        const next = scope(() => {
          const fresh = l2NormalizeRows(a.sums);
          if (empties === 0) return fresh;
          const isEmpty = Uint8Array.from(counts, (v) => (v === 0 ? 1 : 0));
          const empty = tensor(isEmpty, { dtype: "bool", shape: [k, 1], backend: xn.backend.name });
          if (rule === "keep") return where(empty, c, fresh);
          // j-th empty cluster (in index order) <- j-th worst-fitted point.
          let j = 0;
          const rank = Int32Array.from(isEmpty, (e) => (e ? j++ : 0));
          const worst = argsort(a.bestAll, 0);
          return where(
            empty,
            gather(xn, gather(worst, tensor(rank, { backend: xn.backend.name }))),
            fresh,
          );
        });
        c.dispose();
        c = next;
      } finally {
        for (const v of Object.values(a)) v.dispose();
      }
    }
  } finally {
    xn.dispose();
  }
  return { centroids: c, objectives, emptyCounts };
}

/** Options of {@link kmeansTokenizer}. */
export interface KmeansTokenizerOptions extends TokenizerOptions, KmeansOptions {
  /** Use at most this many patches, drawn without replacement (paper: 3M; default all). */
  maxPatches?: number;
}

/**
 * K-means codebook (spec §2): patches of `images` centred as the tokenizer will centre them
 * (default "dataset": mean patch removed), L2-normalised, clustered by {@link sphericalKmeans}
 * into `vocabSize` unit centroids.
 *
 * @param key PRNG key (patch subsample and initial centroids)
 * @param images float `[B, C, H, W]` in `[0, 1]` (the tokenizer's input view)
 * @param opts vocabulary, patch size, channels, centring, iterations, `maxPatches`
 * @returns the tokenizer, the objective per iteration and the empty clusters per update
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * import { kmeansTokenizer } from "./kmeans.ts";
 * import { tokenize } from "./tokenizers.ts";
 * const imgs = random.uniform(random.key(1), [8, 1, 8, 8]);
 * const { tokenizer } = await kmeansTokenizer(random.key(0), imgs, { vocabSize: 4, patchSize: 4, inChans: 1 });
 * console.log(tokenize(tokenizer, imgs).shape, tokenizer.kind); // [8, 4] "kmeans"
 * ```
 */
export async function kmeansTokenizer(
  key: Tensor,
  images: Tensor,
  opts: KmeansTokenizerOptions,
): Promise<{ tokenizer: PatchTokenizer; objectives: number[]; emptyCounts: number[] }> {
  const [kSub, kInit] = random.splitKeys(key);
  const { patches, centre } = fittingPatches(images, opts);
  let x = patches;
  const m = patches.shape[0]!;
  if (opts.maxPatches !== undefined && opts.maxPatches < m) {
    x = scope(() => gather(patches, slice(random.permutation(kSub!, m), [[0, opts.maxPatches!]])));
    patches.dispose();
  }
  try {
    const r = await sphericalKmeans(kInit!, x, opts.vocabSize, opts);
    const tokenizer: PatchTokenizer = {
      kind: "kmeans",
      codebook: r.centroids,
      patchSize: opts.patchSize,
      inChans: opts.inChans ?? 3,
      centring: opts.centring ?? "dataset",
      pixelMean: opts.pixelMean ?? [0.5],
      pixelStd: opts.pixelStd ?? [0.5],
      ...(centre ? { centre } : {}),
    };
    return { tokenizer, objectives: r.objectives, emptyCounts: r.emptyCounts };
  } finally {
    x.dispose();
    kSub!.dispose(), kInit!.dispose();
  }
}
