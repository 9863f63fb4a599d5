//! A real two-node Pacemaker cluster on one machine (docs/ocf.md, "Tests"): each node
//! is a lab (own network, mount, UTS and PID namespaces, hostname, /run, /dev/shm,
//! overlays of /etc and /var/lib) with its own OVS, our hooks and the agent; corosync
//! (knet) runs over a veth pair between the nodes; a simulated switch joins both
//! nodes' eth0 and a client. The OVSPort resource starts on one node, moves to the
//! other with `crm_resource --move`, fails over when its monitor finds the MAC
//! broken (migration-threshold=1), and fails over when the active node's corosync
//! is killed. The client keeps reaching the address, and its neighbour entry keeps
//! the same MAC: that is the point of the floating port. Prints the time each step
//! took. Needs root, the lab's packages and pacemaker, corosync,
//! pacemaker-cli-utils (`.ci/run` installs them).

use std::time::{Duration, Instant};

use crate::lab::{Lab, LabError, LabOptions};
use crate::ocf_util::*;

pub(crate) const NODES: [&str; 2] = ["pcmk-n1", "pcmk-n2"];
pub(crate) const RING: [&str; 2] = ["198.51.100.1", "198.51.100.2"];

pub(crate) fn corosync_conf() -> String {
    format!(
        "totem {{
    version: 2
    cluster_name: ifupdown-ovs-lab
    transport: knet
    token: 1000
    crypto_cipher: none
    crypto_hash: none
}}
nodelist {{
    node {{
        ring0_addr: {}
        name: {}
        nodeid: 1
    }}
    node {{
        ring0_addr: {}
        name: {}
        nodeid: 2
    }}
}}
quorum {{
    provider: corosync_votequorum
    two_node: 1
}}
logging {{
    to_stderr: yes
    to_logfile: no
    to_syslog: no
    timestamp: on
}}
",
        RING[0], NODES[0], RING[1], NODES[1]
    )
}

fn primitive() -> String {
    format!(
        "<primitive id=\"port\" class=\"ocf\" provider=\"ifupdown-ovs\" type=\"OVSPort\">\
         <instance_attributes id=\"port-ia\">\
         <nvpair id=\"port-i\" name=\"interface\" value=\"{PORT}\"/>\
         <nvpair id=\"port-b\" name=\"bridge\" value=\"{BRIDGE}\"/>\
         <nvpair id=\"port-m\" name=\"mac\" value=\"{MAC}\"/>\
         </instance_attributes>\
         <meta_attributes id=\"port-meta\">\
         <nvpair id=\"port-mt\" name=\"migration-threshold\" value=\"1\"/>\
         </meta_attributes>\
         <operations>\
         <op id=\"port-start\" name=\"start\" interval=\"0\" timeout=\"60s\"/>\
         <op id=\"port-stop\" name=\"stop\" interval=\"0\" timeout=\"60s\"/>\
         <op id=\"port-mon\" name=\"monitor\" interval=\"2s\" timeout=\"20s\"/>\
         </operations>\
         </primitive>"
    )
}

pub(crate) fn require_cluster_tools() {
    for tool in [
        "corosync",
        "pacemakerd",
        "crm_mon",
        "crm_resource",
        "cibadmin",
        "crm_attribute",
    ] {
        assert!(
            crate::lab::find_program(tool).is_some(),
            "{tool} is missing: apt-get install -y --no-install-recommends pacemaker corosync \
             pacemaker-cli-utils crmsh (.ci/run installs them)"
        );
    }
}

/// One cluster node: OVS with the HA bridge, the agent, a seeded CIB.
pub(crate) fn node(name: &str) -> Result<Lab, LabError> {
    let n = host(
        name,
        LabOptions {
            tmpfs: vec!["/dev/shm".into()],
            ..Default::default()
        },
    )?;
    n.ok(&["chmod", "1777", "/dev/shm"])?;
    n.start_ovs()?;
    n.write_interfaces(INTERFACES)?;
    n.write_file("/etc/corosync/corosync.conf", &corosync_conf())?;
    // the CIB to start from: no fencing, a short wait for the DC
    let cib = "/run/seed-cib.xml";
    let empty = n.ok(&["cibadmin", "--empty"])?;
    n.write_file(cib, &empty)?;
    for (prop, value) in [("stonith-enabled", "false"), ("dc-deadtime", "2s")] {
        let argv = ["crm_attribute", "-t", "crm_config", "-n", prop, "-v", value];
        let mut cmd = n.command(&argv);
        cmd.env("CIB_file", cib);
        n.run_command(&argv, cmd, None)?.into_stdout()?;
    }
    n.ok(&[
        "install",
        "-o",
        "hacluster",
        "-g",
        "haclient",
        "-m",
        "0600",
        cib,
        "/var/lib/pacemaker/cib/cib.xml",
    ])?;
    Ok(n)
}

