//! Source routing (`ovs_route_table`): installed at post-up, removed after down,
//! checked at pre-up. Which stanzas a step is about: in a hook run the one
//! ifupdown runs it for (its `ADDRFAM`, `IF_ADDRESS`, ... from the environment);
//! for `plan` every stanza of the interface in the file.

use std::path::Path;

use super::{Inputs, model};
use crate::net::addr::{Family, StaticConfig, parse_static};
use crate::net::route::{self, Change, Direction, SourceRouting};
use crate::plan::error::PlanError;
use crate::plan::steps::{Plan, Step};

/// The static configuration of one stanza of `name`: its `address` lines, first
/// `netmask` and `gateway`, as `get` gives an option's values (from the
/// environment in a hook run, from the file otherwise).
pub fn static_config(
    name: &str,
    family: Family,
    get: &dyn Fn(&str) -> Vec<String>,
) -> Result<StaticConfig, PlanError> {
    let first = |k: &str| get(k).into_iter().next();
    parse_static(
        family,
        &get("address").join("\n"),
        first("netmask").as_deref(),
        first("gateway").as_deref(),
    )
    .map_err(|source| PlanError::Static {
        name: name.into(),
        family,
        source,
    })
}

/// post-up: source routing for the stanza's static addresses.
pub fn post_up(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let mut plan = Plan::new(inp.timeout);
    for step in routing(inp, name, Direction::Up)? {
        plan.push(step);
    }
    Ok(plan)
}

/// After down, for every stanza: its source routing removed. Not before: while the
/// address is still there, a reply from it would follow the main table and could
/// leave through another interface in the subnet, with that interface's MAC.
pub fn routes_down(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let mut plan = Plan::new(inp.timeout);
    for step in routing(inp, name, Direction::Down)? {
        plan.push(step);
    }
    Ok(plan)
}

/// The static configuration of the stanzas this run is about (see the module
/// documentation), with the stanzas of a family that have none.
fn statics(inp: &Inputs, name: &str) -> Result<(Vec<StaticConfig>, Vec<Family>), PlanError> {
    let s = inp.scene;
    let mut found = Vec::new();
    let mut without = Vec::new();
    let mut one = |fam: &str, method: &str, get: &dyn Fn(&str) -> Vec<String>| {
        let Some(family) = Family::from_addrfam(fam) else {
            return Ok(());
        };
        let address = get("address").join("\n");
        if method != "static" || address.trim().is_empty() {
            without.push(family);
            return Ok(());
        }
        found.push(static_config(name, family, get)?);
        Ok::<(), PlanError>(())
    };
    if s.current.as_deref() == Some(name) {
        let e = s.required(name)?;
        let var = |k: &str| {
            e.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let get = |k: &str| {
            let v = var(&format!("IF_{}", k.to_ascii_uppercase()));
            if v.is_empty() { Vec::new() } else { vec![v] }
        };
        one(&var("ADDRFAM"), &var("METHOD"), &get)?;
    } else if let Some(c) = &s.config {
        for st in c.stanzas(name) {
            let opts = c.resolved_options(st);
            let get = |k: &str| {
                opts.iter()
                    .filter(|o| o.name == k)
                    .map(|o| o.value.clone())
                    .collect::<Vec<_>>()
            };
            one(&st.family, &st.method, &get)?;
        }
    }
    Ok((found, without))
}

/// Source routing steps of `name` (none without `ovs_route_table`); errors for a
/// table `ip` does not know, an `ovs_route` that sets its own table, bad addresses.
pub(super) fn routing(
    inp: &Inputs,
    name: &str,
    direction: Direction,
) -> Result<Vec<Step>, PlanError> {
    let m = model(inp, name)?;
    let Some(r) = m.device().and_then(|d| d.routing.as_ref()) else {
        return Ok(Vec::new());
    };
    let table_shown = r.table.to_string();
    let id = route::table_id(&r.table, Path::new(route::IPROUTE2_DIR)).map_err(|source| {
        PlanError::RouteTable {
            name: name.into(),
            source,
        }
    })?;
    let mut lines: Vec<(Vec<String>, Family)> = Vec::new();
    for l in &r.routes {
        lines.push(route::route_words(l).map_err(|source| PlanError::Route {
            name: name.into(),
            source,
        })?);
    }
    let (found, without) = statics(inp, name)?;
    let mut steps = Vec::new();
    for c in found {
        let extra = lines
            .iter()
            .filter(|(_, f)| *f == c.family)
            .map(|(w, _)| w.clone())
            .collect();
        steps.push(Step::Routing(Change {
            direction,
            spec: SourceRouting {
                dev: m.name.clone(),
                family: c.family,
                table: id,
                table_shown: table_shown.clone(),
                pref: r.pref,
                addrs: c.addrs,
                gateway: c.gateway,
                extra,
            },
        }));
    }
    if direction == Direction::Up {
        for f in without {
            if lines.iter().any(|(_, lf)| *lf == f) {
                steps.push(Step::Warn(format!(
                    "{name}: ovs_route: the {} routes are not installed: its {} stanza has no static address",
                    f.addrfam(),
                    f.addrfam()
                )));
            }
        }
        if steps.is_empty() && inp.scene.current.is_none() {
            steps.push(Step::Warn(format!(
                "{name}: ovs_route_table: no stanza with a static address: no source routing"
            )));
        }
    }
    Ok(steps)
}
