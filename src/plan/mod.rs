//! Planning: from the validated model and what OVSDB holds now to a printable list of
//! steps, without running anything.
//!
//! - [`scene`]: everything one hook run knows (its environment, the interfaces file,
//!   the models of the interfaces it asks about, built lazily);
//! - [`desired`]: the OVSDB rows an interface wants (bridge, port, interfaces, their
//!   columns and ownership marks);
//! - [`converge`]: desired vs observed OVSDB state -> one `ovs-vsctl` transaction
//!   (create, change, move, clear what we set before, never what others set);
//! - [`phases`]: the plan of each hook phase (pre-up, post-up, pre-down, post-down),
//!   OVSDB and kernel steps in their order;
//! - [`steps`]: the plan itself ([`steps::Plan`], [`steps::Step`]), printable;
//! - [`fingerprint`]: a stable hash of what a pre-up configures;
//! - [`error`]: why an interface cannot be planned ([`error::PlanError`],
//!   [`error::InvalidStanza`]).
//!
//! May use: `config`, `ovsdb` (state and transaction types, never running them),
//! `net` (kernel state types and steps), `interfaces`, `sys`. Entry points run the plans.

pub mod converge;
pub mod desired;
pub mod error;
pub mod fingerprint;
pub mod phases;
pub mod scene;
pub mod steps;
