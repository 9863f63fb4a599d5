//! What a client sees when the active node dies (issue "fail-over under 3 s";
//! docs/ocf.md, "Fail-over time"). Run by `scripts/bench failover`, not by the
//! normal test run (the tests are `#[ignore]`: they measure, they take minutes).
//!
//! `node_crash_gaps`: the two-node cluster of [`crate::pacemaker_cluster`]
//! (corosync knet, `token: 1000`), the floating port with an IPv4 and an IPv6
//! address; a client on the switch pings both every 20 ms. Five times, the node
//! running the port "crashes": its links go down and its corosync and Pacemaker
//! are killed (SIGKILL, by process group). The longest silence between two replies
//! around each crash is the gap; the lines `node crash: IPv4 gap X.XX s` and
//! `node crash: IPv6 gap X.XX s` give the median and the five values. The crashed
//! node then "reboots" (the port taken down, links up, cluster restarted) and
//! joins again; the port stays where it is (`resource-stickiness`), so the next
//! crash hits the other node.
//!
//! `start_breakdown`: the agent's own start on one host, five times, with its
//! timing line (`start of IFACE: ... ms`), to show where start spends its time.

use std::time::{Duration, Instant};

use crate::lab::{Lab, LabError};
use crate::ocf_util::*;
use crate::pacemaker_cluster::*;

const CRASHES: usize = 5;
/// Ping interval of the client (the issue: every 20 ms).
const INTERVAL: &str = "0.02";

fn primitive() -> String {
    port_primitive(
        "<nvpair id=\"port-st\" name=\"resource-stickiness\" value=\"100\"/>",
        "10s",
    )
}

/// The longest silence between two replies that spans `t` (the crash), if
/// replies came before and after it.
fn gap_at(times: &[f64], t: f64) -> Option<f64> {
    let before = times
        .iter()
        .copied()
        .filter(|x| *x <= t)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))?;
    let mut after: Vec<f64> = times.iter().copied().filter(|x| *x > before).collect();
    after.sort_by(f64::total_cmp);
    let mut longest = after.first()? - before;
    // later silences still caused by the fail-over (within 10 s of the first reply)
    for w in after.windows(2).take_while(|w| w[0] < after[0] + 10.0) {
        longest = longest.max(w[1] - w[0]);
    }
    Some(longest)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The client: on the switch, both addresses of the test's peer, pinging the
/// floating IPv4 and IPv6 addresses every 20 ms for the whole test.
fn client(sw: &Lab) -> Result<Lab, LabError> {
    let client = Lab::peer("pcmk-fo-client")?;
    sw.add_veth("cl0", &client, "eth0")?;
    sw.ok(&["ip", "link", "set", "dev", "cl0", "up"])?;
    sw.vsctl(&["add-port", "sw0", "cl0"])?;
    client.ok(&["ip", "addr", "add", &format!("{PEER_V4}/24"), "dev", "eth0"])?;
    client.ok(&[
        "ip",
        "addr",
        "add",
        &format!("{PEER_V6}/64"),
        "dev",
        "eth0",
        "nodad",
    ])?;
    Ok(client)
}

fn start_pings(client: &Lab) -> Result<(), LabError> {
    for (fam, addr) in [("4", V4), ("6", V6)] {
        client.ok(&[
            "sh",
            "-c",
            &format!(
                ": >/tmp/ping{fam}.log; ping -{fam} -n -D -i {INTERVAL} -W 1 {addr} >>/tmp/ping{fam}.log 2>&1 </dev/null & \
                 echo $! >/tmp/ping{fam}.pid"
            ),
        ])?;
    }
    Ok(())
}

fn stop_pings(client: &Lab) {
    for fam in ["4", "6"] {
        let _ = client.run(&["sh", "-c", &format!("kill $(cat /tmp/ping{fam}.pid)")]);
    }
}

