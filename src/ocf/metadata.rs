//! The agent's meta-data: an XML document valid against resource-agents'
//! `ra-api-1.dtd` (the DOCTYPE line is required by ocf-tester) and `metadata.rng`.

use super::params::{
    DEFAULT_ARP_COUNT, DEFAULT_ARP_INTERVAL_MS, DEFAULT_IFUPDOWN_TIMEOUT, MAX_ARP_COUNT,
    MAX_ARP_INTERVAL_MS, MIN_ARP_INTERVAL_MS,
};
use crate::interfaces::DEFAULT_FILE;

/// One `<parameter>`.
struct Param {
    name: &'static str,
    required: bool,
    unique: bool,
    kind: &'static str,
    default: String,
    short: &'static str,
    long: String,
}

/// Every parameter: what the resource is, then how the agent behaves.
fn params() -> Vec<Param> {
    let mut all = resource_params();
    all.extend(tuning_params());
    all
}

/// The port, its bridge and MAC, and the file that defines it.
fn resource_params() -> Vec<Param> {
    vec![
        Param {
            name: "interface",
            required: true,
            unique: true,
            kind: "string",
            default: String::new(),
            short: "Internal port and interface name",
            long: "Name of the OVS internal port and of its interface. The interfaces file \
                   must have a stanza for it (without an auto line: the cluster brings it \
                   up and down), normally with ovs_type OVSIntPort, ovs_bridge, ovs_mac and \
                   the addresses that move with it."
                .into(),
        },
        Param {
            name: "bridge",
            required: false,
            unique: false,
            kind: "string",
            default: String::new(),
            short: "OVS bridge",
            long: "The bridge the port is added to. Optional when the stanza has \
                   ovs_bridge; when both are given they must agree. If the stanza has no \
                   ovs_type at all (the original shell agent's setup), the agent adds \
                   ovs_type OVSIntPort and ovs_bridge with ifup -o."
                .into(),
        },
        Param {
            name: "mac",
            required: false,
            unique: true,
            kind: "string",
            default: String::new(),
            short: "MAC address of the port",
            long: "The fixed MAC address that moves with the addresses, like \
                   02:00:00:00:00:01. Must agree with the stanza's ovs_mac (or hwaddress) \
                   when that is set; otherwise it is given to ifup as ovs_mac, so that it is \
                   stored in OVSDB (Interface.mac). Without either, OVS picks a MAC."
                .into(),
        },
        Param {
            name: "interfaces_file",
            required: false,
            unique: false,
            kind: "string",
            default: DEFAULT_FILE.into(),
            short: "interfaces(5) file",
            long: "The file ifup, ifdown and the agent read (ifup -i FILE).".into(),
        },
    ]
}

/// The announcements after start and the time ifup/ifdown may take.
fn tuning_params() -> Vec<Param> {
    vec![
        Param {
            name: "arp_count",
            required: false,
            unique: false,
            kind: "integer",
            default: DEFAULT_ARP_COUNT.to_string(),
            short: "Announcements after start",
            long: format!(
                "During and after start, the agent announces the port's addresses in the \
                 background, each as soon as it is on the link: for each IPv4 address this \
                 many gratuitous ARP request/reply pairs (arping), for each IPv6 address \
                 this many unsolicited neighbour advertisements (send_ua of resource-agents) \
                 once duplicate address detection is over, and advertisements without the \
                 override flag while it runs (optimistic DAD). 0 turns it off (and with it \
                 the link-local address added without DAD); at most {MAX_ARP_COUNT}."
            ),
        },
        Param {
            name: "arp_interval_ms",
            required: false,
            unique: false,
            kind: "integer",
            default: DEFAULT_ARP_INTERVAL_MS.to_string(),
            short: "Milliseconds between announcements",
            long: format!(
                "Time between two announcements of one address, in milliseconds \
                 ({MIN_ARP_INTERVAL_MS}..{MAX_ARP_INTERVAL_MS})."
            ),
        },
        Param {
            name: "ifupdown_timeout",
            required: false,
            unique: false,
            kind: "integer",
            default: DEFAULT_IFUPDOWN_TIMEOUT.to_string(),
            short: "Seconds one ifup or ifdown may take",
            long: "ifup or ifdown running longer is killed and the action fails with a \
                   reason. Capped to the action's own timeout minus 2 seconds."
                .into(),
        },
    ]
}

