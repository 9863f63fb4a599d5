//! The typed configuration of an OVS interface: the `ovs_*` model ([`model`]),
//! reading and validating it from a stanza or the hook environment ([`options`]),
//! checking `ovs_options` / `ovs_extra` words against the installed OVS schema
//! ([`schema`]), linting a whole file, interfaces against each other ([`lint`]), and
//! the "did you mean" behind their messages ([`suggest`]).
//!
//! May use: `net` (routing-table names and route types), `interfaces` (stanzas and
//! their positions). Nothing here talks to OVS or the kernel.

pub mod lint;
pub mod model;
pub mod options;
pub mod schema;
pub mod suggest;
