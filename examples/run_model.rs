//! Runs any `.tflite` model: prints its inputs and outputs, feeds `.npy` inputs (or
//! deterministic random ones), writes every output as `.npy`, optionally compares them with
//! another run's outputs and benchmarks `invoke`.
//!
//!     cargo run --release --example run_model -- MODEL [--input FILE.npy]... [--signature KEY]
//!         [--output-dir DIR] [--threads N] [--no-xnnpack] [--bench N]
//!         [--compare DIR [--tolerance T]] [--profile N [--profile-trace FILE.json]]
//!
//! `--profile N` prints the per-node profile of N invokes (kernel, time, XNNPACK's operators,
//! a per-op-type summary); `--profile-trace` also writes it as Chrome-trace JSON.
//!
//! `.npy` is the bridge to Python: `examples/python/reference.py` writes
//! `input_K.npy`/`output_K.npy`; `--compare DIR` checks our `output_K` against `DIR/output_K.npy`
//! with `tflite::compare` (max |difference| ≤ T, default 1e-5, in quanta for integer outputs; a
//! length mismatch or a NaN/infinity the reference lacks at the same place always fails).

use npyz::WriterBuilder;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tflite::compare::Tolerance;
use tflite::{f16, DataType, Interpreter, Model, SignatureRunner, TensorInfo};

type Failure = Box<dyn std::error::Error>;

#[derive(Default)]
struct Args {
    model: String,
    inputs: Vec<PathBuf>,
    signature: Option<String>,
    output_dir: PathBuf,
    threads: usize,
    xnnpack: bool,
    bench: usize,
    compare: Option<PathBuf>,
    tolerance: f64,
    profile: usize,
    profile_trace: Option<PathBuf>,
}

const USAGE: &str =
    "usage: run_model MODEL [--input FILE.npy]... [--signature KEY] [--output-dir DIR] \
                     [--threads N] [--no-xnnpack] [--bench N] [--compare DIR [--tolerance T]] \
                     [--profile N [--profile-trace FILE.json]]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        output_dir: "run_model_out".into(),
        threads: 1,
        xnnpack: true,
        tolerance: 1e-5,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| {
        it.next().ok_or(format!("{flag} needs a value"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--input" => a.inputs.push(value(&mut it, "--input")?.into()),
            "--signature" => a.signature = Some(value(&mut it, "--signature")?),
            "--output-dir" => a.output_dir = value(&mut it, "--output-dir")?.into(),
            "--threads" => {
                a.threads = value(&mut it, "--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?
            }
            "--no-xnnpack" => a.xnnpack = false,
            "--bench" => {
                a.bench = value(&mut it, "--bench")?
                    .parse()
                    .map_err(|e| format!("--bench: {e}"))?
            }
            "--compare" => a.compare = Some(value(&mut it, "--compare")?.into()),
            "--profile" => {
                a.profile = value(&mut it, "--profile")?
                    .parse()
                    .map_err(|e| format!("--profile: {e}"))?
            }
            "--profile-trace" => a.profile_trace = Some(value(&mut it, "--profile-trace")?.into()),
            "--tolerance" => {
                a.tolerance = value(&mut it, "--tolerance")?
                    .parse()
                    .map_err(|e| format!("--tolerance: {e}"))?
            }
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s if a.model.is_empty() => a.model = s.to_string(),
            s => return Err(format!("unexpected argument {s}\n{USAGE}")),
        }
    }
    if a.model.is_empty() {
        return Err(USAGE.into());
    }
    Ok(a)
}

/// The graph being run: the interpreter's main graph, or one signature.
enum Graph<'i> {
    Main(&'i mut Interpreter),
    Signature(SignatureRunner<'i>),
}

/// Calls `$body` with `$t` bound to the Rust element type of `$dtype`.
macro_rules! with_element {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            DataType::Float32 => {
                type $t = f32;
                $body
            }
            DataType::Float64 => {
                type $t = f64;
                $body
            }
            DataType::Float16 => {
                type $t = f16;
                $body
            }
            DataType::Int8 => {
                type $t = i8;
                $body
            }
            DataType::UInt8 => {
                type $t = u8;
                $body
            }
            DataType::Int16 => {
                type $t = i16;
                $body
            }
            DataType::UInt16 => {
                type $t = u16;
                $body
            }
            DataType::Int32 => {
                type $t = i32;
                $body
            }
            DataType::UInt32 => {
                type $t = u32;
                $body
            }
            DataType::Int64 => {
                type $t = i64;
                $body
            }
            DataType::UInt64 => {
                type $t = u64;
                $body
            }
            DataType::Bool => {
                type $t = bool;
                $body
            }
            other => Err(format!("{other:?} tensors are not supported by run_model").into()),
        }
    };
}

