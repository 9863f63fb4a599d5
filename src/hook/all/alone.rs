//! A broken interface fails alone in the batch of `ifup -a`: when Open vSwitch
//! refuses the one transaction for all, try again without the interface at
//! fault, so that the bridges, the uplinks and every other port still come up
//! and only that one is left to its own hook run (which reports the refusal as
//! its own error, and ifupdown marks it unconfigured).
//!
//! Which interface: the one whose record (port, bridge, interface name) the
//! error names ([`Refusal::record`]); when it names none (a constraint violation
//! on a value), halve the batch: apply the first half (when it passes, that half
//! is done, and the fault is in the other) until one interface is left that
//! holds it. Bounded: at most N + 1
//! transactions for N interfaces (one fault costs about 2·log2 N); past that,
//! the rest is left to their own runs.
//!
//! The refused interface's own run then fails with OVS's words; [`blame`] adds
//! the option of its stanza the refusal is about (FILE:LINE). A bridge's own
//! run (not batched: `ifup -o …`) adds its `allow-BRIDGE` ports in its
//! transaction; when OVS refuses that, [`bridge_alone`] sets the bridge up
//! without them, and each port's own run adds it.

use crate::hook::error::{BatchError, HookError, Refused};
use crate::interfaces::Position;
use crate::ovsdb::refusal::Refusal;
use crate::ovsdb::vsctl::{Transaction, VsctlError};
use crate::plan::phases::{self, BatchUp, Covered, Inputs};
use crate::plan::scene::Scene;
use crate::plan::steps::Plan;

/// What the search needs from the batch: plan, apply, tell.
pub(super) trait Tries {
    /// Plan the batch of `names` (in order) without the `refused` interfaces,
    /// and without adding those of `later` with their bridge, against OVSDB as
    /// it is now.
    fn plan(
        &mut self,
        names: &[String],
        refused: &[String],
        later: &[String],
    ) -> Result<BatchUp, BatchError>;
    fn apply(&mut self, tx: &Transaction) -> Result<(), VsctlError>;
    /// Interface `name` is left to its own hook run, because of `why`.
    fn left(&self, name: &str, why: &str);
}

/// Apply the batch of `targets`, leaving out what OVS refuses; the interfaces
/// applied. Err: a failure that is no refusal (OVS did not answer), or of
/// planning.
pub(super) fn apply_alone(
    t: &mut dyn Tries,
    targets: &[String],
) -> Result<Vec<Covered>, BatchError> {
    let mut pending: Vec<String> = targets.to_vec();
    let mut refused: Vec<String> = Vec::new();
    let mut done: Vec<Covered> = Vec::new();
    let mut budget = targets.len() + 1;
    // how many of `pending` (from the first) the next transaction tries, and
    // how many of them are known to hold a fault OVS did not name
    let mut take = pending.len();
    let mut suspect: usize = 0;
    // the last refusal that named no record
    let mut last = String::new();
    while !pending.is_empty() {
        if budget == 0 {
            for n in &pending {
                t.left(n, "not tried: the batch has made its tries");
            }
            break;
        }
        let (now, later) = pending.split_at(take.clamp(1, pending.len()));
        let b = t.plan(now, &refused, later)?;
        pending.retain(|n| !b.skipped.iter().any(|(s, _)| s == n));
        for (n, why) in &b.skipped {
            t.left(n, why);
        }
        let tried = b.covered.len();
        suspect = suspect.saturating_sub(b.skipped.len());
        if tried == 0 {
            take = if suspect > 0 {
                half(suspect)
            } else {
                pending.len()
            };
            continue;
        }
        budget -= 1;
        match t.apply(&b.tx) {
            Ok(()) => {
                pending.drain(..tried);
                done.extend(b.covered);
                suspect = suspect.saturating_sub(tried);
                take = if suspect > 0 {
                    half(suspect)
                } else {
                    pending.len()
                };
                if suspect == 1 {
                    // what failed, less what passed: the one at fault
                    let culprit = pending.remove(0);
                    t.left(&culprit, &format!("Open vSwitch refused it: {last}"));
                    refused.push(culprit);
                    suspect = 0;
                    take = pending.len();
                }
            }
            Err(e) => {
                let Some(refusal) = e.refusal().filter(|r| r.refused()) else {
                    return Err(BatchError::Transaction(e));
                };
                let named = refusal
                    .record()
                    .and_then(|r| b.covered.iter().find(|c| c.records.iter().any(|x| x == r)));
                let culprit = match named {
                    Some(c) => &c.name,
                    None if tried == 1 => &b.covered[0].name,
                    None => {
                        last = e.to_string();
                        suspect = tried;
                        take = half(tried);
                        continue;
                    }
                };
                t.left(culprit, &format!("Open vSwitch refused it: {e}"));
                pending.retain(|p| p != culprit);
                refused.push(culprit.clone());
                suspect = 0;
                take = pending.len();
            }
        }
    }
    Ok(done)
}

