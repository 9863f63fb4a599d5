//! The keys of the string maps (`other_config`, `options`, `bfd`, `lldp`) that
//! ovs-vswitchd.conf.db(5) documents, with the type it gives each ("optional
//! string, either true or false", "containing an integer, in range 1 to 255", "one
//! of ..."). The schema itself says only "string to string": these rows come from
//! the manual page of Open vSwitch 3.1 (`man 5 ovs-vswitchd.conf.db`, the
//! "Key-Value Pairs" of each table), one row per documented key; keys whose value
//! is any string are listed as [`Key::Text`] so that they are known.
//!
//! `external_ids` is not listed: the manual reserves it "for use by external
//! frameworks", so any key is fine there. `packet_type` lists the values of every
//! tunnel type together.

use super::model::{Atomic, Base};
use super::value::{self, ValueProblem};

/// The documented type of a key's value (always a string in OVSDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `true` or `false`.
    Bool,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// An integer in this range (inclusive).
    Int(i64, i64),
    /// Any string.
    Text,
}

use Key::{Bool, Int, OneOf, Text};

/// (table, column, key, type).
#[rustfmt::skip]
const KEYS: &[(&str, &str, &str, Key)] = &[
    ("Open_vSwitch", "other_config", "stats-update-interval", Int(5000, i64::MAX)),
    ("Open_vSwitch", "other_config", "flow-restore-wait", Bool),
    ("Open_vSwitch", "other_config", "flow-limit", Int(0, i64::MAX)),
    ("Open_vSwitch", "other_config", "max-idle", Int(500, i64::MAX)),
    ("Open_vSwitch", "other_config", "max-revalidator", Int(100, i64::MAX)),
    ("Open_vSwitch", "other_config", "min-revalidate-pps", Int(1, i64::MAX)),
    ("Open_vSwitch", "other_config", "hw-offload", Bool),
    ("Open_vSwitch", "other_config", "n-offload-threads", Int(1, 10)),
    ("Open_vSwitch", "other_config", "tc-policy", OneOf(&["none", "skip_hw", "skip_sw"])),
    ("Open_vSwitch", "other_config", "dpdk-init", OneOf(&["false", "true", "try"])),
    ("Open_vSwitch", "other_config", "dpdk-lcore-mask", Int(1, i64::MAX)),
    ("Open_vSwitch", "other_config", "pmd-cpu-mask", Text),
    ("Open_vSwitch", "other_config", "dpdk-alloc-mem", Int(0, i64::MAX)),
    ("Open_vSwitch", "other_config", "dpdk-socket-mem", Text),
    ("Open_vSwitch", "other_config", "dpdk-socket-limit", Text),
    ("Open_vSwitch", "other_config", "dpdk-hugepage-dir", Text),
    ("Open_vSwitch", "other_config", "dpdk-extra", Text),
    ("Open_vSwitch", "other_config", "vhost-sock-dir", Text),
    ("Open_vSwitch", "other_config", "vhost-iommu-support", Bool),
    ("Open_vSwitch", "other_config", "vhost-postcopy-support", Bool),
    ("Open_vSwitch", "other_config", "per-port-memory", Bool),
    ("Open_vSwitch", "other_config", "shared-mempool-config", Text),
    ("Open_vSwitch", "other_config", "tx-flush-interval", Int(0, 1000000)),
    ("Open_vSwitch", "other_config", "pmd-perf-metrics", Bool),
    ("Open_vSwitch", "other_config", "smc-enable", Bool),
    ("Open_vSwitch", "other_config", "pmd-rxq-assign", OneOf(&["cycles", "group", "roundrobin"])),
    ("Open_vSwitch", "other_config", "pmd-rxq-isolate", Bool),
    ("Open_vSwitch", "other_config", "n-handler-threads", Int(1, i64::MAX)),
    ("Open_vSwitch", "other_config", "n-revalidator-threads", Int(1, i64::MAX)),
    ("Open_vSwitch", "other_config", "emc-insert-inv-prob", Int(0, 4294967295)),
    ("Open_vSwitch", "other_config", "vlan-limit", Int(0, i64::MAX)),
    ("Open_vSwitch", "other_config", "bundle-idle-timeout", Int(1, i64::MAX)),
    ("Open_vSwitch", "other_config", "offload-rebalance", Bool),
    ("Open_vSwitch", "other_config", "pmd-auto-lb", Bool),
    ("Open_vSwitch", "other_config", "pmd-auto-lb-rebal-interval", Int(0, 20000)),
    ("Open_vSwitch", "other_config", "pmd-auto-lb-load-threshold", Int(0, 100)),
    ("Open_vSwitch", "other_config", "pmd-auto-lb-improvement-threshold", Int(0, 100)),
    ("Open_vSwitch", "other_config", "pmd-maxsleep", Int(0, 10000)),
    ("Open_vSwitch", "other_config", "userspace-tso-enable", Bool),
    ("Open_vSwitch", "other_config", "enable-statistics", Bool),
    ("Open_vSwitch", "other_config", "private_key", Text),
    ("Open_vSwitch", "other_config", "certificate", Text),
    ("Open_vSwitch", "other_config", "ca_cert", Text),
    ("Open_vSwitch", "other_config", "ipsec_skb_mark", Text),
    ("Bridge", "other_config", "datapath-id", Text),
    ("Bridge", "other_config", "dp-desc", Text),
    ("Bridge", "other_config", "dp-sn", Text),
    ("Bridge", "other_config", "disable-in-band", Bool),
    ("Bridge", "other_config", "in-band-queue", Int(0, 4294967295)),
    ("Bridge", "other_config", "controller-queue-size", Int(1, 512)),
    ("Bridge", "other_config", "stp-system-id", Text),
    ("Bridge", "other_config", "stp-priority", Int(0, 65535)),
    ("Bridge", "other_config", "stp-hello-time", Int(1, 10)),
    ("Bridge", "other_config", "stp-max-age", Int(6, 40)),
    ("Bridge", "other_config", "stp-forward-delay", Int(4, 30)),
    ("Bridge", "other_config", "mcast-snooping-aging-time", Int(1, i64::MAX)),
    ("Bridge", "other_config", "mcast-snooping-table-size", Int(1, i64::MAX)),
    ("Bridge", "other_config", "mcast-snooping-disable-flood-unregistered", Bool),
    ("Bridge", "other_config", "rstp-address", Text),
    ("Bridge", "other_config", "rstp-priority", Int(0, 61440)),
    ("Bridge", "other_config", "rstp-ageing-time", Int(10, 1000000)),
    ("Bridge", "other_config", "rstp-force-protocol-version", Int(i64::MIN, i64::MAX)),
    ("Bridge", "other_config", "rstp-max-age", Int(6, 40)),
    ("Bridge", "other_config", "rstp-forward-delay", Int(4, 30)),
    ("Bridge", "other_config", "rstp-transmit-hold-count", Int(1, 10)),
    ("Bridge", "other_config", "hwaddr", Text),
    ("Bridge", "other_config", "forward-bpdu", Bool),
    ("Bridge", "other_config", "mac-aging-time", Int(1, i64::MAX)),
    ("Bridge", "other_config", "mac-table-size", Int(1, i64::MAX)),
    ("Port", "other_config", "qinq-ethtype", OneOf(&["802.1ad", "802.1q"])),
    ("Port", "other_config", "priority-tags", OneOf(&["always", "if-nonzero", "never"])),
    ("Port", "other_config", "bond-hash-basis", Int(i64::MIN, i64::MAX)),
    ("Port", "other_config", "lb-output-action", Bool),
    ("Port", "other_config", "bond-primary", Text),
    ("Port", "other_config", "all-members-active", Bool),
    ("Port", "other_config", "bond-detect-mode", OneOf(&["carrier", "miimon"])),
    ("Port", "other_config", "bond-miimon-interval", Int(i64::MIN, i64::MAX)),
    ("Port", "other_config", "lacp-system-id", Text),
    ("Port", "other_config", "lacp-system-priority", Int(1, 65535)),
    ("Port", "other_config", "lacp-time", OneOf(&["fast", "slow"])),
    ("Port", "other_config", "lacp-fallback-ab", Bool),
    ("Port", "other_config", "bond-rebalance-interval", Int(0, 2147483647)),
    ("Port", "other_config", "stp-enable", Bool),
    ("Port", "other_config", "stp-port-num", Int(1, 255)),
    ("Port", "other_config", "stp-port-priority", Int(0, 255)),
    ("Port", "other_config", "stp-path-cost", Int(0, 65535)),
    ("Port", "other_config", "rstp-enable", Bool),
    ("Port", "other_config", "rstp-port-priority", Int(0, 240)),
    ("Port", "other_config", "rstp-port-num", Int(1, 4095)),
    ("Port", "other_config", "rstp-path-cost", Int(i64::MIN, i64::MAX)),
    ("Port", "other_config", "rstp-port-admin-edge", Bool),
    ("Port", "other_config", "rstp-port-auto-edge", Bool),
    ("Port", "other_config", "rstp-port-mcheck", Bool),
    ("Port", "other_config", "mcast-snooping-flood", Bool),
    ("Port", "other_config", "mcast-snooping-flood-reports", Bool),
    ("Port", "other_config", "transient", Bool),
    ("Interface", "options", "remote_ip", Text),
    ("Interface", "options", "local_ip", Text),
    ("Interface", "options", "in_key", Text),
    ("Interface", "options", "out_key", Text),
    ("Interface", "options", "dst_port", Text),
    ("Interface", "options", "key", Text),
    ("Interface", "options", "tos", Text),
    ("Interface", "options", "ttl", Text),
    ("Interface", "options", "df_default", Bool),
    ("Interface", "options", "egress_pkt_mark", Text),
    ("Interface", "options", "packet_type", OneOf(&["legacy_l2", "legacy_l3", "ptap"])),
    ("Interface", "options", "exts", Text),
    ("Interface", "options", "seq", Bool),
    ("Interface", "options", "csum", Bool),
    ("Interface", "options", "psk", Text),
    ("Interface", "options", "remote_cert", Text),
    ("Interface", "options", "remote_name", Text),
    ("Interface", "options", "erspan_idx", Text),
    ("Interface", "options", "erspan_ver", Text),
    ("Interface", "options", "erspan_dir", Text),
    ("Interface", "options", "erspan_hwid", Text),
    ("Interface", "options", "payload_type", Text),
    ("Interface", "options", "peer", Text),
    ("Interface", "options", "n_rxq", Int(1, i64::MAX)),
    ("Interface", "options", "dpdk-devargs", Text),
    ("Interface", "other_config", "pmd-rxq-affinity", Text),
    ("Interface", "options", "xdp-mode", OneOf(&["best-effort", "generic", "native-with-zerocopy", "native"])),
    ("Interface", "options", "use-need-wakeup", Bool),
    ("Interface", "options", "vhost-server-path", Text),
    ("Interface", "options", "tx-retries-max", Int(0, 32)),
    ("Interface", "options", "n_rxq_desc", Int(1, 4096)),
    ("Interface", "options", "n_txq_desc", Int(1, 4096)),
    ("Interface", "options", "dpdk-vf-mac", Text),
    ("Interface", "other_config", "tx-steering", OneOf(&["hash", "thread"])),
    ("Interface", "other_config", "emc-enable", Bool),
    ("Interface", "bfd", "enable", Bool),
    ("Interface", "bfd", "min_rx", Int(1, i64::MAX)),
    ("Interface", "bfd", "min_tx", Int(1, i64::MAX)),
    ("Interface", "bfd", "decay_min_rx", Int(i64::MIN, i64::MAX)),
    ("Interface", "bfd", "forwarding_if_rx", Bool),
    ("Interface", "bfd", "cpath_down", Bool),
    ("Interface", "bfd", "check_tnl_key", Bool),
    ("Interface", "bfd", "bfd_local_src_mac", Text),
    ("Interface", "bfd", "bfd_local_dst_mac", Text),
    ("Interface", "bfd", "bfd_remote_dst_mac", Text),
    ("Interface", "bfd", "bfd_src_ip", Text),
    ("Interface", "bfd", "bfd_dst_ip", Text),
    ("Interface", "bfd", "oam", Text),
    ("Interface", "bfd", "mult", Int(1, 255)),
    ("Interface", "other_config", "cfm_interval", Int(i64::MIN, i64::MAX)),
    ("Interface", "other_config", "cfm_extended", Bool),
    ("Interface", "other_config", "cfm_demand", Bool),
    ("Interface", "other_config", "cfm_opstate", OneOf(&["down", "up"])),
    ("Interface", "other_config", "cfm_ccm_vlan", Int(1, 4095)),
    ("Interface", "other_config", "cfm_ccm_pcp", Int(1, 7)),
    ("Interface", "other_config", "lacp-port-id", Int(1, 65535)),
    ("Interface", "other_config", "lacp-port-priority", Int(1, 65535)),
    ("Interface", "other_config", "lacp-aggregation-key", Int(1, 65535)),
    ("Interface", "lldp", "enable", Bool),
    ("Interface", "options", "rx-flow-ctrl", Bool),
    ("Interface", "options", "tx-flow-ctrl", Bool),
    ("Interface", "options", "flow-ctrl-autoneg", Bool),
    ("Interface", "options", "dpdk-lsc-interrupt", Bool),
    ("QoS", "other_config", "max-rate", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "cir", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "cbs", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "eir", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "ebs", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "perturb", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "quantum", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "latency", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "limit", Int(i64::MIN, i64::MAX)),
    ("QoS", "other_config", "loss", Int(i64::MIN, i64::MAX)),
    ("Queue", "other_config", "min-rate", Int(1, i64::MAX)),
    ("Queue", "other_config", "max-rate", Int(1, i64::MAX)),
    ("Queue", "other_config", "burst", Int(1, i64::MAX)),
    ("Queue", "other_config", "priority", Int(0, 4294967295)),
    ("Controller", "other_config", "dscp", Int(i64::MIN, i64::MAX)),
    ("Manager", "other_config", "dscp", Int(i64::MIN, i64::MAX)),
    ("IPFIX", "other_config", "enable-tunnel-sampling", Bool),
    ("IPFIX", "other_config", "virtual_obs_id", Text),
    ("IPFIX", "other_config", "enable-input-sampling", Bool),
    ("IPFIX", "other_config", "enable-output-sampling", Bool),
];

