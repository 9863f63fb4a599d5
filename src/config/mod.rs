//! The typed configuration of an OVS interface: the `ovs_*` model ([`model`]),
//! reading and validating it from a stanza or the hook environment ([`options`]),
//! and linting a whole file, interfaces against each other ([`lint`]).
//!
//! May use: `net` (routing-table names and route types), `interfaces` (stanzas and
//! their positions). Nothing here talks to OVS or the kernel.

pub mod lint;
pub mod model;
pub mod options;
