//! The CPU check before the first native call: on x86_64, TFLite's builtin kernels are compiled
//! for x86-64-v2 (`tflite_sys::X86_64_LEVEL`, see tflite-sys's `TFLITE_SYS_X86_64_BASELINE`),
//! and running them on an older CPU would stop the process with an illegal instruction.

#[cfg(target_arch = "x86_64")]
use crate::error::Error;
use crate::error::Result;

/// The features of x86-64-v2 that `is_x86_feature_detected!` can name.
#[cfg(target_arch = "x86_64")]
fn missing_x86_64_v2() -> Vec<&'static str> {
    let mut missing = Vec::new();
    macro_rules! need {
        ($($f:tt),*) => {$(
            if !std::is_x86_feature_detected!($f) {
                missing.push($f);
            }
        )*};
    }
    need!("sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cmpxchg16b");
    missing
}

/// `Err(UnsupportedCpu)` if this CPU cannot run the native code this crate was built with.
pub(crate) fn check() -> Result<()> {
    let level = tflite_sys::X86_64_LEVEL;
    if level.is_empty() {
        return Ok(());
    }
    #[cfg(target_arch = "x86_64")]
    {
        static MISSING: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        let missing = MISSING.get_or_init(missing_x86_64_v2);
        if !missing.is_empty() {
            return Err(Error::UnsupportedCpu {
                level,
                missing: missing.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_level_names_what_the_build_script_compiled_for() {
        // The default build (no TFLITE_SYS_X86_64_BASELINE) compiles the kernels for x86-64-v2;
        // the check agrees with the CPU's own answer.
        let level = tflite_sys::X86_64_LEVEL;
        assert!(level.is_empty() || level == "x86-64-v2", "{level:?}");
        let all = super::missing_x86_64_v2().is_empty();
        assert_eq!(super::check().is_ok(), level.is_empty() || all);
    }
}
