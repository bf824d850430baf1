//! Command line: `ne-agent [run]`, `ne-agent yang check|tree [-p DIR]... FILE...`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use yang::SchemaBuilder;

pub const USAGE: &str = "\
usage:
  ne-agent [run]                          load the embedded models and start the agent
  ne-agent yang check [-p DIR]... FILE... compile YANG modules, print errors
  ne-agent yang tree  [-p DIR]... FILE... print RFC 8340 tree diagrams (as pyang -f tree)
  ne-agent --help | --version

A FILE may also be the name of a module found on the search path or embedded in the agent
(ne-types, ne-interfaces, ne-monitor-group, ne-bfd, ne-vrrp, ne-multicast).";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Help,
    Version,
    YangCheck(YangArgs),
    YangTree(YangArgs),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct YangArgs {
    pub dirs: Vec<PathBuf>,
    pub files: Vec<String>,
}

impl Command {
    pub fn parse(args: &[String]) -> Result<Command, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            [] | ["run"] => Ok(Command::Run),
            ["-h" | "--help" | "help"] => Ok(Command::Help),
            ["-V" | "--version"] => Ok(Command::Version),
            ["yang", "check", rest @ ..] => Ok(Command::YangCheck(YangArgs::parse(rest)?)),
            ["yang", "tree", rest @ ..] => Ok(Command::YangTree(YangArgs::parse(rest)?)),
            ["yang", ..] => Err("'yang' needs 'check' or 'tree'".into()),
            [other, ..] => Err(format!("unknown command '{other}'")),
        }
    }

    pub fn run(self) -> ExitCode {
        match self {
            Command::Help => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Command::Version => {
                println!("ne-agent {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            Command::YangCheck(a) => match a.compile() {
                Ok((schema, _)) => {
                    let n = schema.modules.iter().filter(|m| m.implemented).count();
                    eprintln!("ok: {n} module(s), {} schema nodes", schema.nodes.len());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            },
            Command::YangTree(a) => match a.compile() {
                Ok((schema, files)) => {
                    print!("{}", yang::tree::print(&schema, &files));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            },
            Command::Run => run_agent(),
        }
    }
}

impl YangArgs {
    fn parse(args: &[&str]) -> Result<YangArgs, String> {
        let mut out = YangArgs::default();
        let mut it = args.iter();
        while let Some(&a) = it.next() {
            match a {
                "-p" | "--path" => {
                    let dir = it.next().ok_or("-p needs a directory")?;
                    // pyang accepts a colon-separated list.
                    out.dirs.extend(dir.split(':').map(PathBuf::from));
                }
                _ if a.starts_with('-') && a.len() > 1 => {
                    return Err(format!("unknown option '{a}'"))
                }
                _ => out.files.push(a.to_string()),
            }
        }
        if out.files.is_empty() {
            return Err("no YANG files given".into());
        }
        Ok(out)
    }

    /// Compile the files; returns the schema and the source index of each file, in order.
    fn compile(&self) -> Result<(yang::Schema, Vec<u32>), String> {
        let mut b = SchemaBuilder::new();
        for d in &self.dirs {
            b = b.search_dir(d);
        }
        let mut names = Vec::new();
        for f in &self.files {
            if f.ends_with(".yang") || f.contains('/') {
                let text =
                    std::fs::read_to_string(f).map_err(|e| format!("{f}: cannot read: {e}"))?;
                let name = yang::stmt::parse(&text)
                    .map(|s| s.arg().to_string())
                    .map_err(|e| format!("{f}:{}: error: {}", e.line, e.message))?;
                b = b.source(f.clone(), text);
                names.push(name);
            } else {
                b = b.module(f.clone());
                names.push(f.clone());
            }
        }
        let schema = b.build().map_err(|e| e.to_string())?;
        let files = names
            .iter()
            .filter_map(|n| schema.sources.iter().position(|s| &s.name == n))
            .map(|i| i as u32)
            .collect();
        Ok((schema, files))
    }
}

fn run_agent() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let start = Instant::now();
    match SchemaBuilder::new().embedded().build() {
        Ok(schema) => {
            tracing::info!(
                modules = schema.modules.len(),
                nodes = schema.nodes.len(),
                micros = start.elapsed().as_micros() as u64,
                "models compiled"
            );
            tracing::warn!(
                "the NETCONF server is not built yet (issue 4); nothing more to run, exiting"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(errors = %e, "embedded models do not compile");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(Command::parse(&[]).unwrap(), Command::Run);
        assert_eq!(
            Command::parse(&args("yang tree -p a:b -p c x.yang")).unwrap(),
            Command::YangTree(YangArgs {
                dirs: vec!["a".into(), "b".into(), "c".into()],
                files: vec!["x.yang".into()],
            })
        );
        assert!(Command::parse(&args("yang check")).is_err());
        assert!(Command::parse(&args("yang tree -q x")).is_err());
        assert!(Command::parse(&args("bogus")).is_err());
    }
}
