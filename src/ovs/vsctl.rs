//! TODO: ovs-vsctl transaction builder and runner
