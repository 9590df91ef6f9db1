#!/usr/bin/env python3
"""octet analyze and octet tune end to end on mobilenetv2-12 (small enough
for CI): the analysis document, the sensitivity rankings checked against
full simulated runs of the same configurations (the rankings rerun only the
steps downstream of a tensor from cached activations, so this is what proves
the cache and restore right), the HTML report, and tune's target handling
and bad input. Prints "N passed, N failed"; exits 77 when assets are absent."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + what)
    else:
        failed += 1
        print("FAIL " + what)


def run(args, expect=None):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if expect is not None and p.returncode != expect:
        print("  command: " + " ".join(args))
        print("  exit %d, stderr: %s" % (p.returncode, p.stderr[-2000:]))
    return p


def main():
    octet = sys.argv[sys.argv.index("--octet") + 1]
    shared = os.environ.get("OCTET_SHARED", os.path.join(REPO, "..", "shared"))
    model = os.path.join(shared, "models", "mobilenetv2", "mobilenetv2-12.onnx")
    images = os.path.join(shared, "data", "imagenet500", "images")
    if not os.path.exists(model) or not os.path.isdir(images):
        print("SKIPPED: %s or %s is missing (set OCTET_SHARED)" % (model, images))
        return 77
    tmp = tempfile.mkdtemp(prefix="octet_analyze_")
    try:
        # a small folder: calibration and analysis share it
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        for name in sorted(os.listdir(images))[:6]:
            shutil.copy(os.path.join(images, name), data)
        plan = os.path.join(tmp, "plan.json")
        pre = ["--preset", "imagenet"]
        run([octet, "calibrate", model, "--data", data, "--method", "minmax", "--scheme", "all", "-o", plan,
             "--quiet"] + pre, 0)
        out = os.path.join(tmp, "an.json")
        html = os.path.join(tmp, "an.html")
        p = run([octet, "analyze", model, "--plan", plan, "--data", data, "--count", "4", "--sensitivity",
                 "--sens-images", "2", "-o", out, "--report", html, "--quiet"] + pre, 0)
        check(p.returncode == 0 and os.path.exists(out), "analyze writes the document")
        doc = json.load(open(out))
        check(doc.get("format") == "octet-analysis" and doc.get("images") == 4, "document header")
        ts = doc.get("tensors", [])
        int8 = [t for t in ts if t["precision"] == "int8"]
        check(len(int8) > 50 and all(isinstance(t["sqnr_db"], (int, float)) for t in int8),
              "every int8 tensor has an SQNR (%d)" % len(int8))
        check(all(0 <= t["zeroed_rate"] <= 1 and 0 <= t["saturation_rate"] <= 1 for t in int8),
              "rates are shares")
        check(all(set(t["thresholds"]) == {"minmax", "entropy", "percentile", "mse"} for t in int8),
              "each calibrator's threshold per tensor")
        # minmax plan on the same images: the data never exceed the threshold
        first = [t for t in int8 if t["is_input"]]
        check(first and first[0]["saturation_rate"] == 0, "minmax: the input never saturates")
        outs = doc["summary"]["outputs"]
        check(len(outs) == 1 and 0 < outs[0]["cosine"] <= 1, "output fidelity")
        check(len(doc.get("histograms", [])) in range(1, 9), "histograms of the worst tensors")
        sens = doc.get("sensitivity", {})
        only, exc = sens.get("only", []), sens.get("except", [])
        check(len(only) == len(int8) and len(exc) == len(int8), "both rankings cover every int8 tensor")
        check(all(only[i]["score"] <= only[i + 1]["score"] for i in range(len(only) - 1)),
              "the 'only' ranking is worst first")
        html_text = open(html).read() if os.path.exists(html) else ""
        check(all('id="%s"' % s in html_text for s in ("summary", "diagnosis", "sensitivity", "plan")),
              "the HTML report has its sections")
        # The rankings against full runs: the plan with only the worst tensor
        # int8 (nodes fp32), and the plan with all but it, scored by octet
        # eval against FP32 on the same first two images.
        base = json.load(open(plan))
        worst = only[0]["tensor"]

        def eval_sqnr(p):
            path = os.path.join(tmp, "cfg.json")
            json.dump(p, open(path, "w"))
            r = run([octet, "eval", model, "--task", "classify", "--images", data, "--count", "2", "--plan", path,
                     "--simulate", "--json", "--quiet"] + pre, 0)
            return json.loads(r.stdout)["outputs"][0]["sqnr_db"]

        cfg = json.loads(json.dumps(base))
        for name, t in cfg["tensors"].items():
            t["precision"] = "int8" if name == worst else "fp32"
        for n in cfg["nodes"].values():
            n["precision"] = "fp32"
        full = eval_sqnr(cfg)
        check(abs(full - only[0]["score"]) < 0.05,
              "'only %s' = a full run: %.3f vs %.3f dB" % (worst, only[0]["score"], full))
        best = exc[0]["tensor"]
        cfg = json.loads(json.dumps(base))
        cfg["tensors"][best]["precision"] = "fp32"
        full = eval_sqnr(cfg)
        check(abs(full - exc[0]["score"]) < 0.05,
              "'all but %s' = a full run: %.3f vs %.3f dB" % (best, exc[0]["score"], full))

        # the first ranking by a task metric: top-1 agreement with FP32
        out2 = os.path.join(tmp, "an2.json")
        p = run([octet, "analyze", model, "--plan", plan, "--data", data, "--count", "2", "--sensitivity",
                 "--sens-images", "2", "--metric", "top1", "--task", "classify", "-o", out2, "--quiet"] + pre, 0)
        s2 = json.load(open(out2)).get("sensitivity", {}) if p.returncode == 0 else {}
        o2 = s2.get("only", [])
        check(s2.get("task") == "label-free top1" and len(o2) == len(int8) and
              all(e.get("task") in (0, 0.5, 1) for e in o2), "analyze --metric top1: each entry's agreement")
        check(all((o2[i]["task"], o2[i]["score"]) <= (o2[i + 1]["task"], o2[i + 1]["score"])
                  for i in range(len(o2) - 1)), "ordered by the task metric, then the SQNR")
        p = run([octet, "analyze", model, "--plan", plan, "--data", data, "--sensitivity", "--metric", "map50_95",
                 "--task", "classify"] + pre)
        check(p.returncode == 2 and "does not fit" in p.stderr, "a metric that does not fit the task")

        # tune, label-free (agreement with FP32's top-1), reachable
        tuned = os.path.join(tmp, "tuned.json")
        tj = os.path.join(tmp, "tuned_an.json")
        p = run([octet, "tune", model, "--data", data, "--images", data, "--task", "classify", "--target",
                 "sqnr>=25", "--sens-images", "2", "--max-evals", "12", "-o", tuned, "--json-out", tj] + pre)
        check(p.returncode == 0 and os.path.exists(tuned), "tune reaches sqnr>=25 (exit %d)" % p.returncode)
        if os.path.exists(tj):
            t = json.load(open(tj)).get("tune", {})
            steps = t.get("steps", [])
            check(t.get("met") is True and steps and steps[-1]["metric"] is not None, "tune section and steps")
            met = [s for s in steps if s["met"]]
            check(met and min(s["metric"] for s in met) >= 25, "every accepted plan meets the target")
            # the tuned plan, scored independently, meets the target too
            r = run([octet, "eval", model, "--task", "classify", "--images", data, "--plan", tuned, "--simulate",
                     "--json", "--quiet"] + pre, 0)
            sq = json.loads(r.stdout)["outputs"][0]["sqnr_db"] if r.returncode == 0 else -1
            sq = 1e9 if sq == "inf" else sq
            check(sq >= 25, "the written plan meets the target under octet eval (%.2f dB)" % sq)
        # unreachable: exit 3, the best plan still written
        bad = os.path.join(tmp, "bad.json")
        p = run([octet, "tune", model, "--data", data, "--images", data, "--task", "classify", "--target",
                 "top1>=1.5*fp32", "--sens-images", "1", "--max-evals", "4", "-o", bad, "--quiet"] + pre)
        check(p.returncode == 3 and os.path.exists(bad), "unreachable target: exit 3 and the best plan")
        p = run([octet, "tune", model, "--data", data, "--images", data, "--target", "top1>>0.9", "-o", bad] + pre)
        check(p.returncode == 2 and "does not parse" in p.stderr, "a target that does not parse")
        p = run([octet, "tune", model, "--data", data, "--images", data, "--target", "accuracy>=0.9", "-o", bad] + pre)
        check(p.returncode == 2 and "unknown metric" in p.stderr, "an unknown metric")
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        p = run([octet, "tune", model, "--data", data, "--images", empty, "--task", "classify", "--target",
                 "top1>=0.9*fp32", "-o", bad, "--quiet"] + pre)
        check(p.returncode not in (0, 3) and p.stderr.strip() != "", "an empty evaluation folder: %s" %
              p.stderr.strip().splitlines()[-1:] )
        p = run([octet, "analyze", model, "--plan", plan, "--data", empty] + pre)
        check(p.returncode != 0 and "octet:" in p.stderr, "analyze on an empty folder")

        # label-free on a detector: yolov5n, detections scored against FP32's
        y5 = os.path.join(shared, "models", "yolov5n", "yolov5n.onnx")
        coco = os.path.join(shared, "data", "coco128")
        if os.path.exists(y5) and os.path.isdir(os.path.join(coco, "val2017", "images")):
            y5plan = os.path.join(tmp, "y5.json")
            det = ["--decoder", "yolov5", "--iou", "0.6"]
            p = run([octet, "tune", y5, "--data", os.path.join(coco, "train2017", "images"), "--count", "4",
                     "--images", os.path.join(coco, "val2017", "images"), "--eval-count", "4",
                     "--target", "map50_95>=0.97*fp32", "--sens-images", "1", "--max-evals", "8", "-o", y5plan,
                     "--json-out", os.path.join(tmp, "y5an.json"), "--quiet"] + det)
            check(p.returncode == 0, "yolov5n, label-free target map50_95>=0.97*fp32 met (exit %d)" % p.returncode)
            y5s = json.load(open(os.path.join(tmp, "y5an.json"))).get("sensitivity", {}) if p.returncode == 0 else {}
            y5o = y5s.get("only", [])
            check(y5s.get("task") == "label-free map50_95" and y5o and
                  all(0 <= e.get("task", -1) <= 1 and 0 <= e.get("task_fine", -1) <= 1 for e in y5o),
                  "yolov5n: the ranking scored by label-free mAP50-95 and the boxes' fidelity")
            check(all(y5o[i]["task_fine"] <= y5o[i + 1]["task_fine"] for i in range(len(y5o) - 1)),
                  "yolov5n: worst fidelity first")
            r = run([octet, "eval", y5, "--images", os.path.join(coco, "val2017", "images"), "--count", "4",
                     "--plan", y5plan, "--simulate", "--json", "--quiet"] + det, 0)
            m = json.loads(r.stdout)["map50_95"] if r.returncode == 0 else -1
            check(m >= 0.97, "the yolov5n plan agrees with FP32's detections under octet eval (mAP %.3f)" % m)
        else:
            print("SKIP yolov5n label-free tune: assets missing")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
