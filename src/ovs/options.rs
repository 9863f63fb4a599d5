//! TODO: ovs_* options -> OvsIface
