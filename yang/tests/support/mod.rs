//! Shared by the integration tests that declare `mod support;`.

pub mod confgen;