// Interpreter and signature runner hand out the same `Tensor` views, by position or name.
impl Graph<'_> {
    fn names(&self, inputs: bool) -> Vec<String> {
        match self {
            Graph::Main(it) => {
                let ts = if inputs { it.inputs() } else { it.outputs() };
                ts.iter().map(|t| t.name()).collect()
            }
            Graph::Signature(r) if inputs => r.input_names(),
            Graph::Signature(r) => r.output_names(),
        }
    }
    fn info(&self, inputs: bool, k: usize) -> tflite::Result<TensorInfo> {
        let t = match (self, inputs) {
            (Graph::Main(it), true) => it.input(k)?,
            (Graph::Main(it), false) => it.output(k)?,
            (Graph::Signature(r), true) => r.input(k)?,
            (Graph::Signature(r), false) => r.output(k)?,
        };
        Ok(t.info())
    }
    fn resize(&mut self, k: usize, shape: &[usize]) -> tflite::Result<()> {
        match self {
            Graph::Main(it) => it.resize_input(k, shape),
            Graph::Signature(r) => r.resize_input(k, shape),
        }
    }
    fn allocate(&mut self) -> tflite::Result<()> {
        match self {
            Graph::Main(it) => it.allocate_tensors(),
            Graph::Signature(r) => r.allocate_tensors(),
        }
    }
    fn invoke(&mut self) -> tflite::Result<()> {
        match self {
            Graph::Main(it) => it.invoke(),
            Graph::Signature(r) => r.invoke(),
        }
    }
    fn set<T: tflite::Element>(&mut self, k: usize, data: &[T]) -> tflite::Result<()> {
        match self {
            Graph::Main(it) => it.input_mut(k)?.copy_from_slice(data),
            Graph::Signature(r) => r.input_mut(k)?.copy_from_slice(data),
        }
    }
    fn get<T: tflite::Element>(&self, k: usize) -> tflite::Result<Vec<T>> {
        match self {
            Graph::Main(it) => it.output(k)?.to_vec(),
            Graph::Signature(r) => r.output(k)?.to_vec(),
        }
    }
}

fn describe(t: &TensorInfo) -> String {
    format!(
        "{:?} {:?} {:?} {:?}",
        t.name, t.dtype, t.shape, t.quantization
    )
}

fn read_npy(path: &Path) -> Result<npyz::NpyFile<std::io::BufReader<std::fs::File>>, Failure> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(npyz::NpyFile::new(std::io::BufReader::new(f))
        .map_err(|e| format!("{}: {e}", path.display()))?)
}

/// Deterministic pseudo-random values (splitmix64), so runs are repeatable without inputs.
struct Random(u64);
impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1) for floats, [-100, 100) clipped to the type for integers.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

trait FromRandom: Sized {
    fn random(r: &mut Random) -> Self;
}
macro_rules! random_float { ($($t:ty),*) => {$( impl FromRandom for $t { fn random(r: &mut Random) -> Self { r.unit() as $t } } )*} }
macro_rules! random_int { ($($t:ty),*) => {$( impl FromRandom for $t {
    fn random(r: &mut Random) -> Self { ((r.unit() * 100.0).floor() as i128).clamp(<$t>::MIN as i128, <$t>::MAX as i128) as $t }
} )*} }
random_float!(f32, f64);
random_int!(i8, u8, i16, u16, i32, u32, i64, u64);
impl FromRandom for f16 {
    fn random(r: &mut Random) -> Self {
        f16::from_f64(r.unit())
    }
}
impl FromRandom for bool {
    fn random(r: &mut Random) -> Self {
        r.next() & 1 == 1
    }
}

