//! resource-agents' own checks on the OVSPort agent, in a lab with OVS, our hooks
//! and the HA interfaces file: `ocf-tester` (meta-data against ra-api-1.dtd, as user
//! nobody; validate-all; monitor 7 when stopped; the probe with a "missing binary";
//! start/stop twice; optional actions answer 3), and the meta-data against
//! resource-agents' RELAX NG schema. Needs root and the packages of `.ci/run`
//! (resource-agents, libxml2-utils).

use crate::lab::LabError;
use crate::ocf_util::*;

#[test]
fn ocf_tester_passes() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("ocf-tester")?;
    let argv = [
        "ocf-tester",
        "-n",
        "test",
        "-o",
        "bridge=ovsbr0",
        "-o",
        "interface=ovsbr0p1",
        "-o",
        "mac=02:00:00:00:00:01",
        AGENT,
    ];
    let mut cmd = h.command(&argv);
    cmd.env("OCF_ROOT", "/usr/lib/ocf");
    let out = h.run_command(&argv, cmd, None)?;
    eprintln!("{}{}", out.stdout, out.stderr);
    assert!(out.success(), "ocf-tester failed: {out:?}");
    assert!(out.stdout.contains("passed all tests"), "{out:?}");
    // ocf-tester checks exit codes only; what it left behind: nothing
    assert!(!h.link_exists(PORT)?);
    assert_eq!(h.vsctl(&["list-ports", BRIDGE])?.trim(), "eth0");
    Ok(())
}

#[test]
fn meta_data_is_valid() -> Result<(), LabError> {
    let h = host("ocf-meta", Default::default())?;
    let xml = h.ok(&[AGENT, "meta-data"])?;
    // as ocf-tester does: the document on stdin, in the directory of the DTD
    let out = h.run_input(
        &[
            "sh",
            "-c",
            "cd /usr/share/resource-agents && xmllint --noout --valid --relaxng metadata.rng -",
        ],
        xml.as_bytes(),
    )?;
    assert!(out.success(), "{out:?}");
    assert!(!out.stderr.contains("error"), "{out:?}");
    // as an unprivileged user, as ocf-tester and crm_resource --show-metadata do
    let out = h.run(&[
        "su",
        "nobody",
        "-s",
        "/bin/sh",
        "-c",
        &format!("{AGENT} meta-data"),
    ])?;
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, xml);
    Ok(())
}
