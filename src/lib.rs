//! ifupdown-ovs: Open vSwitch configuration from classic ifupdown's
//! /etc/network/interfaces. The library holds everything; `main.rs` only picks the
//! entry point.

pub mod check;
pub mod cli;
pub mod error;
pub mod hook;
pub mod interfaces;
pub mod net;
pub mod ocf;
pub mod ovs;
pub mod plan;
pub mod query;
pub mod status;
