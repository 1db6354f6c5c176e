/**
 * Vision ops on NCHW tensors with PyTorch semantics and gradients of every order: `conv2d`,
 * `convTranspose2d`, `maxPool2d`, `avgPool2d`, `adaptiveAvgPool2d`, `interpolate` (nearest,
 * bilinear) and `roiAlign` (torchvision). float32 on every backend, float64 on the CPU.
 *
 * avgPool2d, adaptiveAvgPool2d and interpolate share one primitive, `resample2d` (a separable
 * sparse linear map whose adjoint is its transpose); see tensor/vision_params.ts.
 * @module
 */
export type { Size2 } from "./_vision_args.ts";
export {
  conv2d,
  type Conv2dOptions,
  convTranspose2d,
  type ConvTranspose2dOptions,
} from "./conv.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  type AvgPool2dOptions,
  maxPool2d,
  maxPool2dIndices,
  type MaxPool2dOptions,
} from "./pooling.ts";
export {
  interpolate,
  type InterpolateOptions,
  roiAlign,
  type RoiAlignOptions,
} from "./interpolation.ts";
