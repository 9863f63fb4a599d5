//! `ifupdown-ovs plan [-i FILE] IFACE [--down]`: print the commands the hooks would
//! run for `ifup IFACE` (or `ifdown IFACE`), phase by phase, without running them.
//!
//! It plans from the interfaces file as the hooks would, with one difference: the
//! stanza is read from the file, not from an ifupdown environment. When OVS is
//! running it READS OVSDB (read-only, one ovs-vsctl call) so that the printed
//! transaction is exactly the converge the hook would run now — what it would move,
//! recreate or clear. When OVS is not running it plans against an empty database and
//! says so. `$(...)` in `ovs_extra` is shown as written, not run. The
//! `ifup --allow=BRIDGE PORTS` line leaves out ports ifupdown already has up, as
//! the hook would.

use std::path::Path;

use crate::cli::{DEFAULT_INTERFACES, PlanArgs};
use crate::error::Error;
use crate::hook::{STATE_DIR, is_configured};
use crate::interfaces::Config;
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::Vsctl;
use crate::plan::error::PlanError;
use crate::plan::phases::{self, Inputs, Phase};
use crate::plan::scene::Scene;

pub fn run(args: &PlanArgs) -> Result<i32, Error> {
    let file = &args.file.interfaces;
    let config = Config::load(file)?;
    let name = args.iface.as_str();
    let vsctl = Vsctl::default();
    let observed = match daemon::health(Path::new(daemon::RUNDIR)) {
        Health::Running => {
            println!("# planned against the running OVSDB (read-only)");
            Observed::read(&vsctl).map_err(Error::ReadOvsdb)?
        }
        Health::Down(why) => {
            println!("# {why}: planned against an empty OVSDB");
            Observed::default()
        }
    };
    let phases: &[Phase] = if args.down {
        &[Phase::PreDown, Phase::PostDown]
    } else {
        &[Phase::PreUp, Phase::PostUp]
    };
    let shown = (file != Path::new(DEFAULT_INTERFACES)).then(|| file.clone());
    let mut any_ovs = false;
    for &phase in phases {
        let (mode, ph) = phase.mode_phase();
        let scene = Scene::new(shown.clone(), Some(config.clone()), None, mode, ph);
        match scene.entry(name) {
            Ok(Some(_)) => any_ovs = true,
            Ok(None) => break,
            Err(invalid) => return Err(PlanError::from(invalid.clone()).into()),
        }
        let configured = |n: &str| is_configured(Path::new(STATE_DIR), n);
        let inputs = Inputs::new(&scene, &observed, vsctl.timeout, &configured);
        let plan = match phase {
            Phase::PreUp => phases::pre_up(&inputs, name),
            Phase::PreDown => phases::pre_down(&inputs, name),
            Phase::PostDown => phases::post_down(&inputs, name),
            Phase::PostUp => phases::post_up(&inputs, name),
        }?;
        println!("# {} ({})", ph, phase.dir());
        if plan.is_empty() {
            println!("# nothing");
        } else {
            print!("{plan}");
        }
    }
    if !any_ovs {
        println!(
            "# {name}: no ovs_* options in {}; the hooks do nothing",
            file.display()
        );
    }
    Ok(0)
}
