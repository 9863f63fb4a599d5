//! Kernel side of an interface: link state ([`link`]), sysctls under /proc/sys
//! ([`sysctl`]), static addresses ([`addr`]) and source-based routing: the
//! configured rules and routes ([`route`]), routing-table names ([`rt_tables`]), the
//! kernel's and the difference ([`rtstate`]), running `ip` ([`ipcmd`]).
//!
//! May use: `sys` (bounded child processes); reads `ip -j` output with serde_json.

pub mod addr;
pub mod ipcmd;
pub mod link;
pub mod route;
pub mod rt_tables;
pub mod rtstate;
pub mod sysctl;
