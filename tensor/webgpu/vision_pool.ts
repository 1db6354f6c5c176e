/**
 * WebGPU max pooling (values or arg-max indices, one thread per output, PyTorch's scan order
 * and NaN rule) and `resample2d`: one thread per output element summing its separable taps
 * from two small CSR tables (built on the host by tensor/vision_params.ts — the same float32
 * weights the CPU uses — and uploaded per call).
 * @module
 */
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import type { Runtime } from "./runtime.ts";
import { type Binding, declare, linearMain, Params, WG } from "./wgsl.ts";
import { resampleTable } from "../vision_params.ts";
import type { MaxPool2dParams } from "../vision_params.ts";
import type { Operand } from "../backend.ts";
import type { Aval } from "../aval.ts";

const ISNAN =
  "fn isnan_(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }\n";

function maxPool(
  rt: Runtime,
  name: string,
  x: Operand,
  p: MaxPool2dParams,
  out: Aval,
  index: boolean,
): GpuStorage {
  const [, , h, w] = x.shape as [number, number, number, number];
  const [n, c, oh, ow] = out.shape as [number, number, number, number];
  const count = n * c * oh * ow;
  const st = rt.alloc(count * 4, name);
  if (count === 0) return st;
  const pr = new Params().u(
    count,
    h,
    w,
    oh,
    ow,
    ...p.kernel,
    ...p.stride,
    ...p.padding,
    ...p.dilation,
  );
  const b: Binding[] = [
    { name: "x", ty: "f32" },
    { name: "y", ty: index ? "i32" : "f32", rw: true },
  ];
  rt.run(name, {
    wgsl: declare(pr.length, b) + ISNAN + linearMain(`  let ox = i % p(4u); let t = i / p(4u);
  let oy = t % p(3u); let plane = t / p(3u);
  let base = plane * p(1u) * p(2u);
  var y0 = i32(oy * p(7u)) - i32(p(9u));
  let y1 = min(y0 + i32((p(5u) - 1u) * p(11u) + 1u), i32(p(1u)));
  while (y0 < 0) { y0 += i32(p(11u)); }
  var x0 = i32(ox * p(8u)) - i32(p(10u));
  let x1 = min(x0 + i32((p(6u) - 1u) * p(12u) + 1u), i32(p(2u)));
  while (x0 < 0) { x0 += i32(p(12u)); }
  let ninf = 0xff800000u; // a runtime value: Tint rejects a constant -inf
  var best = bitcast<f32>(ninf);
  var at = y0 * i32(p(2u)) + x0;
  for (var yy = y0; yy < y1; yy += i32(p(11u))) {
    for (var xx = x0; xx < x1; xx += i32(p(12u))) {
      let v = x[base + u32(yy) * p(2u) + u32(xx)];
      if (v > best || isnan_(v)) { best = v; at = yy * i32(p(2u)) + xx; }
    }
  }
  y[i] = ${index ? "at" : "best"};`),
    bindings: b,
    buffers: [x.storage as GpuStorage, st],
    params: pr.words(),
    groups: Math.ceil(count / WG),
  });
  return st;
}

/** `maxPool2d`. */
export const maxPool2dKernel: GpuKernel<"maxPool2d"> = (rt, inputs, params, out) =>
  maxPool(rt, "maxPool2d", inputs[0]!, params, out, false);

/** `maxPool2dArgmax`. */
export const maxPool2dArgmaxKernel: GpuKernel<"maxPool2dArgmax"> = (rt, inputs, params, out) =>
  maxPool(rt, "maxPool2dArgmax", inputs[0]!, params, out, true);

/** Uploads `data` (32-bit words) into a fresh storage. */
export function upload(rt: Runtime, name: string, data: Int32Array | Float32Array): GpuStorage {
  const s = rt.alloc(data.length * 4, name);
  if (data.length > 0) {
    rt.queue.write(
      s.buffer,
      s.offset,
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }
  return s;
}

/** `resample2d`: `out[i,j] = Σ_h wh · Σ_w ww · x[ih, iw]` from the per-axis tables. */
export const resample2dKernel: GpuKernel<"resample2d"> = (rt, inputs, params, out) => {
  const x = inputs[0]!;
  const [, , h, w] = x.shape as [number, number, number, number];
  const [n, c, oh, ow] = out.shape as [number, number, number, number];
  const count = n * c * oh * ow;
  const st = rt.alloc(count * 4, "resample2d");
  if (count === 0) return st;
  const th = resampleTable(params.h, params.transpose, true);
  const tw = resampleTable(params.w, params.transpose, true);
  // ints: ptrH | idxH | ptrW | idxW ; floats: wH | wW
  const ptrW = th.ptr.length + th.idx.length, idxW = ptrW + tw.ptr.length;
  const ints = new Int32Array(idxW + tw.idx.length);
  ints.set(th.ptr, 0);
  ints.set(th.idx, th.ptr.length);
  ints.set(tw.ptr, ptrW);
  ints.set(tw.idx, idxW);
  const floats = new Float32Array(th.w.length + tw.w.length);
  floats.set(th.w, 0);
  floats.set(tw.w, th.w.length);
  const ib = upload(rt, "resample2d", ints), fb = upload(rt, "resample2d", floats);
  const pr = new Params().u(count, oh, ow, h, w, th.ptr.length, ptrW, idxW, th.w.length);
  const b: Binding[] = [
    { name: "x", ty: "f32" },
    { name: "ti", ty: "i32" },
    { name: "tf", ty: "f32" },
    { name: "y", ty: "f32", rw: true },
  ];
  rt.run("resample2d", {
    wgsl: declare(pr.length, b) + linearMain(`  let j = i % p(2u); let t = i / p(2u);
  let r = t % p(1u); let plane = t / p(1u);
  let base = plane * p(3u) * p(4u);
  let hw0 = u32(ti[r]); let hw1 = u32(ti[r + 1u]);
  let ww0 = u32(ti[p(6u) + j]); let ww1 = u32(ti[p(6u) + j + 1u]);
  var acc = 0.0;
  for (var e = hw0; e < hw1; e++) {
    let row = base + u32(ti[p(5u) + e]) * p(4u);
    var s = 0.0;
    for (var f = ww0; f < ww1; f++) { s = s + tf[p(8u) + f] * x[row + u32(ti[p(7u) + f])]; }
    acc = acc + tf[e] * s;
  }
  y[i] = acc;`),
    bindings: b,
    buffers: [x.storage as GpuStorage, ib, fb, st],
    params: pr.words(),
    groups: Math.ceil(count / WG),
  });
  rt.free(ib);
  rt.free(fb);
  return st;
};
