//! Delegates: what takes nodes away from TFLite's builtin kernels. XNNPACK ([`xnnpack`]) and
//! its shared packed weights ([`weights`]), external plugins ([`external`]), the probe that
//! reads the execution plan after delegation ([`probe`]), and the one vocabulary of "which
//! kernel runs this node" ([`kernel`]) that the plan and profiles share.

pub(crate) mod external;
pub(crate) mod kernel;
pub(crate) mod probe;
pub(crate) mod weights;
pub(crate) mod xnnpack;

use crate::error::{Error, Result};
use external::ExternalDelegate;
use probe::{PlanNode, Probe};
use std::sync::Arc;
use weights::WeightsCache;
use xnnpack::Delegate;

/// What happened to the XNNPACK delegate an interpreter was built with.
pub(crate) enum Xnnpack {
    /// Not asked for.
    Off,
    /// Asked for but not applied (the interpreter runs on the builtin kernels): why.
    Skipped(String),
    /// Applied to the graph; packing into the model's shared weights cache if `weights`.
    Applied {
        // Kept for TFLite, which uses it until the interpreter is deleted; declared first:
        // dropped before the cache it may pack into.
        _delegate: Delegate,
        weights: Option<Arc<WeightsCache>>,
    },
}

/// Every delegate applied to one interpreter, owned for as long as TFLite may use them: the
/// interpreter deletes its native object before this is dropped.
pub(crate) struct Delegation {
    pub(crate) xnnpack: Xnnpack,
    /// A plugin applied before XNNPACK.
    pub(crate) external: Option<Arc<ExternalDelegate>>,
    /// Reads the execution plan, applied after every other delegate (with profiling or an
    /// external delegate).
    pub(crate) probe: Option<Box<Probe>>,
}

impl Default for Delegation {
    fn default() -> Self {
        Delegation {
            xnnpack: Xnnpack::Off,
            external: None,
            probe: None,
        }
    }
}

impl Delegation {
    /// Whether XNNPACK was applied.
    pub(crate) fn has_xnnpack(&self) -> bool {
        matches!(self.xnnpack, Xnnpack::Applied { .. })
    }

    /// Whether any delegate that changes the graph (XNNPACK or a plugin) was applied: TFLite
    /// then re-applies it at every allocation after a resize.
    pub(crate) fn rewrites_graph(&self) -> bool {
        self.has_xnnpack() || self.external.is_some()
    }

    /// Why XNNPACK was asked for but not applied, if so.
    pub(crate) fn skipped(&self) -> Option<&str> {
        match &self.xnnpack {
            Xnnpack::Skipped(why) => Some(why),
            _ => None,
        }
    }

    /// The shared weights cache XNNPACK packs into, if applied with one.
    pub(crate) fn weights(&self) -> Option<&Arc<WeightsCache>> {
        match &self.xnnpack {
            Xnnpack::Applied { weights, .. } => weights.as_ref(),
            _ => None,
        }
    }

    /// Runs `f` as a build that may pack into the shared weights cache, if any (see
    /// [`WeightsCache::building`]): TFLite re-applies the delegates during an allocation after
    /// a resize.
    pub(crate) fn building<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.weights() {
            Some(w) => w.building(f),
            None => f(),
        }
    }

    /// XNNPACK runs nothing from an open weights cache: finalize the shared one before an
    /// invoke.
    pub(crate) fn finalize_weights(&self) -> Result<()> {
        match self.weights() {
            Some(w) if !w.ensure_finalized() => Err(Error::Tflite {
                call: "TfLiteXNNPackDelegateWeightsCacheFinalizeSoft",
                tflite_message: "XNNPACK could not finalize the shared weights cache".into(),
            }),
            _ => Ok(()),
        }
    }

    /// The main graph's execution plan, if the probe is applied.
    pub(crate) fn plan(&self) -> Option<Vec<PlanNode>> {
        self.probe.as_ref().and_then(|p| p.plan())
    }
}
