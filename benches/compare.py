#!/usr/bin/env python3
"""Side-by-side invoke latency: this crate (`run_model --bench`) against Google's runtimes
(`shared/tools/reference.py --bench` with ai_edge_litert 2.3.0 and tflite_runtime 2.14.0), on
the same inputs, interleaved, several rounds; writes BENCHMARKS.md. Not part of `cargo test`.

    python3 benches/make_bench_models.py
    cargo build --release --example run_model
    python3 benches/compare.py --litert-python VENV1/bin/python --tfl214-python VENV2/bin/python \
        [--mediapipe "$(bash tests/mediapipe_corpus/fetch.sh)"]

VENV1 has `ai-edge-litert==2.3.0`; VENV2 has `tflite-runtime==2.14.0` and `numpy<2`. Every
runtime runs with its defaults (XNNPACK on where it applies) and N threads.
"""
import argparse, os, platform, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(os.path.dirname(ROOT), "shared", "tools", "reference.py")
RUN_MODEL = os.path.join(ROOT, "target", "release", "examples", "run_model")
MODELS = [  # (path, invokes per measurement)
    ("benches/models/mobilenet_v2_f32.tflite", 200),
    ("benches/models/mobilenet_v2_int8.tflite", 300),
    ("benches/models/transformer_f32.tflite", 300),
    ("benches/models/mlp_f32.tflite", 2000),
    ("examples/digits/digits_float32.tflite", 2000),
    ("examples/digits/digits_int8.tflite", 2000),
    # Dynamic-range: the converter's default optimisation without representative data.
    ("benches/models/mobilenet_v2_dr.tflite", 50),
    ("benches/models/transformer_dr.tflite", 100),
    ("benches/models/mlp_dr.tflite", 500),
    ("examples/digits/digits_dynamic_range.tflite", 2000),
]
MEDIAN = re.compile(r"median_ms=([0-9.]+)")
NOTES_MARKER = "<!-- notes: kept by compare.py -->"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run(cmd, optional=False):
    """The median of one measurement; for a runtime that may not run the model (`optional`),
    (None, its last error line) instead of stopping."""
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = MEDIAN.search(out.stdout)
    if out.returncode != 0 or not m:
        if optional:
            lines = [l for l in out.stderr.splitlines() if l.strip()]
            why = lines[-1].strip() if lines else f"exit status {out.returncode}"
            return None, re.sub(r"^See instructions: \S+ ", "", why)
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return float(m.group(1)), None