/// The maps whose keys are checked: those with rows in [`KEYS`].
pub fn is_documented_map(table: &str, column: &str) -> bool {
    KEYS.iter().any(|(t, c, _, _)| *t == table && *c == column)
}

/// The documented type of `key` in `table`.`column`.
pub fn lookup(table: &str, column: &str, key: &str) -> Option<Key> {
    KEYS.iter()
        .find(|(t, c, k, _)| *t == table && *c == column && *k == key)
        .map(|r| r.3)
}

/// The documented keys of `table`.`column`.
pub fn names(table: &str, column: &str) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|(t, c, _, _)| *t == table && *c == column)
        .map(|r| r.2)
        .collect()
}

/// Check `value` against the documented type of its key.
pub fn check(key: Key, value: &str) -> Result<(), ValueProblem> {
    let base = match key {
        Bool => Base {
            atomic: Atomic::Boolean,
            ..Base::default()
        },
        OneOf(words) => Base {
            enumeration: Some(words.iter().map(|w| w.to_string()).collect()),
            ..Base::default()
        },
        Int(min, max) => Base {
            atomic: Atomic::Integer,
            min_integer: (min != i64::MIN).then_some(min),
            max_integer: (max != i64::MAX).then_some(max),
            ..Base::default()
        },
        Text => return Ok(()),
    };
    value::atom(value, &base).map(drop)
}
