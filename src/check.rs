//! TODO
use crate::cli::CheckArgs;
use crate::error::Error;

pub fn run(args: &CheckArgs) -> Result<i32, Error> {
    let _ = args;
    Err(Error::Other("check: not implemented yet".into()))
}
