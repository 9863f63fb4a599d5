//! The integration tests that run in the test lab (module [`lab`]; see
//! docs/architecture.md, "The test lab"), and the Debian package tests: one test
//! binary, so that the lab and the helpers are compiled once.
//!
//! Every lab test needs root and the packages of `.ci/run`, and fails (never
//! skips) without them. Tests are named `MODULE::TEST`; run one group with e.g.
//! `cargo test --test lab_tests hook_routing::`.
//!
//! All tests share this process: `--test-threads=N` runs N of them at once, in any
//! pairing. Labs never collide (each has its own namespaces), and no test sets
//! environment variables or process-wide state. The one test that changes the
//! host (`deb_package::build_install_divert_purge` installs and removes packages,
//! which every lab sees through its overlays) takes the host exclusively
//! ([`lab::HostLock`]), so it never overlaps with a lab.

mod hook_util;
mod lab;
mod ocf_util;

mod deb_package;
mod failover;
mod faults_agent;
mod faults_files;
mod faults_hang;
mod faults_subst;
mod faults_suite;
mod faults_undo;
mod hook_basic;
mod hook_batch;
mod hook_compat;
mod hook_debian;
mod hook_lifecycle;
mod hook_routing;
mod hook_schema;
mod hook_seed;
mod lab_smoke;
mod ocf_agent;
mod ocf_cycles;
mod ocf_tester;
mod pacemaker_cluster;
mod pacemaker_failover;
mod pacemaker_resource;
mod reload_edges;
mod reload_live;
mod reload_try;
mod seed_dhcp;
mod status;
