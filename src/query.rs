//! TODO
use crate::cli::QueryArgs;
use crate::error::Error;

pub fn run(args: &QueryArgs) -> Result<i32, Error> {
    let _ = args;
    Err(Error::Other("query: not implemented yet".into()))
}