/// The crash: links down first (the node is gone from both networks), then its
/// corosync and Pacemaker killed by process group (their pids were recorded by
/// `start_cluster`).
fn crash(n: &Lab) -> Result<(), LabError> {
    let groups: Vec<String> = ["/run/pacemakerd.pid", "/run/corosync.pid"]
        .iter()
        .map(|f| Ok(format!("-{}", n.read_file(f)?.trim())))
        .collect::<Result<_, LabError>>()?;
    n.ok(&["ip", "link", "set", "dev", "eth0", "down"])?;
    n.ok(&["ip", "link", "set", "dev", "ha0", "down"])?;
    n.ok(&["/bin/kill", "-KILL", "--", &groups[0], &groups[1]])?;
    Ok(())
}

/// The crashed node comes back as after a reboot: the port gone, links up, the
/// cluster started; waits until both nodes are online again and `survivor` still
/// runs the port.
fn reboot(n: &Lab, survivor: &Lab) -> Result<(), LabError> {
    // leftovers of the killed daemons (they may take a moment to die)
    n.wait_for("killed daemons gone", Duration::from_secs(10), || {
        let out = n.run(&["pgrep", "-x", "corosync|pacemakerd"])?;
        Ok(!out.success())
    })?;
    let _ = n.run(&["ifdown", "--force", PORT]);
    n.ok(&["ovs-vsctl", "--timeout=10", "--if-exists", "del-port", PORT])?;
    n.ok(&["ip", "link", "set", "dev", "eth0", "up"])?;
    n.ok(&["ip", "link", "set", "dev", "ha0", "up"])?;
    start_cluster(n)?;
    wait_both_online(survivor, "both nodes online again")?;
    // the rejoined node's probe, and a quiet moment before the next crash
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        location(survivor)?.as_deref(),
        Some(survivor.name()),
        "the port moved back on rejoin"
    );
    Ok(())
}