/// The pre-up of bridge `name` failed with `e`: when OVS refused its transaction
/// with its `allow-BRIDGE` ports, set it up without them (`run` runs a plan);
/// their own runs, in its `ifup --allow=BRIDGE`, add them, and only the broken
/// one fails. Else `e`.
pub(in crate::hook) fn bridge_alone(
    inp: &Inputs,
    name: &str,
    e: HookError,
    run: &dyn Fn(&Plan) -> Result<(), HookError>,
) -> Result<(), HookError> {
    let HookError::Transaction { source, .. } = &e else {
        return Err(e);
    };
    if !source.refusal().is_some_and(|r| r.refused()) {
        return Err(e);
    }
    let Some(Ok(plan)) = phases::pre_up_without_ports(inp, name) else {
        return Err(e);
    };
    eprintln!(
        "ifupdown-ovs: warning: {name}: Open vSwitch refused it with its ports ({source}); set up without them, each port by its own run"
    );
    run(&plan)
}

/// A transaction of interface `logical` that OVS refused, as the option of its
/// stanza the refusal is about: the one holding the refused value (`lacp=X` for
/// `X is not one of the allowed values`), or the record it names; the stanza
/// itself when it names the interface. Other errors are returned unchanged.
pub(in crate::hook) fn blame(scene: &Scene, logical: &str, e: HookError) -> HookError {
    let HookError::Transaction { iface, source } = e else {
        return e;
    };
    let found = source
        .refusal()
        .filter(Refusal::refused)
        .and_then(|r| blamed_option(scene, logical, &r));
    match found {
        Some((at, option)) => HookError::Refused(Box::new(Refused {
            iface,
            at,
            option,
            source,
        })),
        None => HookError::Transaction { iface, source },
    }
}

/// Where in the stanzas of `logical` the refusal `r` comes from, and the
/// option's name (`iface NAME` for the stanza itself).
fn blamed_option(scene: &Scene, logical: &str, r: &Refusal) -> Option<(Position, String)> {
    let word = match r {
        Refusal::Constraint { detail } => detail.split(" is ").next()?.to_string(),
        _ => r.record()?.to_string(),
    };
    let config = scene.config.as_ref()?;
    let stanzas: Vec<_> = config.stanzas(logical).collect();
    for st in &stanzas {
        for o in config.resolved_options(st) {
            let hit = o.name.starts_with("ovs_")
                && o.value.split_whitespace().any(|w| {
                    w == word
                        || w.ends_with(&format!("={word}"))
                        || w.ends_with(&format!(":{word}"))
                });
            if hit {
                return Some((o.pos, o.name));
            }
        }
    }
    let first = stanzas.first()?;
    (word == logical).then(|| (first.pos.clone(), format!("iface {logical}")))
}

