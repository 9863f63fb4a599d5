//! The interfaces(5) language of ifupdown 0.8: physical lines to logical lines
//! ([`lines`]), nom grammar for each stanza kind ([`grammar`]) and the resolved,
//! queryable configuration with `source`, `source-directory`, `inherits` and allow
//! classes ([`config`]).

pub mod config;
pub mod grammar;
pub mod lines;

pub use config::{Config, Iface, Mapping, Opt, ParseError, Position};