/// The actions and their default timeouts.
const ACTIONS: &[(&str, &str)] = &[
    ("start", r#"timeout="60s""#),
    ("stop", r#"timeout="60s""#),
    ("monitor", r#"depth="0" timeout="20s" interval="10s""#),
    ("validate-all", r#"timeout="20s""#),
    ("meta-data", r#"timeout="5s""#),
];

/// The whole document.
pub fn xml() -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\"?>\n");
    out.push_str("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n");
    out.push_str(&format!(
        "<resource-agent name=\"OVSPort\" version=\"{}\">\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str("<version>1.0</version>\n");
    out.push_str(
        "<longdesc lang=\"en\">\nManages a floating Open vSwitch internal port: its MAC \
         address moves together with its IP addresses from node to node, so neighbours' \
         ARP and neighbour caches stay right. start runs ifup for the interface (the \
         ifupdown-ovs hooks create the port with its MAC from the ovs_* options of \
         /etc/network/interfaces), checks the result and announces the addresses; stop \
         runs ifdown and makes sure the port is gone from OVS; monitor checks the port, \
         its bridge, MAC, link and every static address of the stanza.\n</longdesc>\n",
    );
    out.push_str(
        "<shortdesc lang=\"en\">Floating OVS internal port with a fixed MAC (ifupdown-ovs)</shortdesc>\n",
    );
    out.push_str("<parameters>\n");
    for p in params() {
        out.push_str(&format!(
            "<parameter name=\"{}\" unique=\"{}\" required=\"{}\">\n<longdesc lang=\"en\">\n{}\n</longdesc>\n<shortdesc lang=\"en\">{}</shortdesc>\n<content type=\"{}\" default=\"{}\" />\n</parameter>\n",
            p.name,
            u8::from(p.unique),
            u8::from(p.required),
            escape(&p.long),
            escape(p.short),
            p.kind,
            escape(&p.default),
        ));
    }
    out.push_str("</parameters>\n<actions>\n");
    for (name, attrs) in ACTIONS {
        out.push_str(&format!("<action name=\"{name}\" {attrs} />\n"));
    }
    out.push_str("</actions>\n</resource-agent>\n");
    out
}

/// XML text escaping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_doctype_and_every_parameter() {
        let x = xml();
        assert!(x.starts_with(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">"
        ));
        for name in super::super::params::KNOWN {
            assert!(x.contains(&format!("<parameter name=\"{name}\"")), "{name}");
        }
        for (action, _) in ACTIONS {
            assert!(
                x.contains(&format!("<action name=\"{action}\"")),
                "{action}"
            );
        }
        assert!(x.contains("default=\"/etc/network/interfaces\""));
        assert!(x.contains("name=\"interface\" unique=\"1\" required=\"1\""));
        assert!(x.contains("name=\"bridge\" unique=\"0\" required=\"0\""));
    }

    #[test]
    fn escapes() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    /// xmllint against the DTD and the RELAX NG schema, when installed.
    #[test]
    fn valid_for_xmllint_when_installed() {
        let dir = std::path::Path::new("/usr/share/resource-agents");
        let rng = dir.join("metadata.rng");
        let lint = std::path::Path::new("/usr/bin/xmllint");
        if !rng.is_file() || !lint.is_file() {
            eprintln!("skipped: xmllint or resource-agents not installed");
            return;
        }
        // as ocf-tester runs it: the document on stdin, the DTD found beside it
        let mut child = std::process::Command::new(lint)
            .current_dir(dir)
            .args(["--noout", "--valid", "--relaxng"])
            .arg(&rng)
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(xml().as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
    }
}