#[test]
#[ignore = "a benchmark: scripts/bench failover"]
fn node_crash_gaps() -> Result<(), LabError> {
    require_cluster_tools();
    let sw = crate::hook_util::switch("pcmk-fo-sw")?;
    let client = client(&sw)?;
    let mut cluster = two_nodes(&sw)?;
    let nodes = [&cluster.nodes[0], &cluster.nodes[1]];
    for n in nodes {
        start_cluster(n)?;
    }
    wait_both_online(nodes[0], "both nodes online")?;
    nodes[0].ok(&["cibadmin", "-C", "-o", "resources", "-X", &primitive()])?;
    nodes[0].wait_for("port started", Duration::from_secs(60), || {
        Ok(location(nodes[0])?.is_some())
    })?;
    start_pings(&client)?;
    std::thread::sleep(Duration::from_secs(2));

    let (mut gaps4, mut gaps6) = (Vec::new(), Vec::new());
    for i in 1..=CRASHES {
        let here = location(nodes[0])?.unwrap_or_default();
        let (active, survivor) = if here == NODES[0] {
            (nodes[0], nodes[1])
        } else {
            (nodes[1], nodes[0])
        };
        let t_crash = now();
        crash(active)?;
        let took = wait_on(survivor, survivor.name(), "survivor runs the port")?;
        // pings resumed on both families (or 15 s passed)
        let deadline = Instant::now() + Duration::from_secs(15);
        let resumed = |fam: &str| -> Result<bool, LabError> {
            let log = client.read_file(&format!("/tmp/ping{fam}.log"))?;
            Ok(reply_times(&log)
                .iter()
                .any(|t| *t > t_crash + took.as_secs_f64()))
        };
        while Instant::now() < deadline && !(resumed("4")? && resumed("6")?) {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(1));
        let gap = |fam: &str| -> Result<f64, LabError> {
            let log = client.read_file(&format!("/tmp/ping{fam}.log"))?;
            Ok(gap_at(&reply_times(&log), t_crash).unwrap_or(f64::INFINITY))
        };
        let (g4, g6) = (gap("4")?, gap("6")?);
        eprintln!(
            "crash {i}/{CRASHES} of {}: IPv4 gap {g4:.2} s, IPv6 gap {g6:.2} s; \
             Pacemaker reports the port on {} after {:.2} s",
            active.name(),
            survivor.name(),
            took.as_secs_f64()
        );
        let log = survivor
            .run(&["cat", "/run/ifupdown-ovs/ovsbr0p1.announce.log"])?
            .stdout;
        for line in log.lines().filter(|l| !l.contains("announcement command")) {
            eprintln!("    announcer on {}: {}", survivor.name(), line.trim());
        }
        gaps4.push(g4);
        gaps6.push(g6);
        if i < CRASHES {
            reboot(active, survivor)?;
        }
    }
    stop_pings(&client);
    let show = |v: &[f64]| {
        v.iter()
            .map(|g| format!("{g:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "node crash: IPv4 gap {:.2} s (median of {CRASHES}: {})",
        median(gaps4.clone()),
        show(&gaps4)
    );
    println!(
        "node crash: IPv6 gap {:.2} s (median of {CRASHES}: {})",
        median(gaps6.clone()),
        show(&gaps6)
    );
    assert!(
        gaps4.iter().chain(&gaps6).all(|g| g.is_finite()),
        "pings did not resume after a crash"
    );
    cluster.passed = true;
    Ok(())
}

#[test]
#[ignore = "a benchmark: scripts/bench failover"]
fn start_breakdown() -> Result<(), LabError> {
    let (h, peer) = ha_pair("pcmk-fo-start")?;
    // every address change, with its flags and time (the first start only)
    h.ok(&[
        "sh",
        "-c",
        "ip -ts -o monitor address >/run/addr.log 2>&1 </dev/null & echo $! >/run/addr.pid",
    ])?;
    for i in 1..=CRASHES {
        // the peer pings both addresses every 20 ms while the port starts
        start_pings(&peer)?;
        let t = Instant::now();
        let t0 = now();
        let out = agent(
            &h,
            "start",
            &params(),
            &[("RUST_LOG", "ifupdown_ovs::ocf=info")],
        )?;
        let took = t.elapsed();
        assert_eq!(out.code(), Some(0), "start: {out:?}");
        if i == 1 {
            let pid = h.read_file("/run/addr.pid")?;
            h.ok(&["kill", pid.trim()])?;
            if let Some(l) = out.stderr.lines().find(|l| l.contains("running ifup")) {
                println!("{}", l.trim());
            }
            for l in h.read_file("/run/addr.log")?.lines() {
                if l.contains(PORT) && l.contains("inet") && !l.contains("Deleted") {
                    println!("    {}", l.split("valid_lft").next().unwrap_or(l).trim());
                }
            }
        }
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains("start of "))
            .unwrap_or("(no timing line)");
        println!(
            "agent start {i}/{CRASHES}: {:.0} ms; {}",
            took.as_secs_f64() * 1000.0,
            line.trim()
        );
        expect(&h, "monitor", 0)?;
        stop_pings(&peer);
        let first = |fam: &str| -> Result<String, LabError> {
            let log = peer.read_file(&format!("/tmp/ping{fam}.log"))?;
            Ok(reply_times(&log)
                .into_iter()
                .find(|t| *t > t0)
                .map(|t| format!("{:.0} ms", (t - t0) * 1000.0))
                .unwrap_or_else(|| "none".into()))
        };
        println!(
            "    first reply from the peer's pings after start began: IPv4 {}, IPv6 {}",
            first("4")?,
            first("6")?
        );
        // the announcer's first line: when the first address was on the link
        let log = h
            .run(&["cat", "/run/ifupdown-ovs/ovsbr0p1.announce.log"])?
            .stdout;
        for line in log.lines().filter(|l| {
            l.contains("first announcement") || l.contains("optimistic") || l.contains("link-local")
        }) {
            println!("    announcer: {}", line.trim());
        }
        expect(&h, "stop", 0)?;
    }
    Ok(())
}

#[test]
fn gap_spans_the_crash() {
    let times = [1.0, 1.02, 1.04, 3.5, 3.52, 3.6, 5.0];
    assert!((gap_at(&times, 1.05).unwrap() - 2.46).abs() < 1e-9);
    assert_eq!(gap_at(&times, 0.5), None);
    assert_eq!(gap_at(&[1.0, 1.02], 1.5), None);
    assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
}
