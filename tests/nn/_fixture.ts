/**
 * Shared helpers for the nn/ and models/ tests: the PyTorch fixture written by
 * `tools/make_vit_fixture.py` (loaded once per test file) and a tensor comparison that reports
 * the worst element.
 */
import assert from "node:assert/strict";
import { memoryStats, readSafetensorsFile, scope, type Tensor } from "../../mod.ts";

let cache: Promise<Record<string, Tensor>> | null = null;

/** The tensors of tests/fixtures/nn_torch.safetensors, by name. */
export function torchFixture(): Promise<Record<string, Tensor>> {
  cache ??= readSafetensorsFile(new URL("../fixtures/nn_torch.safetensors", import.meta.url))
    .then((r) => r.tensors);
  return cache;
}

/** A fixture tensor that must exist. */
export async function fx(name: string): Promise<Tensor> {
  const t = (await torchFixture())[name];
  assert.ok(t, `fixture has no tensor "${name}"`);
  return t;
}

/** Asserts `|got − want| ≤ atol + rtol·|want|` elementwise (same shape), naming the worst element. */
export async function assertClose(
  got: Tensor,
  want: Tensor | number[],
  opts: { atol?: number; rtol?: number; what?: string } = {},
): Promise<void> {
  const what = opts.what ?? "tensor";
  const g = Array.from(await got.data());
  const w = Array.isArray(want) ? want : Array.from(await want.data());
  if (!Array.isArray(want)) {
    assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  }
  assert.equal(g.length, w.length, `${what}: number of elements`);
  const atol = opts.atol ?? 1e-6, rtol = opts.rtol ?? 1e-5;
  let worst = -1, excess = 0;
  g.forEach((v, i) => {
    const e = Math.abs(v - w[i]!) - (atol + rtol * Math.abs(w[i]!));
    if (!(e <= 0) && (worst < 0 || e > excess || Number.isNaN(e))) worst = i, excess = e;
  });
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${g[worst]}, expected ${w[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Live CPU tensors (for leak checks). */
export function liveTensors(): number {
  return memoryStats().cpu?.tensors ?? 0;
}

/** Runs `fn` in a scope and asserts it leaves no tensors behind. */
export async function noLeak(fn: () => Promise<void> | void): Promise<void> {
  await torchFixture(); // the cached fixture is not a leak
  const before = liveTensors();
  await scope(async () => {
    await fn();
  });
  assert.equal(liveTensors(), before, "tensors leaked");
}
