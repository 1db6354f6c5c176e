/**
 * The CPU kernels of the vision primitives (spread into the table of kernels.ts).
 * @module
 */
import type { Kernel } from "../backend.ts";
import type { VisionOp } from "../primitives.ts";
import { conv2dKernel, conv2dWeightGradKernel, convTranspose2dKernel } from "./vision_conv.ts";
import { maxPool2dArgmaxKernel, maxPool2dKernel, resample2dKernel } from "./vision_pool.ts";
import { nmsKeepKernel, roiAlignGradKernel, roiAlignKernel } from "./vision_roi.ts";

/** CPU kernel of every vision primitive. */
export const visionCpuKernels: { [P in VisionOp]: Kernel<P> } = {
  conv2d: conv2dKernel,
  convTranspose2d: convTranspose2dKernel,
  conv2dWeightGrad: conv2dWeightGradKernel,
  maxPool2d: maxPool2dKernel,
  maxPool2dArgmax: maxPool2dArgmaxKernel,
  resample2d: resample2dKernel,
  roiAlign: roiAlignKernel,
  roiAlignGrad: roiAlignGradKernel,
  nmsKeep: nmsKeepKernel,
};