/// The first half of `n` (at least 1).
fn half(n: usize) -> usize {
    n.div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A batch in which `bad` interfaces make OVS refuse any transaction that
    /// holds them, naming them when `named`.
    struct Fake {
        bad: Vec<&'static str>,
        named: bool,
        /// the interfaces of each transaction tried
        tries: Vec<Vec<String>>,
        left: RefCell<Vec<String>>,
    }

    impl Tries for Fake {
        fn plan(
            &mut self,
            names: &[String],
            refused: &[String],
            _: &[String],
        ) -> Result<BatchUp, BatchError> {
            let mut b = BatchUp::default();
            for n in names.iter().filter(|n| !refused.contains(n)) {
                b.covered.push(Covered {
                    name: n.clone(),
                    check: vec![n.clone()],
                    sysctls: Vec::new(),
                    links: Vec::new(),
                    records: vec![n.clone()],
                });
                b.tx.push(["add-port", "br0", n.as_str()]);
            }
            Ok(b)
        }

        fn apply(&mut self, tx: &Transaction) -> Result<(), VsctlError> {
            let names: Vec<String> = tx
                .argv(10)
                .into_iter()
                .filter(|a| a.starts_with('p'))
                .collect();
            self.tries.push(names.clone());
            match names.iter().find(|n| self.bad.contains(&n.as_str())) {
                Some(n) if self.named => Err(VsctlError::Failed {
                    message: format!("ovs-vsctl: no row \"{n}\" in table Port"),
                }),
                Some(_) => Err(VsctlError::Failed {
                    message: "ovs-vsctl: constraint violation: sometimes is not one of the allowed values".into(),
                }),
                None => Ok(()),
            }
        }

        fn left(&self, name: &str, _why: &str) {
            self.left.borrow_mut().push(name.to_string());
        }
    }

    fn run(n: usize, bad: &[&'static str], named: bool) -> (Vec<String>, Fake) {
        let targets: Vec<String> = (1..=n).map(|k| format!("p{k}")).collect();
        let mut f = Fake {
            bad: bad.to_vec(),
            named,
            tries: Vec::new(),
            left: RefCell::new(Vec::new()),
        };
        let done = apply_alone(&mut f, &targets).expect("no error");
        (done.into_iter().map(|c| c.name).collect(), f)
    }

    #[test]
    fn a_named_interface_is_left_out_at_the_second_try() {
        let (done, f) = run(30, &["p7"], true);
        assert_eq!(done.len(), 29);
        assert!(!done.contains(&"p7".to_string()));
        assert_eq!(f.tries.len(), 2);
        assert_eq!(*f.left.borrow(), ["p7"]);
    }

    #[test]
    fn an_unnamed_fault_is_found_by_halving_within_bounds() {
        for n in [1, 2, 3, 5, 30, 100] {
            for k in [1, n / 2 + 1, n] {
                let bad = [["p1", "p2", "p3", "p4", "p5", "p16", "p51", "p100"]
                    .into_iter()
                    .find(|b| b[1..].parse::<usize>() == Ok(k))
                    .unwrap_or("p1")];
                let (done, f) = run(n, &bad, false);
                let want: Vec<String> = (1..=n)
                    .map(|k| format!("p{k}"))
                    .filter(|p| !bad.contains(&p.as_str()))
                    .collect();
                let mut sorted = done.clone();
                sorted.sort();
                let mut w = want.clone();
                w.sort();
                assert_eq!(sorted, w, "n={n} bad={bad:?} tries={:?}", f.tries);
                assert!(f.tries.len() <= n + 1, "n={n}: {} tries", f.tries.len());
            }
        }
        let (done, f) = run(100, &["p100"], false);
        assert_eq!(done.len(), 99);
        assert!(f.tries.len() <= 9, "{} tries", f.tries.len());
        // Several faults: never one of them applied, never more than N + 1
        // tries; good ones not tried are left to their own runs.
        for n in [3, 5, 30] {
            let (done, f) = run(n, &["p2", "p3"], false);
            assert!(!done.iter().any(|d| d == "p2" || d == "p3"), "{done:?}");
            assert!(f.tries.len() <= n + 1, "n={n}: {:?}", f.tries);
            let left = f.left.borrow();
            assert_eq!(done.len() + left.len(), n, "{done:?} {left:?}");
        }
    }

    #[test]
    fn a_refusal_is_blamed_on_the_option_holding_its_value() {
        let text = "iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n\
                    iface p1 inet6 manual\n  ovs_options lacp=sometimes\n\
                    \x20 ovs_extra set port no-such-port tag=7\n";
        let c = crate::interfaces::Config::parse_str(text, std::path::Path::new("/e/i")).unwrap();
        let scene = Scene::new(None, Some(c), None, "start", "pre-up");
        let refused = |message: &str| {
            let e = HookError::Transaction {
                iface: "p1".into(),
                source: VsctlError::Failed {
                    message: message.into(),
                },
            };
            blame(&scene, "p1", e).to_string()
        };
        let m =
            refused("ovs-vsctl: constraint violation: sometimes is not one of the allowed values");
        assert!(
            m.starts_with("/e/i:5: p1: ovs_options: Open vSwitch refused it: "),
            "{m}"
        );
        let m = refused("ovs-vsctl: no row \"no-such-port\" in table Port");
        assert!(m.starts_with("/e/i:6: p1: ovs_extra: "), "{m}");
        let m = refused(
            "ovs-vsctl: cannot create a port named p1 because a bridge named p1 already exists",
        );
        assert!(m.starts_with("/e/i:1: p1: iface p1: "), "{m}");
        // nothing to blame: as it was
        let m = refused("ovs-vsctl: something else");
        assert!(m.starts_with("p1: ovs-vsctl failed: "), "{m}");
    }

    #[test]
    fn no_answer_is_no_refusal() {
        struct Dead;
        impl Tries for Dead {
            fn plan(
                &mut self,
                names: &[String],
                _: &[String],
                _: &[String],
            ) -> Result<BatchUp, BatchError> {
                let mut b = BatchUp::default();
                for n in names {
                    b.covered.push(Covered {
                        name: n.clone(),
                        check: Vec::new(),
                        sysctls: Vec::new(),
                        links: Vec::new(),
                        records: Vec::new(),
                    });
                }
                Ok(b)
            }
            fn apply(&mut self, _: &Transaction) -> Result<(), VsctlError> {
                Err(VsctlError::Timeout { timeout: 10 })
            }
            fn left(&self, _: &str, _: &str) {}
        }
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(matches!(
            apply_alone(&mut Dead, &names),
            Err(BatchError::Transaction(_))
        ));
    }
}
