//! Integration tests of the built binary and the library on the fixture files,
//! without the test lab: they need neither root nor Open vSwitch (`ifquery_diff`
//! needs ifupdown's `ifquery`), and `architecture`, the layers of
//! docs/architecture.md checked on the source. The lab tests are in `tests/lab_tests/`.

mod architecture;
mod check_fixtures;
mod ifquery_diff;
