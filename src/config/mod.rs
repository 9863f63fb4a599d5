//! The typed configuration of an OVS interface: the `ovs_*` model ([`model`]) and
//! reading and validating it from a stanza or the hook environment ([`options`]).
//!
//! May use: `net` (routing-table names and route types), `interfaces` (stanzas and
//! their positions). Nothing here talks to OVS or the kernel.

pub mod model;
pub mod options;
