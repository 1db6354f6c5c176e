/**
 * Compute pipelines, cached by WGSL source (plus binding signature). Creation always runs
 * inside validation and internal error scopes, so a WGSL or pipeline error becomes a
 * TesseraError naming the op (reported by the next execute/read; see errors.ts), and the
 * broken pipeline is dropped from the cache.
 * @module
 */
import type { ErrorState } from "./errors.ts";

/** A cached pipeline and its bind group layout. */
export interface Pipeline {
  /** The compute pipeline (entry point `main`). */
  readonly pipeline: GPUComputePipeline;
  /** Layout of bind group 0: binding 0 uniform params, then storage buffers in order. */
  readonly layout: GPUBindGroupLayout;
}

const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

/** Pipeline cache of one device. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #errors: ErrorState;
  readonly #cache = new Map<string, Pipeline>();
  readonly #layouts = new Map<string, GPUBindGroupLayout>();

  /**
   * @param device the device
   * @param errors where creation errors are recorded
   */
  constructor(device: GPUDevice, errors: ErrorState) {
    this.#device = device;
    this.#errors = errors;
  }

  /** Number of distinct pipelines created so far. */
  get size(): number {
    return this.#cache.size;
  }

  /**
   * The pipeline for `wgsl`. `access` lists the storage bindings 1..n in order: `"r"` for
   * read-only, `"w"` for read-write.
   */
  get(op: string, wgsl: string, access: string): Pipeline {
    const key = access + "\n" + wgsl;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const d = this.#device;
    const layout = this.#layout(access);
    d.pushErrorScope("validation");
    d.pushErrorScope("internal");
    const module = d.createShaderModule({ label: op, code: wgsl });
    const pipeline = d.createComputePipeline({
      label: op,
      layout: d.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    const drop = (e: GPUError | null) => {
      if (e) this.#cache.delete(key);
      return e;
    };
    this.#errors.track(
      op,
      "WebGPU internal error creating its pipeline",
      d.popErrorScope().then(drop),
    );
    this.#errors.track(op, "invalid WGSL or pipeline", d.popErrorScope().then(drop));
    const p = { pipeline, layout };
    this.#cache.set(key, p);
    return p;
  }

  #layout(access: string): GPUBindGroupLayout {
    let l = this.#layouts.get(access);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        // The parameter block's offset in the arena is dynamic, so bind groups can be reused.
        { binding: 0, visibility: COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } },
      ];
      for (let i = 0; i < access.length; i++) {
        entries.push({
          binding: i + 1,
          visibility: COMPUTE,
          buffer: { type: access[i] === "w" ? "storage" : "read-only-storage" },
        });
      }
      l = this.#device.createBindGroupLayout({ entries });
      this.#layouts.set(access, l);
    }
    return l;
  }
}
