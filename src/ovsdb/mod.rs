//! OVSDB access, all through `ovs-vsctl`: transactions and quoting ([`vsctl`]), one
//! reader of the Bridge, Port and Interface tables ([`state`], parsing with [`json`]),
//! and whether the daemons are up ([`daemon`]).
//!
//! May use: `sys` (bounded child processes).

pub mod daemon;
pub mod json;
pub mod state;
pub mod vsctl;
