//! From what each module names to the modules it uses: a written path is followed from the
//! module it is written in, down through child modules and through `use` lines (re-exports
//! included), to the module that defines what it names.

use crate::references::{References, Written};
use crate::tree::{ModuleId, ROOT, Tree};
use std::collections::BTreeMap;

/// How deep one path may lead through `use` lines: a bound against imports that name each
/// other.
const MAX_DEPTH: usize = 32;

/// For each module, the modules it uses, each with the first path that uses it.
pub(crate) type Uses = Vec<BTreeMap<ModuleId, Written>>;

/// The uses between the modules of `tree`, whose references are `references` (one per module,
/// in the same order).
pub(crate) fn uses(tree: &Tree, references: &[References]) -> Uses {
    let resolver = Resolver { tree, references };
    references
        .iter()
        .enumerate()
        .map(|(from, found)| {
            let mut uses = BTreeMap::new();
            for path in &found.paths {
                if let Some(to) = resolver.resolve(from, path, 0)
                    && to != from
                {
                    uses.entry(to).or_insert_with(|| path.clone());
                }
            }
            uses
        })
        .collect()
}

struct Resolver<'a> {
    tree: &'a Tree,
    references: &'a [References],
}

impl Resolver<'_> {
    /// The module that defines what `path`, written in module `from`, names; `None` when it
    /// names something outside the crate or an item of `from` itself.
    fn resolve(&self, from: ModuleId, path: &[String], depth: usize) -> Option<ModuleId> {
        let first = path.first()?;
        if depth > MAX_DEPTH {
            return None;
        }
        match first.as_str() {
            "crate" => Some(self.walk(ROOT, &path[1..], depth)),
            "self" => Some(self.walk(from, &path[1..], depth)),
            "super" => {
                let supers = path.iter().take_while(|s| *s == "super").count();
                let mut module = from;
                for _ in 0..supers {
                    module = self.tree.modules[module].parent?;
                }
                Some(self.walk(module, &path[supers..], depth))
            }
            _ if self.tree.child(from, first).is_some() => Some(self.walk(from, path, depth)),
            _ => {
                let import = self.references[from].imports.get(first)?;
                let target = self.resolve(from, import, depth + 1)?;
                Some(self.walk(target, &path[1..], depth + 1))
            }
        }
    }

    /// Follows `rest` down from `module` while its segments name child modules, or names the
    /// module brings in with `use`; stops at the first segment that is an item.
    fn walk(&self, module: ModuleId, rest: &[String], depth: usize) -> ModuleId {
        let Some(segment) = rest.first() else {
            return module;
        };
        if depth > MAX_DEPTH {
            return module;
        }
        if let Some(child) = self.tree.child(module, segment) {
            return self.walk(child, &rest[1..], depth);
        }
        let found = &self.references[module];
        if let Some(import) = found.imports.get(segment) {
            return match self.resolve(module, import, depth + 1) {
                Some(target) => self.walk(target, &rest[1..], depth + 1),
                // A re-export of another crate's item: the path ends here.
                None => module,
            };
        }
        if found.defines.contains(segment) {
            return module;
        }
        for glob in &found.globs {
            if let Some(source) = self.resolve(module, glob, depth + 1)
                && self.brings(source, segment)
            {
                return self.walk(source, rest, depth + 1);
            }
        }
        module
    }

    /// Whether a glob import of `module` brings in `name`.
    fn brings(&self, module: ModuleId, name: &str) -> bool {
        let found = &self.references[module];
        self.tree.child(module, name).is_some()
            || found.imports.contains_key(name)
            || found.defines.contains(name)
    }
}
