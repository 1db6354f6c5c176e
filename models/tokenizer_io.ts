/**
 * Saving a patch tokenizer with the run and loading it back (safetensors: tensors `codebook`
 * and, for centring "dataset", `centre`; metadata `format`, `kind`, `vocab_size`, `patch_size`,
 * `in_chans`, `centring`, `pixel_mean`, `pixel_std`).
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * import { randomProjectionTokenizer } from "./tokenizers.ts";
 * import { loadTokenizer, saveTokenizer } from "./tokenizer_io.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveTokenizer(path, randomProjectionTokenizer(random.key(0), { vocabSize: 8, patchSize: 2 }));
 * console.log((await loadTokenizer(path)).codebook.shape); // [8, 12]
 * await Deno.remove(path);
 * ```
 * @module
 */
import {
  readSafetensorsFile,
  type Tensor,
  TesseraError,
  writeSafetensorsFile,
} from "../tensor/mod.ts";
import type { Centring, PatchTokenizer, TokenizerKind } from "./tokenizers.ts";

const FORMAT = "tessera-patch-tokenizer";

/**
 * Saves a tokenizer as safetensors: tensors `codebook` (and `centre`), metadata `format`,
 * `kind`, `vocab_size`, `patch_size`, `in_chans`, `centring`, `pixel_mean`, `pixel_std`
 * (JSON), plus any `extra` metadata.
 *
 * @param path file path
 * @param tok the tokenizer
 * @param extra more metadata (strings)
 *
 * @example
 * ```ts
 * import { random } from "../mod.ts";
 * import { randomProjectionTokenizer } from "./tokenizers.ts";
 * import { loadTokenizer, saveTokenizer } from "./tokenizer_io.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveTokenizer(path, randomProjectionTokenizer(random.key(0), { vocabSize: 16, patchSize: 2 }));
 * const tok = await loadTokenizer(path);
 * console.log(tok.kind, tok.codebook.shape); // "random-projection" [16, 12]
 * await Deno.remove(path);
 * ```
 */
export async function saveTokenizer(
  path: string | URL,
  tok: PatchTokenizer,
  extra: Record<string, string> = {},
): Promise<void> {
  const tensors: Record<string, Tensor> = { codebook: tok.codebook };
  if (tok.centre) tensors.centre = tok.centre;
  await writeSafetensorsFile(path, tensors, {
    ...extra,
    format: FORMAT,
    kind: tok.kind,
    vocab_size: String(tok.codebook.shape[0]),
    patch_size: String(tok.patchSize),
    in_chans: String(tok.inChans),
    centring: tok.centring,
    pixel_mean: JSON.stringify(tok.pixelMean),
    pixel_std: JSON.stringify(tok.pixelStd),
  });
}

/**
 * Loads a tokenizer written by {@link saveTokenizer}, validating its metadata.
 *
 * @param path file path
 * @param opts `backend` for the tensors
 * @returns the tokenizer
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./tokenizer_io.ts";
 * const ok = await loadTokenizer("/nonexistent").catch(() => "missing");
 * console.log(ok); // "missing"
 * ```
 */
export async function loadTokenizer(
  path: string | URL,
  opts: { backend?: string } = {},
): Promise<PatchTokenizer> {
  const { tensors, metadata: m } = await readSafetensorsFile(path, opts);
  const bad = (why: string) => new TesseraError("loadTokenizer", `${String(path)}: ${why}`);
  if (m.format !== FORMAT) throw bad(`not a tokenizer file (format ${m.format})`);
  const kinds: TokenizerKind[] = ["random-projection", "random-patches", "kmeans"];
  if (!kinds.includes(m.kind as TokenizerKind)) throw bad(`unknown kind ${m.kind}`);
  const cb = tensors.codebook;
  const p = Number(m.patch_size), c = Number(m.in_chans);
  if (!cb || cb.ndim !== 2 || cb.shape[0] !== Number(m.vocab_size) || cb.shape[1] !== c * p * p) {
    throw bad("codebook shape does not match vocab_size, in_chans and patch_size");
  }
  const centring = m.centring as Centring;
  if (!["none", "pixel", "dataset"].includes(centring)) throw bad(`bad centring ${centring}`);
  if (centring === "dataset" && tensors.centre?.shape[0] !== cb.shape[1]) {
    throw bad("missing or misshapen centre");
  }
  return {
    kind: m.kind as TokenizerKind,
    codebook: cb,
    patchSize: p,
    inChans: c,
    centring,
    pixelMean: JSON.parse(m.pixel_mean ?? "[0.5]"),
    pixelStd: JSON.parse(m.pixel_std ?? "[0.5]"),
    ...(tensors.centre ? { centre: tensors.centre } : {}),
  };
}
