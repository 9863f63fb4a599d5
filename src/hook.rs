//! TODO
use crate::cli::HookArgs;
use crate::error::Error;

pub fn run_cli(args: &HookArgs) -> Result<i32, Error> {
    let _ = args;
    Err(Error::Other("hook: not implemented yet".into()))
}

/// True when ifupdown runs us as a hook (`MODE`, `PHASE` and `IFACE` are set).
pub fn is_hook_environment() -> bool {
    ["MODE", "PHASE", "IFACE"]
        .iter()
        .all(|v| std::env::var_os(v).is_some())
}

/// Entry point for ifupdown's run-parts.
pub fn run_from_environment() -> Result<i32, Error> {
    Ok(0)
}