pub(crate) fn start_cluster(n: &Lab) -> Result<(), LabError> {
    // pids recorded: a crash (pacemaker_failover) kills these process groups
    n.ok(&[
        "sh",
        "-c",
        "setsid corosync -f >>/run/corosync.log 2>&1 </dev/null & echo $! >/run/corosync.pid",
    ])?;
    n.ok(&[
        "sh",
        "-c",
        "PCMK_logfile=/run/pacemaker.log setsid pacemakerd >>/run/pacemakerd.log 2>&1 </dev/null \
         & echo $! >/run/pacemakerd.pid",
    ])?;
    Ok(())
}

/// Where the resource has started, as `n` sees it (None: stopped, starting,
/// stopping, failed or unknown). From `crm_mon -1`: `port (...): Started NODE`.
pub(crate) fn location(n: &Lab) -> Result<Option<String>, LabError> {
    let out = n.run(&["crm_mon", "-1"])?;
    Ok(out
        .stdout
        .lines()
        .filter(|l| l.contains("(ocf:ifupdown-ovs:OVSPort)"))
        .find_map(|l| l.split("Started").nth(1))
        // "Started pcmk-n1", or "Started pcmk-n1 (Monitoring)" while the first
        // monitor runs: the node is the first word.
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string))
}

/// Wait until `n` sees the resource on `want`; the time it took.
pub(crate) fn wait_on(n: &Lab, want: &str, what: &str) -> Result<Duration, LabError> {
    let t = Instant::now();
    n.wait_for(what, Duration::from_secs(60), || {
        Ok(location(n)?.as_deref() == Some(want))
    })?;
    Ok(t.elapsed())
}

pub(crate) fn dump_cluster(n: &Lab) {
    for argv in [
        &["crm_mon", "-1", "-r", "-f"][..],
        &["tail", "-n", "40", "/run/pacemaker.log"],
        &["tail", "-n", "20", "/run/corosync.log"],
    ] {
        if let Ok(o) = n.run(argv) {
            eprintln!("--- {} {argv:?}\n{}{}", n.name(), o.stdout, o.stderr);
        }
    }
}

pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Lab>,
    /// Set at the end of a test that passed; otherwise Drop shows the state.
    pub(crate) passed: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.passed {
            for n in &self.nodes {
                dump_cluster(n);
            }
        }
        for n in &self.nodes {
            let _ = n.run(&["pacemakerd", "--shutdown"]);
        }
        for n in &self.nodes {
            let _ = n.run(&["pkill", "-TERM", "-x", "corosync"]);
        }
    }
}

pub(crate) fn port_here(n: &Lab) -> Result<bool, LabError> {
    n.link_exists(PORT)
}

fn client_sees(client: &Lab) -> Result<(), LabError> {
    let ok = client
        .run(&["ping", "-n", "-c", "1", "-W", "2", V4])?
        .success()
        || client
            .run(&["ping", "-n", "-c", "2", "-W", "2", V4])?
            .success();
    assert!(ok, "client cannot reach {V4}");
    let neigh = client.ok(&["ip", "neigh", "show", "to", V4, "dev", "eth0"])?;
    assert!(neigh.contains(MAC), "client's neighbour entry: {neigh}");
    Ok(())
}

