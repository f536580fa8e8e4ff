//! Which kernel runs a node: the one vocabulary of the execution plan
//! ([`PlanNode::kernel`](crate::PlanNode::kernel)) and of profiles
//! ([`NodeTime::kernel`](crate::profile::NodeTime::kernel)).

/// What runs a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// A partition of the graph delegated to XNNPACK.
    Xnnpack,
    /// One of TFLite's builtin kernels.
    Builtin,
    /// A custom operator registered from Rust ([`custom_op`](crate::custom_op)).
    RustCustomOp,
    /// A custom operator registered through the raw C API.
    Custom,
    /// A partition taken by another delegate (an external delegate plugin), by its kernel's
    /// name.
    Delegate(String),
}

/// The name TFLite gives XNNPACK's delegate kernel (a delegated partition's operator).
pub(crate) const XNNPACK_KERNEL: &str = "TfLiteXNNPackDelegate";

impl Kernel {
    /// The kernel of a node whose operator is `op` (a builtin's schema name, a custom op's
    /// name, or a delegate kernel's name), as TFLite's registration says: `delegated` if a
    /// delegate took it, `custom` if it is a custom operator; `rust_ops` are the names of the
    /// Rust custom ops registered.
    pub(crate) fn of(op: &str, delegated: bool, custom: bool, rust_ops: &[String]) -> Kernel {
        if delegated {
            if op == XNNPACK_KERNEL {
                Kernel::Xnnpack
            } else {
                Kernel::Delegate(op.to_string())
            }
        } else if !custom {
            Kernel::Builtin
        } else if rust_ops.iter().any(|r| r == op) {
            Kernel::RustCustomOp
        } else {
            Kernel::Custom
        }
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kernel::Xnnpack => "XNNPACK",
            Kernel::Builtin => "builtin",
            Kernel::RustCustomOp => "Rust op",
            Kernel::Custom => "custom",
            Kernel::Delegate(name) => name,
        })
    }
}
