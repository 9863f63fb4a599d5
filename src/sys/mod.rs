//! System helpers with no knowledge of OVS or ifupdown: bounded child processes
//! ([`process`]), what /proc says about a process ([`procfs`]) and the shell words of `ovs_options`/`ovs_extra` with the one shell
//! we run, for `$(...)` ([`words`]), and the files we create under `/run` without
//! following symlinks or trusting what others could have written ([`rundir`]).
//!
//! May use: nothing of ours.

pub mod process;
pub mod procfs;
pub mod rundir;
pub mod words;
