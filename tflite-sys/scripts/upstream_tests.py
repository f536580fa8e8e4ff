#!/usr/bin/env python3
"""Builds and runs TensorFlow Lite 2.14.1's own unit tests against our patched native build.

The tests (`tensorflow/lite/kernels/*_test.cc`, `tensorflow/lite/delegates/xnnpack/*_test.cc`)
come from the same pinned Debian tarball as the library, with our patches applied; googletest
from its pinned Debian source package (scripts/upstream/test-sources.lock). They link against the
static archives of the native build that cargo uses (found through `cargo build
--message-format=json`, never guessed), compiled with the build's C++ standard, defines and
include folders (COMPILE_FLAGS below mirrors tflite-sys/build/compile.rs).

Everything this script makes lives in <tflite-sys cache>/upstream/<native build folder name>/,
so a rerun on the same native build only runs the tests. Entry point: `bash .ci/upstream`.

The last line printed is `upstream: N passed, M failed, K not built`: N and M count googletest
test cases, K counts test files that did not compile or link (reasons in the log folder).
"""

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "upstream"
SYS = HERE.parent
REPO = SYS.parent

# What tflite-sys/build/compile.rs gives TFLite's C++ (`base(true)` + `Ctx::tflite`), minus
# -O2: test sources are compiled at -O1 (they are compile-bound; the kernels they test are the
# archive's, compiled at -O2). Keep in step with compile.rs.
COMPILE_FLAGS = [
    "-std=c++17",
    "-fwrapv",
    "-DNDEBUG",
    "-DTFL_STATIC_LIBRARY_BUILD",
    "-DEIGEN_MPL2_ONLY",
    "-DEIGEN_NEON_GEBP_NR=4",
    "-DXNNPACK_DELEGATE_ENABLE_QS8",
    "-DXNNPACK_DELEGATE_ENABLE_QU8",
    "-DTFLITE_WITH_RUY_GEMV",
    "-DTFLITE_WITH_RUY",
    "-w",
]
OPT = "-O1"

# The members of the TensorFlow tarball the build unpacks (build/main.rs).
TF_MEMBERS = [
    "tensorflow/lite/*",
    "tensorflow/core/public/*",
    "tensorflow/tsl/framework/convolution/*",
    "tensorflow/tsl/lib/random/*",
    "third_party/eigen3/*",
    "third_party/fft2d/*",
]


def log(msg):
    print(f"upstream: {msg}", flush=True)


