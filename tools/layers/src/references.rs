//! What one module's code names: every path it writes (in `use` lines, types, expressions,
//! patterns and macro calls) and the names its `use` lines bring in.

use crate::tree::Module;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use std::collections::{HashMap, HashSet};
use syn::visit::{self, Visit};

/// A path as written, split into its segments: `crate::shell::Shared` is
/// `["crate", "shell", "Shared"]`.
pub(crate) type Written = Vec<String>;

/// Everything one module names.
#[derive(Debug, Default)]
pub(crate) struct References {
    /// Every path of two segments or more, and every `use`d path.
    pub(crate) paths: Vec<Written>,
    /// The names `use` lines bind, each with the path it stands for.
    pub(crate) imports: HashMap<String, Written>,
    /// The paths of glob imports (`use a::b::*` gives `["a", "b"]`).
    pub(crate) globs: Vec<Written>,
    /// The names of the items the module defines (functions, types, traits, constants...),
    /// which a glob import of it brings in.
    pub(crate) defines: HashSet<String>,
}

impl References {
    /// Reads a module's own items.
    pub(crate) fn of(module: &Module) -> Self {
        let mut references = References::default();
        for item in &module.items {
            references.visit_item(item);
            references.defines.extend(defined_name(item));
        }
        references
    }

    fn add_use(&mut self, tree: &syn::UseTree, prefix: &mut Written) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.add_use(&path.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                let (full, bound) = if ident == "self" {
                    (prefix.clone(), prefix.last().cloned())
                } else {
                    let mut full = prefix.clone();
                    full.push(ident.clone());
                    (full, Some(ident))
                };
                self.bind(full, bound);
            }
            syn::UseTree::Rename(rename) => {
                let mut full = prefix.clone();
                full.push(rename.ident.to_string());
                self.bind(full, Some(rename.rename.to_string()));
            }
            syn::UseTree::Glob(_) => {
                self.paths.push(prefix.clone());
                self.globs.push(prefix.clone());
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.add_use(tree, prefix);
                }
            }
        }
    }

    fn bind(&mut self, full: Written, bound: Option<String>) {
        if let Some(name) = bound.filter(|name| name != "_") {
            self.imports.insert(name, full.clone());
        }
        self.paths.push(full);
    }

    /// Paths written inside a macro's tokens, which syn does not parse: runs that start with
    /// `crate`, `$crate`, `self` or `super` and go on with `::`.
    fn add_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut at = 0;
        while at < tokens.len() {
            if let TokenTree::Group(group) = &tokens[at]
                && group.delimiter() != Delimiter::None
            {
                self.add_tokens(group.stream());
            }
            if let Some((path, next)) = path_at(&tokens, at) {
                self.paths.push(path);
                at = next;
            } else {
                at += 1;
            }
        }
    }
}

/// The name an item defines, if it defines one that a path can reach.
fn defined_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(item) => &item.ident,
        syn::Item::Enum(item) => &item.ident,
        syn::Item::Fn(item) => &item.sig.ident,
        syn::Item::Macro(item) => item.ident.as_ref()?,
        syn::Item::Static(item) => &item.ident,
        syn::Item::Struct(item) => &item.ident,
        syn::Item::Trait(item) => &item.ident,
        syn::Item::TraitAlias(item) => &item.ident,
        syn::Item::Type(item) => &item.ident,
        syn::Item::Union(item) => &item.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The path that starts at `tokens[at]`, and where it ends.
fn path_at(tokens: &[TokenTree], at: usize) -> Option<(Written, usize)> {
    let dollar = matches!(&tokens[at], TokenTree::Punct(p) if p.as_char() == '$');
    let start = if dollar { at + 1 } else { at };
    let TokenTree::Ident(first) = tokens.get(start)? else {
        return None;
    };
    let first = first.to_string();
    if !matches!(first.as_str(), "crate" | "self" | "super") {
        return None;
    }
    let mut path = vec![first];
    let mut next = start + 1;
    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(i))) =
        (tokens.get(next), tokens.get(next + 1), tokens.get(next + 2))
    {
        if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':' {
            break;
        }
        path.push(i.to_string());
        next += 3;
    }
    (path.len() > 1).then_some((path, next))
}

impl<'ast> Visit<'ast> for References {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            self.paths
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            self.add_use(&item.tree, &mut Vec::new());
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.add_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn references(code: &str) -> References {
        let file = syn::parse_file(code).unwrap();
        let mut references = References::default();
        for item in &file.items {
            references.visit_item(item);
        }
        references
    }

    fn joined(paths: &[Written]) -> Vec<String> {
        let mut joined: Vec<String> = paths.iter().map(|path| path.join("::")).collect();
        joined.sort();
        joined
    }

    #[test]
    fn flattens_use_trees_and_binds_their_names() {
        let found = references(
            "use crate::a::{B, c::{self, D as E}, f::*}; use super::G; use ::std::fmt; use x::_Y as _;",
        );
        assert_eq!(
            joined(&found.paths),
            [
                "crate::a::B",
                "crate::a::c",
                "crate::a::c::D",
                "crate::a::f",
                "super::G",
                "x::_Y"
            ]
        );
        assert_eq!(found.imports["E"], ["crate", "a", "c", "D"]);
        assert_eq!(found.imports["c"], ["crate", "a", "c"]);
        assert!(
            !found.imports.contains_key("_"),
            "an underscore binds nothing"
        );
        assert_eq!(found.globs, [vec!["crate", "a", "f"]]);
    }

    #[test]
    fn finds_paths_in_types_expressions_and_function_bodies() {
        let found = references(
            "fn f(x: crate::a::T) -> super::b::U { use crate::c::V; crate::d::make(x) }",
        );
        assert_eq!(
            joined(&found.paths),
            [
                "crate::a::T",
                "crate::c::V",
                "crate::d::make",
                "super::b::U"
            ]
        );
    }

    #[test]
    fn finds_absolute_paths_inside_macro_tokens() {
        let found = references(
            "fn f() { println!(\"{}\", crate::a::B); g!($crate::c::D, [super::e]); h!(self) }",
        );
        assert_eq!(
            joined(&found.paths),
            ["crate::a::B", "crate::c::D", "super::e"]
        );
    }
}
