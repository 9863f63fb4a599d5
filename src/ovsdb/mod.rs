//! OVSDB access, all through `ovs-vsctl`: transactions and quoting ([`vsctl`]), the
//! one reader of the Bridge, Port and Interface tables ([`state`]: the hook, the
//! planner, `status` and the OCF agent all read them there), its `--format=json`
//! tables and OVSDB atoms, sets and maps read with serde_json ([`json`]), and whether
//! the daemons are up ([`daemon`]), and why OVS refused a transaction, with the
//! record it names ([`refusal`]); how many of our processes talk to OVS at once,
//! and a hang one of them found ([`gate`]); `--if-exists del-port` spoken
//! straight to ovsdb-server, without an ovs-vsctl process ([`native`]).
//!
//! May use: `sys` (bounded child processes); serde_json.

pub mod daemon;
pub mod gate;
pub mod json;
pub mod native;
pub mod refusal;
pub mod state;
pub mod vsctl;
