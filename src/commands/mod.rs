//! The CLI commands, one module each with a `run(args)`: [`check`] (lint an
//! interfaces file), [`query`] (ifquery's answers), [`plan`] (print what the hooks
//! would run), [`status`] (compare the file with OVSDB and the kernel) and
//! [`trial`] (`reload --try`, `commit`, `rollback`).
//!
//! May use: `cli` (their arguments), `error`, `hook` (ifupdown's state directory),
//! `reload` (its lock file, which [`trial`] waits for), `plan`, `config`, `ovsdb`,
//! `net`, `interfaces`, `sys`. Nothing imports them but
//! `main` (the OCF agent's `validate-all` uses `config::lint`, as [`check`] does).

pub mod check;
pub mod plan;
pub mod query;
pub mod status;
pub mod trial;