def fmt(v, spec=".4f"):
    return "—" if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None else a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--litert-python", default=sys.executable)
    ap.add_argument("--tfl214-python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--mediapipe", metavar="DIR",
                    help="also every model in DIR (the MediaPipe corpus: the folder "
                         "tests/mediapipe_corpus/fetch.sh prints)")
    a = ap.parse_args()
    models = list(MODELS)
    if a.mediapipe:
        for name in sorted(os.listdir(a.mediapipe)):
            if name.endswith(".tflite"):
                path = os.path.join(a.mediapipe, name)
                models.append((path, 200 if os.path.getsize(path) < 1_000_000 else 50))
    if not os.path.exists(RUN_MODEL):
        sys.exit("build it first: cargo build --release --example run_model")
    rows = []
    failures = {}  # (model, runtime) -> why that runtime cannot run it
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for rel, n in models:
            model = os.path.join(ROOT, rel)
            if not os.path.exists(model):
                print(f"skip {rel}: missing (python3 benches/make_bench_models.py)")
                continue
            # One set of inputs for all three runtimes (Google's runtime makes them; for a model
            # it cannot load, each runtime makes its own).
            for f in os.listdir(tmp):
                if f.startswith("input_"):
                    os.remove(os.path.join(tmp, f))
            subprocess.run([a.litert_python, REFERENCE, model, "--out", tmp], capture_output=True)
            inputs = sorted(f for f in os.listdir(tmp) if f.startswith("input_"))
            for threads in [int(t) for t in a.threads.split(",")]:
                cmds = {
                    "ours": [RUN_MODEL, model, "--threads", str(threads), "--bench", str(n), "--output-dir", tmp + "/rs"]
                    + sum([["--input", os.path.join(tmp, f)] for f in inputs], []),
                    "ai_edge_litert": [a.litert_python, REFERENCE, model, "--threads", str(threads), "--bench", str(n),
                                       "--out", tmp + "/a"] + sum([["--input", os.path.join(tmp, f)] for f in inputs], []),
                    "tflite_runtime": [a.tfl214_python, REFERENCE, model, "--runtime", "tflite_runtime", "--threads",
                                       str(threads), "--bench", str(n), "--out", tmp + "/b"]
                    + sum([["--input", os.path.join(tmp, f)] for f in inputs], []),
                }
                medians = {k: [] for k in cmds}
                for _ in range(a.rounds):  # interleaved: each round runs all three
                    for k, cmd in cmds.items():
                        if (rel, k) in failures:
                            continue
                        v, why = run(cmd, optional=k != "ours")
                        if v is None:
                            failures[(rel, k)] = why
                        else:
                            medians[k].append(v)
                m = {k: statistics.median(v) if v else None for k, v in medians.items()}
                rows.append((rel, threads, m))
                print(f"{rel} t={threads}: " + "  ".join(f"{k} {fmt(v)} ms" for k, v in m.items()), flush=True)
    # Hand-written analysis below the marker survives a rerun.
    notes = ""
    if os.path.exists(a.out):
        text = open(a.out).read()
        if NOTES_MARKER in text:
            notes = text[text.index(NOTES_MARKER):]
    with open(a.out, "w") as f:
        f.write("# Benchmarks\n\n")
        f.write(f"Median `invoke` latency, one harness run of `benches/compare.py` ({a.rounds} interleaved rounds, "
                f"median of the per-round medians). CPU: {cpu_model()}, {os.cpu_count()} cores. "
                f"Each runtime with its defaults (XNNPACK where it applies), same inputs. "
                f"Ratios are ours / theirs: below 1 is faster. Took {time.time() - started:.0f} s.\n\n")
        f.write("| model | threads | ours ms | ai_edge_litert 2.3 ms | tflite_runtime 2.14 ms | ours / litert | ours / tflite_runtime |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for rel, t, m in rows:
            o, l, r = m["ours"], m["ai_edge_litert"], m["tflite_runtime"]
            f.write(f"| {os.path.basename(rel)} | {t} | {fmt(o)} | {fmt(l)} | {fmt(r)} | "
                    f"{fmt(ratio(o, l), '.2f')} | {fmt(ratio(o, r), '.2f')} |\n")
        if failures:
            f.write("\n— : that runtime cannot run the model:\n\n")
            for (rel, k), why in sorted(failures.items()):
                f.write(f"- {os.path.basename(rel)}, {k}: `{why}`\n")
        by_model = {}
        for rel, t, m in rows:
            by_model.setdefault(rel, {})[t] = m
        pairs = [(rel, ms[1], ms[2]) for rel, ms in by_model.items() if 1 in ms and 2 in ms]
        if pairs:
            f.write("\nSpeed-up from 1 to 2 threads (same run; time at 1 / time at 2):\n\n")
            f.write("| model | ours | ai_edge_litert 2.3 | tflite_runtime 2.14 |\n|---|---|---|---|\n")
            for rel, m1, m2 in pairs:
                f.write(f"| {os.path.basename(rel)} | "
                        + " | ".join(fmt(ratio(m1[k], m2[k]), ".2f") + ("x" if m1[k] and m2[k] else "")
                                     for k in ("ours", "ai_edge_litert", "tflite_runtime"))
                        + " |\n")
        f.write("\nReproduce:\n\n    python3 benches/make_bench_models.py\n    cargo build --release --example run_model\n"
                "    python3 benches/compare.py --litert-python VENV1/bin/python --tfl214-python VENV2/bin/python \\\n"
                "        --mediapipe \"$(bash tests/mediapipe_corpus/fetch.sh)\"\n")
        if notes:
            f.write("\n" + notes)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
