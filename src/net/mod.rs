//! Kernel side of an interface: link state ([`link`]) and sysctls under /proc/sys
//! ([`sysctl`]). Routing tables and rules come later.

pub mod link;
pub mod sysctl;
