//! The interfaces(5) language of ifupdown 0.8: physical lines to logical lines
//! ([`lines`]), nom grammar for each line kind ([`grammar`]), the resolved,
//! queryable configuration with `source`, `source-directory`, `inherits` and allow
//! classes ([`config`]), the file lookup of `source` lines ([`source`]) and the
//! interface patterns of `auto`/`allow-` lines ([`pattern`]), and a byte-for-byte copy
//! of the files one configuration reads ([`snapshot`]).

pub mod config;
pub mod grammar;
pub mod lines;
pub mod pattern;
pub mod snapshot;
pub mod source;

/// The file ifupdown reads when not told otherwise (`ifup -i FILE`).
pub const DEFAULT_FILE: &str = "/etc/network/interfaces";

pub use config::{
    Config, Iface, InputTooLarge, Listing, Mapping, Opt, ParseError, Position, Warning,
};
