//! Pacemaker's own resource runner, without a cluster (docs/ocf.md, "Tests"): a CIB
//! built offline in a file holds an `ocf:ifupdown-ovs:OVSPort` primitive, and
//! `crm_resource --force-start|--force-check|--force-stop` run the agent as the
//! cluster would (environment, meta attributes, exit code mapping). The port is
//! checked for real in between. Needs root, the lab's packages and
//! `pacemaker-cli-utils` (`.ci/run` installs them).

use crate::lab::{Lab, LabError, Output};
use crate::ocf_util::*;

const CIB: &str = "/tmp/cib.xml";

fn primitive() -> String {
    format!(
        "<primitive id=\"port\" class=\"ocf\" provider=\"ifupdown-ovs\" type=\"OVSPort\">\
         <instance_attributes id=\"port-ia\">\
         <nvpair id=\"port-i\" name=\"interface\" value=\"{PORT}\"/>\
         <nvpair id=\"port-b\" name=\"bridge\" value=\"{BRIDGE}\"/>\
         <nvpair id=\"port-m\" name=\"mac\" value=\"{MAC}\"/>\
         </instance_attributes>\
         <operations><op id=\"port-mon\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/></operations>\
         </primitive>"
    )
}

/// A command run with `CIB_file` pointing at the offline CIB.
fn cib(h: &Lab, argv: &[&str]) -> Result<Output, LabError> {
    let mut cmd = h.command(argv);
    cmd.env("CIB_file", CIB);
    h.run_command(argv, cmd, None)
}

fn crm_resource(h: &Lab, op: &str) -> Result<Output, LabError> {
    cib(h, &["crm_resource", "-r", "port", op])
}

fn require_pacemaker_tools() {
    for tool in ["crm_resource", "cibadmin", "crm_attribute", "crm_verify"] {
        assert!(
            crate::lab::find_program(tool).is_some(),
            "{tool} is missing: apt-get install -y --no-install-recommends pacemaker-cli-utils \
             pacemaker (.ci/run installs them)"
        );
    }
}

#[test]
fn crm_resource_force_actions() -> Result<(), LabError> {
    require_pacemaker_tools();
    let (h, _peer) = ha_pair("pcmk-tier2")?;
    let empty = h.ok(&["cibadmin", "--empty"])?;
    h.write_file(CIB, &empty)?;
    cib(
        &h,
        &[
            "crm_attribute",
            "-t",
            "crm_config",
            "-n",
            "stonith-enabled",
            "-v",
            "false",
        ],
    )?
    .into_stdout()?;
    cib(
        &h,
        &["cibadmin", "-C", "-o", "resources", "-X", &primitive()],
    )?
    .into_stdout()?;
    let out = cib(&h, &["crm_verify", "-x", CIB, "-V"])?;
    assert!(out.success(), "{out:?}");
    let out = h.run(&[
        "crm_resource",
        "--show-metadata",
        "ocf:ifupdown-ovs:OVSPort",
    ])?;
    assert!(
        out.success() && out.stdout.contains("<parameter name=\"mac\""),
        "{out:?}"
    );
    let out = crm_resource(&h, "--validate")?;
    assert!(out.success(), "{out:?}");
    assert!(!out.stderr.contains("unknown parameter"), "{out:?}");

    let out = crm_resource(&h, "--force-check")?;
    assert_eq!(out.code(), Some(7), "{out:?}");
    let out = crm_resource(&h, "--force-start")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(h.vsctl(&["port-to-br", PORT])?.trim(), BRIDGE);
    let addrs = h.ok(&["ip", "-br", "addr", "show", "dev", PORT])?;
    assert!(
        addrs.contains(&format!("{V4}/24")) && addrs.contains(&format!("{V6}/64")),
        "{addrs}"
    );
    let out = crm_resource(&h, "--force-check")?;
    assert_eq!(out.code(), Some(0), "{out:?}");

    // a broken MAC: Pacemaker gets 1 and the reason
    h.vsctl(&["set", "Interface", PORT, "mac=\"02:00:00:00:00:77\""])?;
    let out = crm_resource(&h, "--force-check")?;
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(
        out.stdout.contains("02:00:00:00:00:77"),
        "reason not shown: {out:?}"
    );

    let out = crm_resource(&h, "--force-stop")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(!h.link_exists(PORT)?);
    let out = crm_resource(&h, "--force-check")?;
    assert_eq!(out.code(), Some(7), "{out:?}");
    let out = crm_resource(&h, "--force-stop")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    Ok(())
}
