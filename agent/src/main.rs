//! `ne-agent`: the network element agent, and its YANG tooling.

use std::process::ExitCode;

use agent::cli;

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
