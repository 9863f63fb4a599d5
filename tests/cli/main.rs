//! Integration tests of the built binary and the library on the fixture files,
//! without the test lab: they need neither root nor Open vSwitch (`ifquery_diff`
//! needs ifupdown's `ifquery`). The lab tests are in `tests/lab_tests/`.

mod check_fixtures;
mod ifquery_diff;
