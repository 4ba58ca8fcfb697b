//! Checks that the modules of every library and binary in a cargo workspace form layers: that
//! no module uses another which, directly or through others, uses it back. A circle means two
//! modules can only be read together; layers can be read from the bottom up.
//!
//! ```sh
//! cargo run -p layers                       # every library and binary of the workspace
//! cargo run -p layers -- breaker loadgen    # only these packages
//! ```
//!
//! A module uses another when its code names something the other defines, in a `use` line or a
//! path anywhere (a type, an expression, a pattern, a macro's `crate::` tokens), followed
//! through child modules and re-exports to where it is defined. Test and loom-only modules are
//! left out: a test may import anything. Paths a macro builds from pieces are not seen. Exits 1
//! naming every circle, with the path that makes each use in it.

mod check;
mod circles;
mod references;
mod resolve;
mod targets;
#[cfg(test)]
mod test_crate;
mod tree;

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    about = "Checks that no library or binary of a cargo workspace has an import circle between its modules"
)]
struct Args {
    /// The workspace's Cargo.toml (default: the one cargo finds from here).
    #[arg(long)]
    manifest_path: Option<PathBuf>,
    /// Packages to check (default: every member of the workspace).
    packages: Vec<String>,
}

fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let targets = targets::of_workspace(args.manifest_path.as_deref(), &args.packages)?;
    let mut circled = Vec::new();
    for target in &targets {
        let verdict = check::check(&target.root)?;
        if verdict.circles.is_empty() {
            let plural = if verdict.modules == 1 { "" } else { "s" };
            println!(
                "ok       {}: {} module{plural}, no import circle",
                target.label, verdict.modules
            );
            continue;
        }
        println!("CIRCLE   {}:", target.label);
        for circle in &verdict.circles {
            for line in circle.lines() {
                println!("           {line}");
            }
        }
        circled.push(target.label.as_str());
    }
    if circled.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!("layers: import circles in {}", circled.join(", "));
    Ok(ExitCode::FAILURE)
}