def die(msg):
    print(f"upstream: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_lock(path):
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split()
        if len(f) != 8:
            die(f"{path}: expected 8 columns: {line}")
        keys = ("component", "kind", "package", "version", "suite", "arch", "file", "sha256")
        rows.append(dict(zip(keys, f)))
    return rows


def debian_arch():
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf"}.get(platform.machine(), "")


def cache_root():
    for var, sub in (("TFLITE_SYS_CACHE", ""), ("XDG_CACHE_HOME", "tflite-sys")):
        if os.environ.get(var):
            return Path(os.environ[var]) / sub
    return Path.home() / ".cache" / "tflite-sys"


# ---------------------------------------------------------------- the native build cargo uses


def native_dir(args):
    if args.native:
        d = Path(args.native)
    else:
        log("asking cargo for the native build (cargo build -p tflite-sys --features xnnpack)")
        env = dict(os.environ)
        env.setdefault("CARGO_BUILD_JOBS", "1")
        out = subprocess.run(
            ["cargo", "build", "-p", "tflite-sys", "--features", "xnnpack",
             "--message-format=json"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            die("cargo build -p tflite-sys failed (run it to see why)")
        d = None
        for line in out.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("reason") == "build-script-executed" and "tflite-sys" in msg["package_id"]:
                for k, v in msg.get("env", []):
                    if k == "TFLITE_SYS_INCLUDE_DIR":
                        d = Path(v).parent
        if d is None:
            die("cargo did not report TFLITE_SYS_INCLUDE_DIR for tflite-sys")
    for f in ("COMPLETE", "tflite-sys.manifest", "libtensorflowlite.a"):
        if not (d / f).exists():
            die(f"{d} has no {f}: not a finished native build of tflite-sys")
    manifest = dict(
        (k.strip(), v.strip()) for k, _, v in
        (l.partition("=") for l in (d / "tflite-sys.manifest").read_text().splitlines()
         if "=" in l and not l.startswith("#")))
    if manifest.get("xnnpack") != "on":
        die(f"{d}: the native build was made without XNNPACK")
    return d, manifest


# ---------------------------------------------------------------- sources


def machine_mirror():
    if os.environ.get("TFLITE_SYS_DEBIAN_MIRROR"):
        return os.environ["TFLITE_SYS_DEBIAN_MIRROR"]
    d = Path("/etc/apt/sources.list.d")
    for p in sorted(d.glob("*.sources")) if d.is_dir() else []:
        for stanza in p.read_text().split("\n\n"):
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, v in (l.split(":", 1) for l in stanza.splitlines() if ":" in l))
            if fields.get("enabled", "yes") == "no":
                continue
            for uri in fields.get("uris", "").split():
                if "security" not in uri and "security" not in fields.get("suites", ""):
                    return uri
    sl = Path("/etc/apt/sources.list")
    for line in sl.read_text().splitlines() if sl.exists() else []:
        parts = re.sub(r"\[[^]]*\]", "", line).split()
        if len(parts) >= 3 and parts[0] in ("deb", "deb-src") and "security" not in line:
            return parts[1]
    return None


def fetch(pins, downloads, state):
    """Fetches the pinned files missing from `downloads` as build/fetch.rs does."""
    missing = [p for p in pins
               if not (downloads / p["file"]).is_file()
               or sha256(downloads / p["file"]) != p["sha256"]]
    if not missing:
        return
    mirror = machine_mirror()
    if not mirror:
        die("no Debian mirror in the apt configuration (or set TFLITE_SYS_DEBIAN_MIRROR)")
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    for d in (state / "lists" / "partial", state / "cache" / "archives" / "partial"):
        d.mkdir(parents=True, exist_ok=True)
    suites = sorted({p["suite"] for p in missing})
    lst = state / "sources.list"
    lst.write_text("".join(f"deb-src [signed-by={keyring}] {mirror} {s} main\n" for s in suites))
    opts = [f"-oDir::Etc::SourceList={lst}", "-oDir::Etc::SourceParts=/dev/null",
            f"-oDir::State::Lists={state / 'lists'}", f"-oDir::Cache={state / 'cache'}",
            "-oAPT::Sandbox::User=root", "-oDebug::NoLocking=1", "-qq"]
    log(f"fetching {', '.join(p['file'] for p in missing)}")
    if subprocess.run(["apt-get", *opts, "update"]).returncode != 0:
        die("apt-get update with a private source list failed")
    downloads.mkdir(parents=True, exist_ok=True)
    partial = downloads / f".partial-upstream-{os.getpid()}"
    partial.mkdir(parents=True, exist_ok=True)
    try:
        for p in missing:
            if p["kind"] != "source":
                die(f"{p['file']}: only source rows are fetched here; run the crate's build first")
            # The .dsc may be refused while the tarball arrives: judged by sha256 alone.
            subprocess.run(["apt-get", *opts, "source", "--download-only",
                            f"{p['package']}={p['version']}"], cwd=partial,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            got = partial / p["file"]
            if not got.is_file() or sha256(got) != p["sha256"]:
                die(f"could not fetch {p['file']} with sha256 {p['sha256']}")
            shutil.move(str(got), downloads / p["file"])
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def unpack(pins, downloads, src):
    """Unpacks every pinned source (and ruy's package) into src/<component>, patched."""
    for p in pins:
        dest = src / p["component"]
        marker = src / f"{p['component']}.unpacked"
        if marker.exists():
            continue
        shutil.rmtree(dest, ignore_errors=True)
        tmp = src / f"{p['component']}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = downloads / p["file"]
        if sha256(archive) != p["sha256"]:
            die(f"{archive}: sha256 differs from the pin")
        if p["kind"] == "binary":
            data = [m for m in subprocess.run(["ar", "t", archive], capture_output=True,
                                              text=True).stdout.split() if m.startswith("data.tar")]
            subprocess.run(["ar", "x", archive, data[0]], cwd=tmp, check=True)
            subprocess.run(["tar", "-xf", data[0]], cwd=tmp, check=True)
            tmp.rename(dest)
        else:
            members = [f"*/{m}" for m in TF_MEMBERS] if p["component"] == "tensorflow" else []
            cmd = ["tar", "-xf", archive, "-C", tmp]
            if members:
                cmd += ["--wildcards", *members]
            subprocess.run(cmd, check=True)
            entries = list(tmp.iterdir())
            root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
            root.rename(dest)
            shutil.rmtree(tmp, ignore_errors=True)
        pdir = SYS / "vendor" / "patches" / p["component"]
        if (pdir / "series").exists():
            names = [l.strip() for l in (pdir / "series").read_text().splitlines()
                     if l.strip() and not l.startswith("#")]
            for n in names:
                r = subprocess.run(["patch", "-p1", "--batch", "--forward", "--quiet",
                                    "-d", dest, "-i", pdir / n], capture_output=True, text=True)
                if r.returncode != 0:
                    die(f"patch {pdir / n} does not apply:\n{r.stdout}{r.stderr}")
            log(f"unpacked {p['component']} and applied {len(names)} patches")
        marker.write_text("")


# ---------------------------------------------------------------- compiling


class Build:
    def __init__(self, src, work, native, manifest, jobs):
        self.src = src
        self.tf = src / "tensorflow"
        self.native = native
        self.jobs = jobs
        self.cxx = os.environ.get("CXX", "g++")
        shim = work / "shim"
        for h, target in (("tensorflow/tsl/platform/logging.h", "logging_shim.h"),
                          ("tensorflow/core/platform/logging.h", "logging_shim.h"),
                          ("re2/re2.h", "re2_shim.h")):
            (shim / h).parent.mkdir(parents=True, exist_ok=True)
            (shim / h).write_text(f'#include "{DATA / target}"\n')
        # Headers generated from the tarball's own schema by the pinned flatc (see flatc()).
        self.gen = work / "gen"
        self.work = work
        gt = src / "googletest"
        self.includes = [
            self.tf, src / "flatbuffers/include", src / "abseil", src / "eigen", src / "gemmlowp",
            src / "farmhash/src", src / "fp16/include", src / "pthreadpool/include",
            src / "cpuinfo/include", src / "xnnpack/include", src / "ruy/usr/include",
            gt / "googletest/include", gt / "googlemock/include", shim, self.gen,
        ]
        if platform.machine() == "x86_64":
            self.includes.append(src / "neon2sse")
        self.flags = [OPT, *COMPILE_FLAGS]
        # The x86-64 level the native build was compiled for (its manifest says which).
        level = manifest.get("x86-64 kernels", "baseline")
        if level != "baseline":
            self.flags.append(f"-march={level}")
        # Objects depend on the flags and on this script's data: a change rebuilds them.
        h = hashlib.sha256(" ".join([self.cxx, *self.flags]).encode())
        # (support.txt is not hashed: its objects are cached one by one, its archive remade.)
        for f in ("logging_shim.h", "re2_shim.h", "test_main.cc"):
            h.update((DATA / f).read_bytes())
        self.obj = work / f"obj-{h.hexdigest()[:12]}"
        self.bin = self.obj / "bin"
        self.logs = self.obj / "logs"
        for d in (self.bin, self.logs):
            d.mkdir(parents=True, exist_ok=True)

    def compile(self, source, obj, extra_inc=(), extra_flags=()):
        if obj.exists():
            return None
        obj.parent.mkdir(parents=True, exist_ok=True)
        cmd = [self.cxx, *self.flags, *extra_flags,
               *[f"-I{i}" for i in [*extra_inc, *self.includes]],
               "-c", str(source), "-o", str(obj) + ".tmp"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return r.stderr or r.stdout or "compiler failed"
        os.rename(str(obj) + ".tmp", obj)
        return None

    def pmap(self, fn, items):
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as ex:
            return list(ex.map(fn, items))

    def archive(self, name, objs):
        lib = self.obj / name
        tmp = str(lib) + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        subprocess.run(["ar", "rcs", tmp, *map(str, objs)], check=True)
        os.rename(tmp, lib)
        return lib

    def googletest(self):
        gt = self.src / "googletest"
        parts = [(gt / "googletest/src/gtest-all.cc", gt / "googletest"),
                 (gt / "googlemock/src/gmock-all.cc", gt / "googlemock")]
        errs = self.pmap(lambda p: self.compile(p[0], self.obj / "gtest" / (p[0].stem + ".o"),
                                                [p[1]]), parts)
        for e in errs:
            if e:
                die(f"googletest does not compile:\n{e[:4000]}")
        return self.archive("libgtest.a", [self.obj / "gtest" / (p[0].stem + ".o")
                                           for p in parts])

    def flatc(self):
        """`tensorflow/lite/schema/mutable/schema_generated.h`, which TFLite's Bazel build
        generates (`schema_fbs_with_mutable`: flatc --gen-mutable --gen-object-api) and the
        tarball does not hold: test_util.cc updates operator versions through it."""
        out = self.gen / "tensorflow/lite/schema/mutable/schema_generated.h"
        if out.exists():
            return
        fb = self.src / "flatbuffers"
        cm = (fb / "CMakeLists.txt").read_text()
        files = []
        for var in ("FlatBuffers_Library_SRCS", "FlatBuffers_Compiler_SRCS"):
            block = cm.split(f"set({var}", 1)[1].split(")", 1)[0]
            files += [f for f in block.split() if f.endswith((".cpp", ".cc"))]
        files = sorted(set(files))
        log(f"building flatc from the pinned flatbuffers ({len(files)} files, once)")
        inc = [fb / "include", fb / "grpc", fb]

        def one(f):
            o = self.work / "flatc" / (f.replace("/", "__") + ".o")
            if o.exists():
                return o, None
            o.parent.mkdir(parents=True, exist_ok=True)
            r = subprocess.run([self.cxx, "-O0", "-std=c++17", "-w", *[f"-I{i}" for i in inc],
                                "-c", fb / f, "-o", o], capture_output=True, text=True)
            return o, (r.stderr if r.returncode else None)
        res = self.pmap(one, files)
        for _, err in res:
            if err:
                die(f"flatc does not compile:\n{err[:4000]}")
        exe = self.work / "flatc" / "flatc"
        subprocess.run([self.cxx, "-o", exe, *[o for o, _ in res]], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([exe, "--cpp", "--gen-mutable", "--gen-object-api", "-o", out.parent,
                        self.tf / "tensorflow/lite/schema/schema.fbs"], check=True)

    def support(self):
        sections = {
            k: [f for line in v
                for f in (sorted(self.tf.glob(line)) if "*" in line else [self.tf / line])]
            for k, v in read_sections(DATA / "support.txt").items()}
        files = sections.get("archive", []) + sections.get("linked whole", [])
        log(f"compiling {len(files)} test-support files (once per native build)")
        t = time.time()

        def one(f):
            o = self.obj / "support" / (str(f.relative_to(self.tf)).replace("/", "__") + ".o")
            err = self.compile(f, o)
            if err:
                (self.logs / f"support-{f.name}.log").write_text(err)
                log(f"support file {f.relative_to(self.tf)} does not compile (left out; "
                    f"{self.logs / ('support-' + f.name + '.log')})")
                return None
            return o
        objs = self.pmap(one, files)
        n = len(sections.get("archive", []))
        lib = self.archive("libupstream_support.a", [o for o in objs[:n] if o])
        whole = [o for o in objs[n:] if o]
        main = self.obj / "support" / "test_main.o"
        err = self.compile(DATA / "test_main.cc", main)
        if err:
            die(f"test_main.cc does not compile:\n{err[:4000]}")
        log(f"test support ready ({time.time() - t:.0f} s)")
        return lib, [main, *whole]

    def test(self, rel, libs, flags=()):
        """Compiles and links one test; returns (binary, None) or (None, reason)."""
        name = rel.replace("tensorflow/lite/", "").replace("/", "__").removesuffix(".cc")
        exe = self.bin / name
        if exe.exists():
            return exe, None
        o = self.obj / "tests" / f"{name}.o"
        err = self.compile(self.tf / rel, o, extra_flags=flags)
        if err:
            (self.logs / f"{name}.log").write_text(err)
            return None, "compile: " + first_error(err)
        n = self.native
        cmd = [self.cxx, "-o", str(exe) + ".tmp", str(o), *map(str, libs[1]), str(libs[0]),
               str(n / "libtensorflowlite.a"), str(libs[2])]
        if (n / "libtflite_sys_compat.a").exists():
            cmd.append(str(n / "libtflite_sys_compat.a"))
        cmd += ["-lpthread", "-ldl", "-lm"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            (self.logs / f"{name}.log").write_text(r.stderr)
            return None, "link: " + first_error(r.stderr)
        os.rename(str(exe) + ".tmp", exe)
        return exe, None


def first_error(text):
    for line in text.splitlines():
        if "error" in line or "undefined reference" in line:
            return re.sub(r"^.*?/src/tensorflow/", "", line.strip())[:300]
    return text.strip().splitlines()[0][:300] if text.strip() else "?"


# ---------------------------------------------------------------- running


def list_tests(exe):
    r = subprocess.run([exe, "--gtest_list_tests"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None
    out, suite = [], None
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            suite = line.split()[0]
        else:
            t = line.split()[0]
            # GoogleTestVerification.* are googletest's checks of the test file's structure
            # (a parameterised suite defined in a shared header but instantiated in another
            # file), not of any kernel: they are left out, as docs/testing.md says.
            if (suite and "DISABLED_" not in suite and not t.startswith("DISABLED_")
                    and suite != "GoogleTestVerification."):
                out.append(suite + t)
    return out


# Searched, not matched at the line start: TFLite's log lines may end without a newline.
RUN = re.compile(r"\[ RUN      \] (\S+)")
END = re.compile(r"\[ +(OK|FAILED|SKIPPED) +\] (\S+)")


def run_tests(exe, timeout):
    """Runs every test case of `exe`; a crash or hang fails the case it happened in, and the
    rest run in a new process. Returns {case: (status, message)}."""
    cases = list_tests(exe)
    if cases is None:
        return {exe.name + ".<list>": ("failed", "--gtest_list_tests failed (crash at start)")}
    results = {}
    while True:
        left = [c for c in cases if c not in results]
        if not left:
            return results
        filt = ":".join(left)
        if len(filt) > 100000:
            filt = ":".join(left[:500])
        env = dict(os.environ, GTEST_FILTER=filt)
        try:
            r = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, timeout=timeout)
            out, why = r.stdout, (f"crashed (exit {r.returncode})" if r.returncode < 0
                                  or r.returncode > 1 else None)
        except subprocess.TimeoutExpired as e:
            out, why = e.stdout or b"", f"hung (killed after {timeout} s)"
        text = out.decode("utf-8", "replace")
        current, body = None, []
        for line in text.splitlines():
            m = RUN.search(line)
            if m:
                current, body = m.group(1), []
                continue
            m = END.search(line)
            if m and m.group(2) == current:
                status = {"OK": "passed", "FAILED": "failed", "SKIPPED": "skipped"}[m.group(1)]
                results[current] = (status, summarize(body))
                current = None
                continue
            if current:
                body.append(line)
        if current:
            results[current] = ("failed", f"{why or 'stopped'}: " + summarize(body))
        elif not any(c in results for c in left):
            # Nothing ran: report the rest as failed rather than loop.
            for c in left:
                results[c] = ("failed", f"{why or 'did not run'}: " + summarize(text.splitlines()))


def summarize(lines):
    keep = [l.strip() for l in lines if l.strip()]
    for i, l in enumerate(keep):
        if "Failure" in l or "ERROR" in l or "error" in l.lower() or "Check failed" in l:
            return " | ".join(keep[i:i + 4])[:400]
    return " | ".join(keep[-3:])[:400]


# ---------------------------------------------------------------- selection


def read_sections(path):
    out, cur = {}, None
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = out.setdefault(line[1:-1], [])
        elif cur is not None:
            cur.append(line)
    return out


def select(tf, args):
    # The builtin kernels' tests first (most of our patches change them), then the delegate's.
    every = [str(p.relative_to(tf)) for p in
             [*sorted(tf.glob("tensorflow/lite/kernels/*_test.cc")),
              *sorted(tf.glob("tensorflow/lite/delegates/xnnpack/*_test.cc"))]]
    sections = read_sections(DATA / "tests.txt")
    skip = {}
    for line in sections.get("not built", []):
        rel, _, why = line.partition(" ")
        skip[rel] = why.strip()
    flags = {}
    for line in sections.get("flags", []):
        rel, *f = line.split()
        flags[rel] = f
    if args.quick:
        chosen = sections["quick"]
    else:
        chosen = every
    if args.only:
        chosen = [t for t in chosen if any(fnmatch.fnmatch(t, f"*{o}*") for o in args.only)]
    for t in chosen:
        if t not in every:
            die(f"scripts/upstream/tests.txt names {t}, which the tarball does not have")
    return chosen, skip, flags


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the [quick] list of tests.txt")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="parallel compiles/runs (1)")
    ap.add_argument("--native", help="a finished native build folder (default: ask cargo)")
    ap.add_argument("--only", action="append", help="only tests whose path contains this")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per test process")
    args = ap.parse_args()
    start = time.time()

    native, manifest = native_dir(args)
    work = cache_root() / "upstream" / native.name
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    log(f"native build {native}")
    log(f"work folder {work}")
    arch = debian_arch()
    pins = [p for p in read_lock(SYS / "vendor" / "sources.lock") if p["arch"] in ("any", arch)]
    pins += read_lock(DATA / "test-sources.lock")
    downloads = cache_root() / "downloads"
    fetch(pins, downloads, work.parent / "apt")
    unpack(pins, downloads, src)

    b = Build(src, work, native, manifest, args.jobs)
    tests, skip, flags = select(src / "tensorflow", args)
    gtest = b.googletest()
    b.flatc()
    support, main_o = b.support()
    libs = (support, main_o, gtest)

    not_built = {}
    todo = []
    for t in tests:
        if t in skip:
            not_built[t] = "listed in tests.txt: " + skip[t]
        else:
            todo.append(t)
    log(f"building and running {len(todo)} tests with {args.jobs} job(s)")
    done = [0]
    # One line per test as it finishes, so an interrupted run still tells what it saw.
    progress = open(b.obj / "progress.jsonl", "w")

    def one(t):
        t0 = time.time()
        exe, why = b.test(t, libs, flags.get(t, ()))
        built_s = time.time() - t0
        r = run_tests(exe, args.timeout) if exe else None
        done[0] += 1
        if r is None:
            log(f"[{done[0]}/{len(todo)}] {t}: NOT BUILT ({why})")
        else:
            f = sum(1 for s, _ in r.values() if s == "failed")
            log(f"[{done[0]}/{len(todo)}] {t}: {len(r) - f} passed or skipped, {f} failed "
                f"(built in {built_s:.0f} s, ran in {time.time() - t0 - built_s:.0f} s)")
        progress.write(json.dumps({"test": t, "not_built": why, "results": r}) + "\n")
        progress.flush()
        return t, why, r
    results = {}
    for t, why, r in b.pmap(one, todo):
        if r is None:
            not_built[t] = why
        else:
            results[t] = r

    passed = sum(1 for r in results.values() for s, _ in r.values() if s == "passed")
    skipped = sum(1 for r in results.values() for s, _ in r.values() if s == "skipped")
    failed = [(t, c, m) for t, r in results.items() for c, (s, m) in sorted(r.items())
              if s == "failed"]
    report = {
        "native": str(native), "passed": passed, "failed": len(failed), "skipped": skipped,
        "not_built": not_built, "failures": [{"test": t, "case": c, "message": m}
                                             for t, c, m in failed],
        "seconds": round(time.time() - start),
    }
    (b.obj / "report.json").write_text(json.dumps(report, indent=1))
    for t, why in sorted(not_built.items()):
        print(f"NOT BUILT {t}: {why}")
    for t, c, m in failed:
        print(f"FAILED {t} {c}: {m}")
    log(f"{skipped} skipped (GTEST_SKIP); report {b.obj / 'report.json'}; "
        f"{time.time() - start:.0f} s")
    print(f"upstream: {passed} passed, {len(failed)} failed, {len(not_built)} not built")
    return 1 if failed or not_built else 0


if __name__ == "__main__":
    sys.exit(main())
