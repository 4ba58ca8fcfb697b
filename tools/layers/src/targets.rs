//! The targets to check, from `cargo metadata`: every library and binary of the workspace's
//! members, or of the packages asked for.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A library or binary and its root file.
#[derive(Debug)]
pub(crate) struct Target {
    /// `breaker (lib)`, `loadgen (bin loadgen)`.
    pub(crate) label: String,
    pub(crate) root: PathBuf,
}

/// The libraries and binaries of the workspace at `manifest` (or the one cargo finds), of
/// `packages` only when some are named.
pub(crate) fn of_workspace(manifest: Option<&Path>, packages: &[String]) -> Result<Vec<Target>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(manifest) = manifest {
        command.arg("--manifest-path").arg(manifest);
    }
    let output = command.output().context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's JSON")?;
    let targets = targets(&metadata, packages)?;
    if let Some(missing) = packages.iter().find(|name| {
        !targets
            .iter()
            .any(|t| t.label.starts_with(&format!("{name} (")))
    }) {
        bail!("no library or binary in a workspace package called {missing:?}");
    }
    Ok(targets)
}

fn targets(metadata: &Value, packages: &[String]) -> Result<Vec<Target>> {
    let mut found = Vec::new();
    let members = metadata["packages"]
        .as_array()
        .context("cargo metadata has no package list")?;
    for package in members {
        let name = package["name"].as_str().unwrap_or_default();
        if !packages.is_empty() && !packages.iter().any(|p| p == name) {
            continue;
        }
        for target in package["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let label = if kinds
                .iter()
                .any(|k| matches!(*k, "lib" | "rlib" | "proc-macro"))
            {
                format!("{name} (lib)")
            } else if kinds.contains(&"bin") {
                format!(
                    "{name} (bin {})",
                    target["name"].as_str().unwrap_or_default()
                )
            } else {
                continue;
            };
            let root = target["src_path"]
                .as_str()
                .with_context(|| format!("{label} has no src_path"))?;
            found.push(Target {
                label,
                root: root.into(),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_libraries_and_binaries_and_leaves_tests_examples_and_benches() {
        let metadata = serde_json::json!({"packages": [
            {"name": "a", "targets": [
                {"kind": ["lib"], "name": "a", "src_path": "/a/src/lib.rs"},
                {"kind": ["bin"], "name": "a-cli", "src_path": "/a/src/main.rs"},
                {"kind": ["test"], "name": "t", "src_path": "/a/tests/t.rs"},
                {"kind": ["example"], "name": "e", "src_path": "/a/examples/e.rs"},
                {"kind": ["bench"], "name": "b", "src_path": "/a/benches/b.rs"}]},
            {"name": "b", "targets": [{"kind": ["bin"], "name": "b", "src_path": "/b/src/main.rs"}]}
        ]});
        let all: Vec<String> = targets(&metadata, &[])
            .unwrap()
            .into_iter()
            .map(|t| t.label)
            .collect();
        assert_eq!(all, ["a (lib)", "a (bin a-cli)", "b (bin b)"]);
        let only_b = targets(&metadata, &["b".to_string()]).unwrap();
        assert_eq!(only_b.len(), 1);
        assert_eq!(only_b[0].root, PathBuf::from("/b/src/main.rs"));
    }
}
