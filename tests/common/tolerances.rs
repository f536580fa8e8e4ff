//! Tolerances kept as data next to the models they hold: a JSON file
//! `{key: {path: {"allowed": x, "observed": {arch: y}}}}`, where `observed` is the difference
//! measured on each architecture (relative to the output's largest magnitude, at least 1) and
//! `allowed` is [`bound_for`] the largest of them. `TFLITE_UPDATE_TOLERANCES=1` makes a test
//! record what this architecture observes and recompute the bounds (review the diff: a bound
//! that grows is a change to explain).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The bound where every observation is 0 (bit for bit): a few float32 ulps of the largest
/// output, for another CPU's kernels (AVX-512 or AVX2, NEON) to round otherwise.
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
    data: Value,
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

    pub fn allowed(&self, key: &str, path: &str) -> Option<f64> {
        self.data.get(key)?.get(path)?.get("allowed")?.as_f64()
    }

    /// Records `observed` for this architecture and recomputes the bound.
    pub fn observe(&mut self, key: &str, path: &str, observed: f64) {
        let entry = self
            .data
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert(json!({}));
        let entry = entry
            .as_object_mut()
            .unwrap()
            .entry(path)
            .or_insert(json!({"observed": {}}));
        let seen = entry["observed"].as_object_mut().unwrap();
        // Three significant digits are enough to see a change.
        let rounded: f64 = format!("{observed:.2e}").parse().unwrap();
        seen.insert(std::env::consts::ARCH.into(), json!(rounded));
        let largest = seen.values().filter_map(Value::as_f64).fold(0.0, f64::max);
        entry["allowed"] = json!(bound_for(largest));
    }

    pub fn save(&self) {
        let sorted: BTreeMap<_, _> = self.data.as_object().unwrap().iter().collect();
        let text = serde_json::to_string_pretty(&sorted).unwrap();
        std::fs::write(&self.file, text + "\n").unwrap();
    }

    /// Panics unless every entry's key is `known` and its bound is [`bound_for`] its largest
    /// observation (a bound loosened by hand, or left behind when a regression was fixed,
    /// fails). Returns the number of entries.
    pub fn assert_near_observed(&self, known: impl Fn(&str) -> bool) -> usize {
        let entries = self.data.as_object().unwrap();
        for (key, paths) in entries {
            assert!(known(key), "{key}: not in the corpus");
            for (path, t) in paths.as_object().unwrap() {
                let allowed = t["allowed"].as_f64().unwrap();
                let largest = t["observed"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_f64().unwrap())
                    .fold(0.0, f64::max);
                assert_eq!(
                    allowed,
                    bound_for(largest),
                    "{key} {path}: allowed {allowed}, observed at most {largest}: the bound is \
                     about 10 times the largest observation"
                );
            }
        }
        entries.len()
    }
}