fn run(a: &Args) -> Result<bool, Failure> {
    let model = Model::from_file(&a.model)?;
    let mut interpreter = Interpreter::builder(&model)
        .num_threads(a.threads)
        .use_xnnpack(a.xnnpack)
        .profiling(a.profile > 0)
        .build()?;
    println!(
        "model {} (TensorFlow Lite {})",
        model.origin(),
        tflite::tflite_version()
    );
    match (interpreter.has_delegate(), interpreter.delegate_skipped()) {
        (true, _) => println!("kernels: XNNPACK, {} thread(s)", a.threads),
        (false, Some(why)) => println!(
            "kernels: builtin, {} thread(s) (XNNPACK not applied: {why})",
            a.threads
        ),
        (false, None) => println!("kernels: builtin, {} thread(s)", a.threads),
    }
    let keys = interpreter.signature_keys();
    if !keys.is_empty() {
        println!("signatures: {keys:?}");
    }
    let mut g = match &a.signature {
        Some(key) => Graph::Signature(interpreter.signature_runner(key)?),
        None => Graph::Main(&mut interpreter),
    };
    let n_in = g.names(true).len();
    if !a.inputs.is_empty() && a.inputs.len() != n_in {
        return Err(format!(
            "the graph has {n_in} inputs, {} --input files given",
            a.inputs.len()
        )
        .into());
    }
    // Resize to the .npy shapes first, then allocate once.
    for (k, path) in a.inputs.iter().enumerate() {
        let shape: Vec<usize> = read_npy(path)?
            .shape()
            .iter()
            .map(|d| *d as usize)
            .collect();
        if g.info(true, k)?.shape != shape {
            g.resize(k, &shape)?;
        }
    }
    g.allocate()?;
    let mut rng = Random(0x5EED);
    for k in 0..n_in {
        let info = g.info(true, k)?;
        println!("input  {k}: {}", describe(&info));
        with_element!(info.dtype, T => {
            let data: Vec<T> = match a.inputs.get(k) {
                Some(path) => read_npy(path)?
                    .into_vec::<T>()
                    .map_err(|e| format!("{}: {e} (the input is {:?})", path.display(), info.dtype))?,
                None => (0..info.num_elements()).map(|_| T::random(&mut rng)).collect(),
            };
            g.set(k, &data)?;
            Ok::<(), Failure>(())
        })?;
    }
    g.invoke()?;
    std::fs::create_dir_all(&a.output_dir)
        .map_err(|e| format!("{}: {e}", a.output_dir.display()))?;
    let mut all_match = true;
    for k in 0..g.names(false).len() {
        let info = g.info(false, k)?;
        println!("output {k}: {}", describe(&info));
        let path = a.output_dir.join(format!("output_{k}.npy"));
        with_element!(info.dtype, T => {
            let data: Vec<T> = g.get(k)?;
            let shape: Vec<u64> = info.shape.iter().map(|d| *d as u64).collect();
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(file).begin_nd()?;
            w.extend(data.iter().copied())?;
            w.finish()?;
            if let Some(dir) = &a.compare {
                let other = dir.join(format!("output_{k}.npy"));
                let want: Vec<T> = read_npy(&other)?.into_vec().map_err(|e| format!("{}: {e}", other.display()))?;
                // Fails on a length mismatch and on a NaN or infinity the reference does not
                // have at the same place, whatever the tolerance.
                let verdict = tflite::compare::check(&data, &want, Tolerance::Absolute(a.tolerance));
                all_match &= verdict.is_ok();
                match verdict {
                    Ok(r) => {
                        let at = r.worst.map_or(String::new(), |w| format!(" at element {}: got {}, want {}", w.index, w.got, w.want));
                        println!("  vs {}: max |diff| {:.3e}{at} OK", other.display(), r.max_diff)
                    }
                    Err(e) => println!("  vs {}: DIFFERENT: {e}", other.display()),
                }
            }
            Ok::<(), Failure>(())
        })?;
    }
    println!("outputs written to {}", a.output_dir.display());
    if a.bench > 0 {
        let mut times = Vec::with_capacity(a.bench);
        for _ in 0..a.bench {
            let t = Instant::now();
            g.invoke()?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "bench threads={} median_ms={:.4} min_ms={:.4} max_ms={:.4}",
            a.threads,
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
    if a.profile > 0 {
        let Graph::Main(it) = &mut g else {
            return Err("--profile profiles the main graph; leave out --signature".into());
        };
        let profile = it.profile(a.profile)?;
        print!("{profile}");
        if let Some(path) = &a.profile_trace {
            std::fs::write(path, profile.to_chrome_trace())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!("trace written to {}", path.display());
        }
    }
    Ok(all_match)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("run_model: {e}");
            std::process::exit(1);
        }
    }
}
