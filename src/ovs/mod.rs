//! Open vSwitch side: the typed model of `ovs_*` options ([`model`]), reading and
//! validating them from a stanza or the hook environment ([`options`]), and running
//! ovs-vsctl transactions ([`vsctl`]).

pub mod batch;
pub mod converge;
pub mod daemon;
pub mod desired;
pub mod json;
pub mod model;
pub mod options;
pub mod planner;
pub mod process;
pub mod scene;
pub mod state;
pub mod steps;
pub mod vsctl;
pub mod words;
