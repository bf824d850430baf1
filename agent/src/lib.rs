//! The ne-agent library: the NETCONF server (`netconf`), the RESTCONF server (`restconf`), the
//! VRP-style CLI core (`vrp`), the
//! protocol engines (`engines`), start-up (`agent`) and the command line (`cli`). The `ne-agent` binary is a thin `main`
//! over [`cli`]; the library exists so fuzz targets and benchmarks can drive the same code.

pub mod agent;
pub mod cli;
pub mod clock;
pub mod engines;
pub mod netconf;
pub mod northbound;
pub mod restconf;
pub mod vrp;
