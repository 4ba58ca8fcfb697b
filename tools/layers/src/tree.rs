//! The module tree of one target, read with syn from its root file by following its `mod`
//! declarations: which module each file or inline block is, and the items each holds.
//!
//! Modules behind `#[cfg(test)]` or `#[cfg(loom)]` are left out, as the compiler leaves them out
//! of a normal build: a test module may import anything it tests. Every other `cfg` is taken as
//! on, so feature-gated modules are checked too.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An index into [`Tree::modules`]; the root is 0.
pub(crate) type ModuleId = usize;

/// The root module's id.
pub(crate) const ROOT: ModuleId = 0;

/// Modules a tree may hold: a bound against a `mod` declaration that names itself through
/// `#[path]`.
const MAX_MODULES: usize = 10_000;

/// One module: where it sits and what it holds.
#[derive(Debug)]
pub(crate) struct Module {
    /// `crate::fast_path::threads` as `["fast_path", "threads"]`; empty for the root.
    pub(crate) path: Vec<String>,
    pub(crate) parent: Option<ModuleId>,
    pub(crate) children: BTreeMap<String, ModuleId>,
    /// The file its items are written in.
    pub(crate) file: PathBuf,
    /// Its own items, without its child modules (each child is a module of its own).
    pub(crate) items: Vec<syn::Item>,
}

impl Module {
    /// `crate::fast_path::threads`, as messages print it.
    pub(crate) fn name(&self) -> String {
        std::iter::once("crate")
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("::")
    }
}

/// Every module of one target.
#[derive(Debug)]
pub(crate) struct Tree {
    pub(crate) modules: Vec<Module>,
}

impl Tree {
    /// Reads the target whose root file (`lib.rs`, `main.rs`) is `root`.
    pub(crate) fn read(root: &Path) -> Result<Tree> {
        let mut tree = Tree {
            modules: Vec::new(),
        };
        let items = parse(root)?;
        let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
        tree.add(Vec::new(), None, root.to_path_buf(), items, &dir)?;
        Ok(tree)
    }

    /// The child of `module` called `name`, if it has one.
    pub(crate) fn child(&self, module: ModuleId, name: &str) -> Option<ModuleId> {
        self.modules[module].children.get(name).copied()
    }

    /// Adds a module holding `items`, written in `file`, whose child modules' files are in
    /// `children_dir`; then its children.
    fn add(
        &mut self,
        path: Vec<String>,
        parent: Option<ModuleId>,
        file: PathBuf,
        items: Vec<syn::Item>,
        children_dir: &Path,
    ) -> Result<ModuleId> {
        if self.modules.len() >= MAX_MODULES {
            bail!("more than {MAX_MODULES} modules under {}", file.display());
        }
        let id = self.modules.len();
        let (children, own): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|item| matches!(item, syn::Item::Mod(_)));
        self.modules.push(Module {
            path: path.clone(),
            parent,
            children: BTreeMap::new(),
            file: file.clone(),
            items: own,
        });
        for item in children {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            if switched_off(&module.attrs) {
                continue;
            }
            let name = module.ident.to_string();
            let mut child_path = path.clone();
            child_path.push(name.clone());
            let child = match module.content {
                Some((_, items)) => {
                    let dir = children_dir.join(&name);
                    self.add(child_path, Some(id), file.clone(), items, &dir)?
                }
                None => {
                    let (child_file, dir) = locate(&file, children_dir, &name, &module.attrs)?;
                    let items = parse(&child_file)?;
                    self.add(child_path, Some(id), child_file, items, &dir)?
                }
            };
            self.modules[id].children.insert(name, child);
        }
        Ok(id)
    }
}

fn parse(file: &Path) -> Result<Vec<syn::Item>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed =
        syn::parse_file(&text).with_context(|| format!("parsing {} as Rust", file.display()))?;
    Ok(parsed.items)
}

