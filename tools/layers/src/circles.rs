//! The circles in a graph of uses: its strongly connected components of more than one module
//! (Tarjan's algorithm, iterative so that a deep graph cannot overflow the stack).

use crate::resolve::Uses;
use crate::tree::ModuleId;

/// Every set of modules that use each other round, each sorted, in the order found.
pub(crate) fn circles(uses: &Uses) -> Vec<Vec<ModuleId>> {
    let count = uses.len();
    let mut index: Vec<Option<usize>> = vec![None; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut found = Vec::new();
    for root in 0..count {
        if index[root].is_some() {
            continue;
        }
        // Each frame: a module and the position of the next of its uses to look at.
        let mut frames = vec![(root, 0)];
        index[root] = Some(next_index);
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut position)) = frames.last_mut() {
            if let Some(&child) = uses[node].keys().nth(*position) {
                *position += 1;
                match index[child] {
                    None => {
                        index[child] = Some(next_index);
                        low[child] = next_index;
                        next_index += 1;
                        stack.push(child);
                        on_stack[child] = true;
                        frames.push((child, 0));
                    }
                    Some(child_index) if on_stack[child] => {
                        low[node] = low[node].min(child_index);
                    }
                    Some(_) => {}
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if Some(low[node]) == index[node] {
                let mut component = Vec::new();
                while let Some(top) = stack.pop() {
                    on_stack[top] = false;
                    component.push(top);
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    found.push(component);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn graph(edges: &[(ModuleId, ModuleId)], count: usize) -> Uses {
        let mut uses = vec![BTreeMap::new(); count];
        for &(from, to) in edges {
            uses[from].insert(to, vec![]);
        }
        uses
    }

    #[test]
    fn a_graph_whose_uses_point_down_has_no_circle() {
        assert!(circles(&graph(&[(0, 1), (0, 2), (1, 2), (2, 3)], 4)).is_empty());
    }

    #[test]
    fn finds_each_circle_once_with_every_module_in_it() {
        let uses = graph(&[(0, 1), (1, 2), (2, 1), (3, 4), (4, 5), (5, 3), (5, 0)], 6);
        let mut found = circles(&uses);
        found.sort();
        assert_eq!(found, [vec![1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let count = 200_000;
        let edges: Vec<_> = (0..count - 1).map(|i| (i, i + 1)).collect();
        assert!(circles(&graph(&edges, count)).is_empty());
    }
}
