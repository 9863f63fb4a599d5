//! The OVSPort OCF resource agent (TODO).
use crate::error::Error;

/// Run OCF `action`; returns the OCF exit code.
pub fn run(action: &str) -> Result<i32, Error> {
    let _ = action;
    Err(Error::Other("ocf: not implemented yet".into()))
}
