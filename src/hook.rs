//! TODO
use crate::cli::HookArgs;
use crate::error::Error;

pub fn run_cli(args: &HookArgs) -> Result<i32, Error> {
    let _ = args;
    Err(Error::Other("hook: not implemented yet".into()))
}
