//! TODO
use crate::cli::PlanArgs;
use crate::error::Error;

pub fn run(args: &PlanArgs) -> Result<i32, Error> {
    let _ = args;
    Err(Error::Other("plan: not implemented yet".into()))
}
