#!/usr/bin/env python3
"""Side-by-side invoke latency: this crate (`run_model --bench`) against Google's runtimes
(`examples/python/reference.py --bench` with ai_edge_litert and tflite_runtime 2.14, the
versions pinned in benches/requirements-*.txt), on the same inputs, interleaved, several
rounds; writes BENCHMARKS.md. Not part of `cargo test`. Run it through

    bash benches/compare.sh [--models NAME,...] [--rounds N] [--threads 1,2] [--out FILE]

which makes the two venvs, builds `run_model` in release and passes its arguments on. Every
runtime runs with its defaults (XNNPACK on where it applies) and N threads.
"""
import argparse, datetime, os, platform, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "examples", "python", "reference.py")
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


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()


def commit():
    """The commit measured: `git rev-parse --short HEAD`, plus "dirty" when the tree differs
    from it (BENCHMARKS.md itself aside, which this script rewrites)."""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)BENCHMARKS.md")
    return head + (" (dirty)" if dirty else "")


def python_versions(python, dists):
    """{distribution: installed version} in the interpreter `python`, plus "python"."""
    code = ("import importlib.metadata as m, platform, sys\n"
            "print('python', platform.python_version())\n"
            "for d in sys.argv[1:]:\n"
            "    print(d, m.version(d))\n")
    out = subprocess.run([python, "-c", code, *dists], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{python}: cannot read the versions of {dists}:\n{out.stderr}")
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def rustc_version():
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip() or "rustc (unknown)"


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
    ap.add_argument("--models", metavar="NAME,...",
                    help="only these models (file names without .tflite), e.g. digits_float32 "
                         "for a quick check; the default is every model")
    ap.add_argument("--mediapipe", metavar="DIR",
                    help="also every model in DIR (the MediaPipe corpus: the folder "
                         "tests/mediapipe_corpus/fetch.sh prints)")
    a = ap.parse_args()
    thread_counts = [int(t) for t in a.threads.split(",")]
    models = list(MODELS)
    if a.mediapipe:
        for name in sorted(os.listdir(a.mediapipe)):
            if name.endswith(".tflite"):
                path = os.path.join(a.mediapipe, name)
                models.append((path, 200 if os.path.getsize(path) < 1_000_000 else 50))
    if a.models:
        wanted = set(a.models.split(","))
        known = {os.path.basename(rel)[: -len(".tflite")] for rel, _ in models}
        if wanted - known:
            sys.exit(f"--models: unknown {sorted(wanted - known)}; known: {sorted(known)}")
        models = [(rel, n) for rel, n in models if os.path.basename(rel)[: -len(".tflite")] in wanted]
    if not os.path.exists(RUN_MODEL):
        sys.exit("build it first: cargo build --release --example run_model")
    if not os.path.exists(REFERENCE):
        sys.exit(f"{REFERENCE}: missing")
    missing = [rel for rel, _ in models if not os.path.exists(os.path.join(ROOT, rel))]
    if any(rel.startswith("benches/models/") for rel in missing):
        # Not committed (MobileNetV2 alone is ~14 MB): made by the litert venv's TensorFlow.
        print("making the benchmark models: benches/make_bench_models.py", flush=True)
        subprocess.run([a.litert_python, os.path.join(ROOT, "benches", "make_bench_models.py")], check=True)
    # What was measured, for the header: read before anything runs.
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    measured = commit()
    litert = python_versions(a.litert_python, ["ai-edge-litert", "numpy"])
    tfl214 = python_versions(a.tfl214_python, ["tflite-runtime", "numpy"])
    litert_v, tfl214_v = litert["ai-edge-litert"], tfl214["tflite-runtime"]
    rows = []
    failures = {}  # (model, runtime) -> why that runtime cannot run it
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for rel, n in models:
            model = os.path.join(ROOT, rel)
            if not os.path.exists(model):
                sys.exit(f"{rel}: missing (benches/make_bench_models.py makes benches/models/)")
            # One set of inputs for all three runtimes (Google's runtime makes them; for a model
            # it cannot load, each runtime makes its own).
            for f in os.listdir(tmp):
                if f.startswith("input_"):
                    os.remove(os.path.join(tmp, f))
            subprocess.run([a.litert_python, REFERENCE, model, "--out", tmp], capture_output=True)
            inputs = sorted(f for f in os.listdir(tmp) if f.startswith("input_"))
            for threads in thread_counts:
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
        f.write(f"Median `invoke` latency, one run of `bash benches/compare.sh` ({a.rounds} interleaved rounds, "
                f"median of the per-round medians). Each runtime with its defaults (XNNPACK where it applies), "
                f"same inputs. Ratios are ours / theirs: below 1 is faster.\n\n")
        f.write(f"- Date: {when}; commit: {measured}; took {time.time() - started:.0f} s\n")
        f.write(f"- CPU: {cpu_model()}, {cores()} cores; threads: {', '.join(map(str, thread_counts))}\n")
        if a.models:
            f.write(f"- Subset: only {a.models} (`--models`), not the full table\n")
        f.write(f"- Ours: `run_model` (release), {rustc_version()}\n")
        f.write(f"- Google's: ai_edge_litert {litert_v} (numpy {litert['numpy']}, Python {litert['python']}); "
                f"tflite_runtime {tfl214_v} (numpy {tfl214['numpy']}, Python {tfl214['python']})\n\n")
        f.write(f"| model | threads | ours ms | ai_edge_litert {litert_v} ms | tflite_runtime {tfl214_v} ms "
                f"| ours / litert | ours / tflite_runtime |\n")
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
            f.write(f"| model | ours | ai_edge_litert {litert_v} | tflite_runtime {tfl214_v} |\n|---|---|---|---|\n")
            for rel, m1, m2 in pairs:
                f.write(f"| {os.path.basename(rel)} | "
                        + " | ".join(fmt(ratio(m1[k], m2[k]), ".2f") + ("x" if m1[k] and m2[k] else "")
                                     for k in ("ours", "ai_edge_litert", "tflite_runtime"))
                        + " |\n")
        f.write("\nReproduce from a clone (it makes the venvs of benches/requirements-*.txt, builds `run_model` "
                "in release, fetches MediaPipe's models and makes the benchmark models):\n\n"
                "    bash benches/compare.sh\n")
        if notes:
            f.write("\n" + notes)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
