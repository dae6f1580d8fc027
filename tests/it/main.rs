//! One integration-test binary (matklad, "Delete Cargo Integration Tests").

mod append;
mod support;
