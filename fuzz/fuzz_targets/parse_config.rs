//! Whole-file parse of arbitrary bytes, then every lookup a caller makes.
#![no_main]

use std::path::Path;

use ifupdown_ovs::interfaces::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::parse_bytes(data, Path::new("/fuzz/interfaces")) else {
        return;
    };
    for iface in &cfg.ifaces {
        let _ = cfg.resolved_options(iface);
        let _ = cfg.stanzas(&iface.name).count();
    }
    let devs: Vec<String> = ["lo", "eth0", "ifb0"].iter().map(|s| s.to_string()).collect();
    let attr = |_: &str, a: &str| (a == "address").then(|| "00:00:00:00:00:00".to_string());
    for (class, _, _) in &cfg.allow {
        let _ = cfg.list_with(class, &devs, &attr);
    }
    let _ = cfg.list_with("auto", &devs, &attr);
});
