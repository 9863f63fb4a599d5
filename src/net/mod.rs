//! Kernel side of an interface: link state ([`link`]), sysctls under /proc/sys
//! ([`sysctl`]), static addresses ([`addr`]) and source-based routing: the
//! configured rules and routes ([`route`]), the kernel's and the difference
//! ([`rtstate`]), running `ip` ([`ipcmd`]).

pub mod addr;
pub mod ipcmd;
pub mod link;
pub mod route;
pub mod rtstate;
pub mod sysctl;
