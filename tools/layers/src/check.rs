//! One target checked: its module tree read, its uses resolved, its circles named.

use crate::circles::circles;
use crate::references::References;
use crate::resolve::{Uses, uses};
use crate::tree::Tree;
use anyhow::Result;
use std::fmt::Write;
use std::path::Path;

/// What the check found in one target.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) modules: usize,
    /// One paragraph per circle: its modules, then each use inside it with the path that makes
    /// it. Empty when the modules form layers.
    pub(crate) circles: Vec<String>,
}

/// Checks the target whose root file is `root`.
pub(crate) fn check(root: &Path) -> Result<Verdict> {
    let tree = Tree::read(root)?;
    let references: Vec<References> = tree.modules.iter().map(References::of).collect();
    let uses = uses(&tree, &references);
    let circles = circles(&uses)
        .into_iter()
        .map(|circle| describe(&tree, &uses, &circle))
        .collect();
    Ok(Verdict {
        modules: tree.modules.len(),
        circles,
    })
}

fn describe(tree: &Tree, uses: &Uses, circle: &[usize]) -> String {
    let names: Vec<String> = circle.iter().map(|&m| tree.modules[m].name()).collect();
    let mut text = format!(
        "circle of {} modules: {}",
        circle.len(),
        names.join(" <-> ")
    );
    for &from in circle {
        for (to, path) in &uses[from] {
            if circle.contains(to) {
                let module = &tree.modules[from];
                // Writing to a String cannot fail.
                let _ = write!(
                    text,
                    "\n    {} uses {}: `{}` in {}",
                    module.name(),
                    tree.modules[*to].name(),
                    path.join("::"),
                    shown(&module.file).display()
                );
            }
        }
    }
    text
}

/// `path` relative to the folder the check runs in, when it is under it.
fn shown(path: &Path) -> &Path {
    std::env::current_dir()
        .ok()
        .and_then(|here| path.strip_prefix(here).ok())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_crate::TestCrate;

    fn circles_of(files: &[(&str, &str)]) -> Vec<String> {
        check(&TestCrate::new(files).root()).unwrap().circles
    }

    #[test]
    fn imports_that_point_down_make_no_circle() {
        let found = circles_of(&[
            (
                "lib.rs",
                "mod words; mod rules; mod handle; pub use handle::Handle;",
            ),
            ("words.rs", "pub struct Word;"),
            (
                "rules.rs",
                "use crate::words::Word; pub fn rule(_: Word) {}",
            ),
            (
                "handle.rs",
                "pub struct Handle(crate::words::Word); fn f() { crate::rules::rule(crate::words::Word) }",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn two_modules_that_import_each_other_are_a_circle_named_with_the_paths() {
        let found = circles_of(&[
            ("main.rs", "mod series; mod summary;"),
            (
                "series.rs",
                "use crate::summary::RateReport; pub fn round() {}",
            ),
            (
                "summary.rs",
                "pub struct RateReport; fn f() { super::series::round() }",
            ),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("circle of 2 modules: crate::series <-> crate::summary"));
        assert!(
            found[0].contains("crate::series uses crate::summary: `crate::summary::RateReport`")
        );
        assert!(found[0].contains("crate::summary uses crate::series: `super::series::round`"));
    }

    #[test]
    fn a_path_through_a_re_export_leads_to_the_module_that_defines_the_item() {
        // `crate::Word` goes through lib.rs's `pub use`, which is lib.rs using `words`; were it
        // taken as a use of lib.rs, `words` and lib.rs would make a false circle.
        let found = circles_of(&[
            (
                "lib.rs",
                "mod words; mod rules; pub use words::Word; pub use rules::*;",
            ),
            ("words.rs", "pub struct Word;"),
            ("rules.rs", "use crate::Word; pub fn rule(_: Word) {}"),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_glob_import_leads_to_the_module_it_brings_the_name_from() {
        let found = circles_of(&[
            ("lib.rs", "mod prelude; mod a; mod b;"),
            ("prelude.rs", "pub use crate::a::*;"),
            ("a.rs", "pub struct A; fn f() { crate::b::g() }"),
            ("b.rs", "pub fn g() {} fn h(_: crate::prelude::A) {}"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("crate::a <-> crate::b"), "{found:?}");
    }

    #[test]
    fn a_child_and_its_parent_that_use_each_other_are_a_circle() {
        let found = circles_of(&[
            ("lib.rs", "mod fast;"),
            (
                "fast/mod.rs",
                "mod threads; pub struct Word; fn f(_: threads::Slot) {}",
            ),
            ("fast/threads.rs", "pub struct Slot(super::Word);"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_test_module_may_import_anything() {
        let found = circles_of(&[
            ("lib.rs", "mod a; mod b;"),
            (
                "a.rs",
                "pub struct A; #[cfg(test)] mod tests { use crate::b::B; }",
            ),
            ("b.rs", "pub struct B(crate::a::A);"),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn imports_that_name_each_other_end_at_the_depth_bound() {
        let found = circles_of(&[(
            "lib.rs",
            "use self::b as a; use self::a as b; fn f() { a::x() }",
        )]);
        assert!(found.is_empty(), "{found:?}");
    }
}
