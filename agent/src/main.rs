//! `ne-agent`: the network element agent, and its YANG tooling.

mod agent;
mod cli;
mod engines;
mod netconf;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::Command::parse(&args) {
        Ok(cmd) => cmd.run(),
        Err(msg) => {
            eprintln!("ne-agent: {msg}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}
