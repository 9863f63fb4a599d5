//! The OVSPort OCF resource agent (TODO).
use crate::error::Error;

pub mod metadata;
pub mod observe;
pub mod params;
pub mod rc;
pub mod status;
pub mod target;

/// Run OCF `action`; returns the OCF exit code.
pub fn run(action: &str) -> Result<i32, Error> {
    let _ = action;
    Err(Error::Other("ocf: not implemented yet".into()))
}
