//! ifupdown-ovs: Open vSwitch configuration from classic ifupdown's
//! /etc/network/interfaces. The library holds everything; `main.rs` only picks the
//! entry point. docs/architecture.md describes the layers; in short, dependencies
//! point down only:
//!
//! | layer | modules | what it may use |
//! |---|---|---|
//! | entry points | [`cli`], [`commands`], [`hook`], [`ocf`], [`reload`], [`error`] | everything below, and each other without a cycle |
//! | planning | [`plan`] | every layer below |
//! | configuration | [`config`] | every layer below (from `net`: routing-table names) |
//! | OVSDB and kernel | [`net`], [`ovsdb`] | the language and system layers, not each other |
//! | language | [`interfaces`] | system |
//! | system | [`sys`] | nothing of ours |
//!
//! `tests/cli/architecture.rs` checks that every import points to a lower layer (or, among
//! entry points, forms no cycle), that no top-level module holds more than 30% of the
//! code, and that every facade's doc names its submodules.

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod hook;
pub mod interfaces;
pub mod net;
pub mod ocf;
pub mod ovsdb;
pub mod plan;
pub mod reload;
pub mod sys;
