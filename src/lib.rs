//! ifupdown-ovs: Open vSwitch configuration from classic ifupdown's
//! /etc/network/interfaces. The library holds everything; `main.rs` only picks the
//! entry point. docs/architecture.md describes the layers; in short, dependencies
//! point down only:
//!
//! | layer | modules | what it may use |
//! |---|---|---|
//! | entry points | [`cli`], [`commands`], [`hook`], [`ocf`], [`error`] | everything below |
//! | planning | [`plan`] | configuration, OVSDB, kernel, language, system |
//! | configuration | [`config`] | kernel ([`net::rt_tables`], route types), language, system |
//! | OVSDB and kernel | [`ovsdb`], [`net`] | system |
//! | language and system | [`interfaces`], [`sys`] | nothing of ours (`interfaces` may use `sys`) |
//!
//! `tests/architecture.rs` checks that no top-level module imports one that imports it
//! back, and that none holds more than 30% of the code.

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
pub mod sys;