/// The file of `mod name;` declared in `parent_file`, and the folder of that module's own
/// children, by the compiler's rules: `#[path]` relative to the declaring file's folder, else
/// `name.rs` or `name/mod.rs` in the parent's children folder.
fn locate(
    parent_file: &Path,
    children_dir: &Path,
    name: &str,
    attrs: &[syn::Attribute],
) -> Result<(PathBuf, PathBuf)> {
    if let Some(path) = path_attribute(attrs) {
        let file = parent_file.parent().unwrap_or(Path::new(".")).join(path);
        let dir = file.with_extension("");
        return Ok((file, dir));
    }
    let flat = children_dir.join(format!("{name}.rs"));
    if flat.is_file() {
        return Ok((flat, children_dir.join(name)));
    }
    let nested = children_dir.join(name).join("mod.rs");
    if nested.is_file() {
        return Ok((nested, children_dir.join(name)));
    }
    bail!(
        "`mod {name};` in {}: neither {} nor {} exists",
        parent_file.display(),
        flat.display(),
        nested.display()
    )
}

fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        let syn::Meta::NameValue(meta) = &attr.meta else {
            return None;
        };
        if !meta.path.is_ident("path") {
            return None;
        }
        match &meta.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(path),
                ..
            }) => Some(path.value()),
            _ => None,
        }
    })
}

/// Whether a module is compiled only for tests or the loom model check: `#[cfg(test)]`,
/// `#[cfg(loom)]`, or an `all(...)` that needs one of them.
fn switched_off(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if !attr.path().is_ident("cfg") {
            return false;
        }
        let Ok(list) = attr.meta.require_list() else {
            return false;
        };
        let words: Vec<String> = list
            .tokens
            .clone()
            .into_iter()
            .flat_map(|token| match token {
                proc_macro2::TokenTree::Group(group) => group.stream().into_iter().collect(),
                other => vec![other],
            })
            .filter_map(|token| match token {
                proc_macro2::TokenTree::Ident(ident) => Some(ident.to_string()),
                _ => None,
            })
            .collect();
        let needs = |word: &str| words.iter().any(|w| w == word);
        (needs("test") || needs("loom")) && !needs("not") && !needs("any")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_crate::TestCrate;

    #[test]
    fn follows_flat_nested_inline_and_path_modules() {
        let krate = TestCrate::new(&[
            (
                "lib.rs",
                "mod a; mod b; mod c { mod d; } #[path = \"other/e.rs\"] mod e;",
            ),
            ("a.rs", "mod inner;"),
            ("a/inner.rs", ""),
            ("b/mod.rs", ""),
            ("c/d.rs", ""),
            ("other/e.rs", ""),
        ]);
        let tree = Tree::read(&krate.root()).unwrap();
        let mut names: Vec<String> = tree.modules.iter().map(Module::name).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "crate",
                "crate::a",
                "crate::a::inner",
                "crate::b",
                "crate::c",
                "crate::c::d",
                "crate::e"
            ]
        );
    }

    #[test]
    fn leaves_out_test_and_loom_modules_only() {
        let krate = TestCrate::new(&[
            (
                "lib.rs",
                "#[cfg(test)] mod t; #[cfg(loom)] mod l; #[cfg(all(test, unix))] mod u; \
             #[cfg(not(test))] mod kept; #[cfg(feature = \"serde\")] mod gated;",
            ),
            ("kept.rs", ""),
            ("gated.rs", ""),
        ]);
        let tree = Tree::read(&krate.root()).unwrap();
        assert_eq!(
            tree.modules[ROOT].children.keys().collect::<Vec<_>>(),
            ["gated", "kept"]
        );
    }

    #[test]
    fn a_missing_module_file_is_an_error_naming_both_places() {
        let krate = TestCrate::new(&[("lib.rs", "mod gone;")]);
        let error = Tree::read(&krate.root()).unwrap_err().to_string();
        assert!(
            error.contains("gone.rs") && error.contains("mod.rs"),
            "{error}"
        );
    }
}
