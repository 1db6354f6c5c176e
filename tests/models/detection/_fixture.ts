/**
 * The torchvision fixtures of the detection tests (tools/make_detection_fixtures.py):
 * tests/fixtures/detection_rpn.safetensors and detection_roi.safetensors, loaded once.
 */
import assert from "node:assert/strict";
import { readSafetensorsFile, type Tensor } from "../../../mod.ts";

const load = (name: string) =>
  readSafetensorsFile(new URL(`../../fixtures/${name}.safetensors`, import.meta.url));
const [rpnFile, roiFile] = await Promise.all([load("detection_rpn"), load("detection_roi")]);
const tensors: Record<string, Tensor> = { ...rpnFile.tensors, ...roiFile.tensors };

/** The JSON "config" metadata of the RPN (`"rpn"`) or RoI (`"roi"`) fixture. */
export function fixtureConfig<C>(which: "rpn" | "roi"): C {
  return JSON.parse((which === "rpn" ? rpnFile : roiFile).metadata.config!) as C;
}

/** A fixture tensor that must exist. */
export function fx(name: string): Tensor {
  const v = tensors[name];
  assert.ok(v, `fixture has no tensor "${name}"`);
  return v;
}