#[test]
fn two_node_failover() -> Result<(), LabError> {
    require_cluster_tools();
    let t0 = Instant::now();
    let sw = crate::hook_util::switch("pcmk-sw")?;
    let client = Lab::peer("pcmk-client")?;
    let n1 = node(NODES[0])?;
    let n2 = node(NODES[1])?;
    for (i, n) in [&n1, &n2].iter().enumerate() {
        let sw_port = format!("n{}p", i + 1);
        n.add_veth("eth0", &sw, &sw_port)?;
        sw.vsctl(&["add-port", "sw0", &sw_port])?;
        n.ok(&["ifup", "-a"])?;
    }
    sw.add_veth("cl0", &client, "eth0")?;
    sw.ok(&["ip", "link", "set", "dev", "cl0", "up"])?;
    sw.vsctl(&["add-port", "sw0", "cl0"])?;
    client.ok(&["ip", "addr", "add", &format!("{PEER_V4}/24"), "dev", "eth0"])?;
    // corosync's own link
    n1.add_veth("ha0", &n2, "ha0")?;
    n1.ok(&["ip", "link", "set", "dev", "ha0", "up"])?;
    n1.ok(&[
        "ip",
        "addr",
        "add",
        &format!("{}/24", RING[0]),
        "dev",
        "ha0",
    ])?;
    n2.ok(&[
        "ip",
        "addr",
        "add",
        &format!("{}/24", RING[1]),
        "dev",
        "ha0",
    ])?;

    let mut cluster = Cluster {
        nodes: vec![n1, n2],
        passed: false,
    };
    let [n1, n2] = [&cluster.nodes[0], &cluster.nodes[1]];
    start_cluster(n1)?;
    start_cluster(n2)?;
    let t = Instant::now();
    n1.wait_for("both nodes online", Duration::from_secs(90), || {
        let out = n1.run(&["crm_mon", "-1"])?;
        Ok(out
            .stdout
            .lines()
            .any(|l| l.contains("Online:") && NODES.iter().all(|n| l.contains(n))))
    })?;
    eprintln!("both nodes online after {:.1} s", t.elapsed().as_secs_f64());

    // the resource: probes on both nodes (7), then a start on one
    n1.ok(&["cibadmin", "-C", "-o", "resources", "-X", &primitive()])?;
    let t = Instant::now();
    n1.wait_for("port started", Duration::from_secs(60), || {
        Ok(location(n1)?.is_some())
    })?;
    let first = location(n1)?.unwrap_or_default();
    eprintln!(
        "started on {first} after {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (active, other) = if first == NODES[0] {
        (n1, n2)
    } else {
        (n2, n1)
    };
    assert!(port_here(active)? && !port_here(other)?);
    client_sees(&client)?;

    // move
    let out = active.run(&[
        "crm_resource",
        "-r",
        "port",
        "--move",
        "--node",
        other.name(),
    ])?;
    assert!(out.success(), "{out:?}");
    let took = wait_on(active, other.name(), "moved")?;
    eprintln!(
        "crm_resource --move: on {} after {:.1} s",
        other.name(),
        took.as_secs_f64()
    );
    active.wait_for(
        "port gone from the old node",
        Duration::from_secs(10),
        || Ok(!port_here(active)?),
    )?;
    assert!(port_here(other)?);
    client_sees(&client)?;
    active.ok(&["crm_resource", "-r", "port", "--clear"])?;
    let (active, other) = (other, active);

    // monitor failure: a broken MAC on the active node; fail-over
    active.vsctl(&["set", "Interface", PORT, "mac=\"02:00:00:00:00:77\""])?;
    let took = wait_on(other, other.name(), "failed over after a monitor failure")?;
    eprintln!(
        "monitor failure: on {} after {:.1} s",
        other.name(),
        took.as_secs_f64()
    );
    active.wait_for(
        "failed node stopped the port",
        Duration::from_secs(10),
        || Ok(!port_here(active)?),
    )?;
    client_sees(&client)?;
    other.ok(&["crm_resource", "-r", "port", "--cleanup"])?;
    let (active, other) = (other, active);

    // the active node crashes: gone from both networks, its corosync dead. (Only
    // corosync killed would leave the port up on the LAN: without fencing the
    // survivor's ifup then fails IPv6 duplicate address detection, as it should.)
    active.ok(&["ip", "link", "set", "dev", "eth0", "down"])?;
    active.ok(&["ip", "link", "set", "dev", "ha0", "down"])?;
    active.ok(&["pkill", "-KILL", "-x", "corosync"])?;
    let took = wait_on(other, other.name(), "survivor runs the port")?;
    eprintln!(
        "corosync killed: on {} after {:.1} s",
        other.name(),
        took.as_secs_f64()
    );
    assert!(port_here(other)?);
    eprintln!("whole test: {:.1} s", t0.elapsed().as_secs_f64());
    cluster.passed = true;
    Ok(())
}
