//! Tolerances kept as data next to the models they hold: a JSON file, one line per model,
//! `{key: {path: {arch: {"observed": y, "allowed": x}}}}`. `observed` is the difference measured
//! on that architecture (relative to the output's largest magnitude, at least 1; the date is in
//! the docs that cite it) and `allowed` is [`bound_for`] it: about 10 times what is observed,
//! per architecture, since ARM's builtin int8 kernels round otherwise than x86's. An
//! architecture with no entry fails the test until it is recorded:
//! `TFLITE_UPDATE_TOLERANCES=1` makes a test record what this architecture observes (review the
//! diff: a bound that grows is a change to explain).

use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The bound where the observation is 0 (bit for bit): a few float32 ulps of the largest
/// output, for another CPU of the same architecture (AVX-512 or AVX2) to round otherwise.
pub const TOLERANCE_FLOOR: f64 = 1e-6;

/// About 10 times `observed`, rounded up to two significant digits, at least the floor.
pub fn bound_for(observed: f64) -> f64 {
    let bound = (10.0 * observed).max(TOLERANCE_FLOOR);
    let exponent = bound.log10().floor() as i32 - 1;
    let mantissa = (bound / 10f64.powi(exponent) * (1.0 - 1e-12)).ceil();
    format!("{mantissa}e{exponent}").parse().unwrap()
}

pub struct Tolerances {
    file: PathBuf,
    data: Map<String, Value>,
}

impl Tolerances {
    pub fn load(file: impl Into<PathBuf>) -> Self {
        let file = file.into();
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| "{}".into());
        let data =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        Tolerances { file, data }
    }

    /// Whether this run records observations (`TFLITE_UPDATE_TOLERANCES=1`).
    pub fn updating() -> bool {
        std::env::var_os("TFLITE_UPDATE_TOLERANCES").is_some_and(|v| v == "1")
    }

    /// The bound for `key` on `path` on this architecture.
    pub fn allowed(&self, key: &str, path: &str) -> Option<f64> {
        let arch = std::env::consts::ARCH;
        self.data
            .get(key)?
            .get(path)?
            .get(arch)?
            .get("allowed")?
            .as_f64()
    }

    /// Records `observed` on this architecture and sets its bound.
    pub fn observe(&mut self, key: &str, path: &str, observed: f64) {
        // Three significant digits are enough to see a change.
        let observed: f64 = format!("{observed:.2e}").parse().unwrap();
        let entry = self.data.entry(key).or_insert(json!({}));
        let entry = entry
            .as_object_mut()
            .unwrap()
            .entry(path)
            .or_insert(json!({}));
        entry[std::env::consts::ARCH] =
            json!({"observed": observed, "allowed": bound_for(observed)});
    }

    /// Writes the file, one line per key, sorted.
    pub fn save(&self) {
        let mut keys: Vec<_> = self.data.keys().collect();
        keys.sort();
        let lines: Vec<String> = keys
            .iter()
            .map(|k| format!("  {}: {}", json!(k), self.data[k.as_str()]))
            .collect();
        std::fs::write(&self.file, format!("{{\n{}\n}}\n", lines.join(",\n"))).unwrap();
    }

    /// Panics unless every entry's key is `known` and each bound is [`bound_for`] its
    /// observation (a bound loosened by hand, or left behind when a regression was fixed,
    /// fails). Returns the number of entries.
    pub fn assert_near_observed(&self, known: impl Fn(&str) -> bool) -> usize {
        for (key, paths) in &self.data {
            assert!(known(key), "{key}: not in the corpus");
            for (path, arches) in paths.as_object().unwrap() {
                for (arch, t) in arches.as_object().unwrap() {
                    let allowed = t["allowed"].as_f64().unwrap();
                    let observed = t["observed"].as_f64().unwrap();
                    assert_eq!(
                        allowed,
                        bound_for(observed),
                        "{key} {path} {arch}: allowed {allowed}, observed {observed}: the bound \
                         is about 10 times the observation"
                    );
                }
            }
        }
        self.data.len()
    }
}
