/**
 * COCOeval bbox speed, tessera (data/eval) against pycocotools in the same run: 1,000 images
 * (640×480, 80 categories, 1–14 ground-truth boxes each, 5% crowd) × 100 detections per image
 * (3 jittered copies of each GT box, the rest random boxes), scores with ties.
 *
 *   deno run -A bench/coco_eval_bench.ts [--images 1000] [--dets 100] [--rounds 2]
 *     [--python /usr/bin/python3] [--skip-python]
 *
 * Times, best of `rounds`: "load" = reading and validating the GT file and the results file
 * (pycocotools: `COCO(gt)` + `loadRes`), "eval" = matching, accumulation and the summary
 * (pycocotools: `evaluate` + `accumulate` + `summarize`). Checks that both give the same 12
 * numbers (to 1e-9) and prints a markdown table for bench/RESULTS.md. pycocotools runs in a
 * child process (bench/coco_eval_pycocotools.py; built as tools/make_coco_fixtures.py says,
 * found on $PYCOCOTOOLS). Under `deno bench` the file registers a small tessera-only bench.
 * @module
 */
import { parseCocoGt, parseCocoResults } from "../data/coco/json.ts";
import { evaluateCoco } from "../data/eval/coco_eval.ts";
import { sceneRng } from "../data/scenes/prng.ts";

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

/** Deterministic GT and results. */
export function makeCocoBenchData(nImages: number, nDets: number): { gt: unknown; dt: unknown[] } {
  const r = sceneRng(2026);
  const u = () => r.u32() / 4294967296;
  const images = [], annotations = [], dt = [];
  const categories = Array.from({ length: 80 }, (_, k) => ({ id: k + 1, name: `c${k + 1}` }));
  let aid = 1;
  for (let i = 1; i <= nImages; i++) {
    images.push({ id: i, width: 640, height: 480, file_name: `${i}.jpg` });
    const dets: unknown[] = [];
    const n = r.range(1, 14), cats: number[] = [];
    for (let k = 0; k < n; k++) {
      const w = 4 + Math.floor(u() * 300), h = 4 + Math.floor(u() * 300);
      const x = Math.floor(u() * (640 - w)), y = Math.floor(u() * (480 - h));
      const c = r.range(1, 80);
      cats.push(c);
      annotations.push({
        id: aid++,
        image_id: i,
        category_id: c,
        bbox: [x, y, w, h],
        area: w * h,
        iscrowd: u() < 0.05 ? 1 : 0,
      });
      for (let j = 0; j < 3 && dets.length < nDets; j++) {
        const jx = (u() - 0.5) * 0.3 * w, jy = (u() - 0.5) * 0.3 * h;
        dets.push({
          image_id: i,
          category_id: c,
          score: Math.round(u() * 1000) / 1000,
          bbox: [x + jx, y + jy, w * (0.8 + 0.4 * u()), h * (0.8 + 0.4 * u())],
        });
      }
    }
    while (dets.length < nDets) {
      const w = 4 + Math.floor(u() * 200), h = 4 + Math.floor(u() * 200);
      dets.push({
        image_id: i,
        category_id: u() < 0.5 ? cats[r.int(cats.length)]! : r.range(1, 80),
        score: Math.round(u() * 100) / 100,
        bbox: [Math.floor(u() * (640 - w)), Math.floor(u() * (480 - h)), w, h],
      });
    }
    dt.push(...dets);
  }
  return { gt: { images, annotations, categories }, dt };
}

if (import.meta.main) {
  const nImages = Number(arg("--images", "1000")), nDets = Number(arg("--dets", "100"));
  const rounds = Number(arg("--rounds", "2"));
  const { gt, dt } = makeCocoBenchData(nImages, nDets);
  const dir = await Deno.makeTempDir({ prefix: "tessera_cocobench_" });
  const gtPath = `${dir}/gt.json`, dtPath = `${dir}/dt.json`;
  await Deno.writeTextFile(gtPath, JSON.stringify(gt));
  await Deno.writeTextFile(dtPath, JSON.stringify(dt));
  let load = Infinity, ev = Infinity, stats: readonly number[] = [];
  for (let k = 0; k < rounds; k++) {
    const t0 = performance.now();
    const g = parseCocoGt(JSON.parse(await Deno.readTextFile(gtPath)), gtPath);
    const d = parseCocoResults(JSON.parse(await Deno.readTextFile(dtPath)), g, dtPath);
    const t1 = performance.now();
    stats = evaluateCoco(g, d, "bbox").stats;
    const t2 = performance.now();
    load = Math.min(load, (t1 - t0) / 1000);
    ev = Math.min(ev, (t2 - t1) / 1000);
  }
  const rows = [["tessera (data/eval)", load, ev]];
  let same = "n/a";
  if (!Deno.args.includes("--skip-python")) {
    const py = arg("--python", "/usr/bin/python3");
    const script = new URL("./coco_eval_pycocotools.py", import.meta.url).pathname;
    const out = await new Deno.Command(py, { args: [script, gtPath, dtPath, String(rounds)] })
      .output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const res = JSON.parse(new TextDecoder().decode(out.stdout));
    rows.push(["pycocotools (cocoapi 8c9bcc3)", res.load_s, res.eval_s]);
    same = String(stats.every((v, i) => Math.abs(v - res.stats[i]) <= 1e-9));
  }
  await Deno.remove(dir, { recursive: true });
  console.log(
    `${nImages} images × ${nDets} detections (${dt.length} results), 80 categories; ` +
      `best of ${rounds}; same 12 numbers: ${same}; AP ${stats[0]!.toFixed(4)}\n`,
  );
  console.log("| side | load s | eval s | total s |\n|---|---|---|---|");
  for (const [n, l, e] of rows) {
    console.log(
      `| ${n} | ${(l as number).toFixed(2)} | ${(e as number).toFixed(2)} | ${
        ((l as number) + (e as number)).toFixed(2)
      } |`,
    );
  }
} else {
  const { gt, dt } = makeCocoBenchData(50, 100);
  const g = parseCocoGt(gt);
  const d = parseCocoResults(dt, g);
  Deno.bench("COCOeval bbox, 50 images × 100 detections", () => {
    evaluateCoco(g, d, "bbox");
  });
}
