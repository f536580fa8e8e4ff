//! The rules on the model's signatures, which TFLite's signature runner reads unchecked.

use super::{out_of_bounds, ModelTables, Verdict};
use crate::schema::fields::*;
use crate::schema::Flatbuffer;
use std::collections::BTreeSet;

/// The signatures TFLite's runner cannot run safely, each (key, why); a key listed twice is
/// judged by its first signature, the one TFLite runs. Checked when a runner is made, so that
/// a model whose signatures are broken still runs through its interpreter.
pub(crate) fn unusable_signatures(model: &[u8]) -> Vec<(String, String)> {
    let fb = Flatbuffer(model);
    let Ok(Some(m)) = ModelTables::read(&fb) else {
        return Vec::new();
    };
    let Some((defs, n)) = fb.vector(m.root, MODEL_SIGNATURE_DEFS) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut unusable = Vec::new();
    for k in 0..n.min(1 << 16) {
        let Some(def) = fb.table(defs, k) else {
            break;
        };
        // TFLite reads the key up to its first NUL.
        let key = fb
            .bytes(def, SIGNATURE_KEY)
            .map(|b| {
                String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or_default())
                    .into_owned()
            })
            .unwrap_or_default();
        if !seen.insert(key.clone()) {
            continue;
        }
        if let Err(why) = every_input_and_output_is_named(&m, def, &key) {
            unusable.push((key, why));
        }
    }
    unusable
}

/// Every signature runs a subgraph of the model and names each of that subgraph's inputs and
/// outputs. TFLite 2.14 keeps the named entries only (a name is read up to its first NUL; an
/// entry without one is dropped, two with the same name are one), but counts the subgraph's
/// inputs and outputs: asked for the name of an unnamed one, its runner read past its list of
/// names (a mutated `conv_dense.tflite` whose only output lost its name: SIGSEGV in
/// `TfLiteSignatureRunnerGetOutputName`). A subgraph index out of range gives its runner no
/// subgraph at all.
fn every_input_and_output_is_named(m: &ModelTables<'_>, def: usize, key: &str) -> Verdict {
    let fb = m.fb;
    let s = fb
        .scalar_i32(def, SIGNATURE_SUBGRAPH, 0)
        .ok_or_else(out_of_bounds)?;
    let subgraph = usize::try_from(s)
        .ok()
        .filter(|&s| s < m.n_subgraphs)
        .and_then(|s| fb.table(m.subgraphs, s))
        .ok_or_else(|| {
            format!(
                "signature {key:?} runs subgraph {s}, but the model has {}",
                m.n_subgraphs
            )
        })?;
    for (field, io, what) in [
        (SIGNATURE_INPUTS, SUBGRAPH_INPUTS, "input"),
        (SIGNATURE_OUTPUTS, SUBGRAPH_OUTPUTS, "output"),
    ] {
        // Without the list TFLite refuses the model itself.
        let Some((maps, len)) = fb.vector(def, field) else {
            continue;
        };
        let mut names = BTreeSet::new();
        for j in 0..len {
            let map = fb.table(maps, j).ok_or_else(out_of_bounds)?;
            if let Some(name) = fb.bytes(map, TENSORMAP_NAME) {
                names.insert(name.split(|&b| b == 0).next().unwrap_or_default());
            }
        }
        let count = m.indices(subgraph, io)?.len();
        if names.len() < count {
            return Err(format!(
                "signature {key:?} names {} distinct {what}s, but its subgraph {s} has \
                 {count}",
                names.len()
            ));
        }
    }
    Ok(())
}
