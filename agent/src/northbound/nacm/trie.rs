//! The data-node rules of one user and one operation, compiled for matching: the rule paths
//! merged into a prefix tree, so that a check compares each level of the node once per distinct
//! rule step (and reads a list entry's key once) however many rules share the prefix.

use std::collections::HashMap;

use super::path::{DataPath, NodePath};

/// Path rules merged by common prefix. Node 0 is the root (`/`).
#[derive(Debug, Clone, Default)]
pub(super) struct PathTrie<'a> {
    nodes: Vec<TrieNode<'a>>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode<'a> {
    /// The rules whose path ends here, as (order, module-name), in order.
    ends: Vec<(usize, &'a str)>,
    /// The next steps, grouped by node name and module.
    groups: Vec<Group<'a>>,
}

/// The steps naming one schema node, each with its own key predicates.
#[derive(Debug, Clone)]
struct Group<'a> {
    module: &'a str,
    name: &'a str,
    /// (key predicates, trie node); no predicates is every instance.
    entries: Vec<(&'a [(String, String)], usize)>,
    /// The entries whose predicate is one key, `key`, by its value: a list entry finds the
    /// rules naming it with one hash lookup however many entries rules name (the others are
    /// in `entries` only).
    key: Option<&'a str>,
    by_value: HashMap<&'a str, Vec<usize>>,
    /// The entries not in `by_value`.
    rest: Vec<(&'a [(String, String)], usize)>,
}

/// What the rule paths say about one data node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PathMatch {
    /// The order of the first path rule that applies to the node (its path is the node's or an
    /// ancestor's, and its module-name matches).
    pub(super) first: Option<usize>,
    /// Some rule path names a node below this one.
    pub(super) reaches_below: bool,
}

impl<'a> PathTrie<'a> {
    /// Add a rule's path; `order` is the rule's position among the user's rules, and rules are
    /// added in that order.
    pub(super) fn insert(&mut self, order: usize, module_name: &'a str, path: &'a NodePath) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut at = 0;
        for step in path.steps() {
            at = self.child(at, &step.module, &step.name, &step.keys);
        }
        self.nodes[at].ends.push((order, module_name));
    }

    /// The trie node for a step below `at`, made if new.
    fn child(
        &mut self,
        at: usize,
        module: &'a str,
        name: &'a str,
        keys: &'a [(String, String)],
    ) -> usize {
        let fresh = self.nodes.len();
        let groups = &mut self.nodes[at].groups;
        let gi = match groups
            .iter()
            .position(|g| g.name == name && g.module == module)
        {
            Some(i) => i,
            None => {
                groups.push(Group {
                    module,
                    name,
                    entries: Vec::new(),
                    key: None,
                    by_value: HashMap::new(),
                    rest: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        if let Some(&(_, t)) = g.entries.iter().find(|(k, _)| *k == keys) {
            return t;
        }
        g.entries.push((keys, fresh));
        match keys {
            [(k, v)] if g.key.is_none_or(|key| key == k) => {
                g.key = Some(k);
                g.by_value.entry(v).or_default().push(fresh);
            }
            _ => g.rest.push((keys, fresh)),
        }
        self.nodes.push(TrieNode::default());
        fresh
    }

    /// Match `node` (whose own module is `module`) against every rule path.
    pub(super) fn lookup<P: DataPath + ?Sized>(&self, node: &P, module: &str) -> PathMatch {
        let mut m = PathMatch {
            first: None,
            reaches_below: false,
        };
        if !self.nodes.is_empty() {
            self.visit(0, node, 0, module, &mut m);
        }
        m
    }

    /// Trie node `at` matches `node` down to `level`: note its rules, then follow the steps
    /// that match the node's next level.
    fn visit<P: DataPath + ?Sized>(
        &self,
        at: usize,
        node: &P,
        level: usize,
        module: &str,
        m: &mut PathMatch,
    ) {
        let t = &self.nodes[at];
        let ends_here = t
            .ends
            .iter()
            .find(|(_, rule_module)| *rule_module == "*" || *rule_module == module);
        if let Some(&(order, _)) = ends_here {
            m.first = Some(m.first.map_or(order, |f| f.min(order)));
        }
        if level == node.depth() {
            m.reaches_below |= !t.groups.is_empty();
            return;
        }
        let (name, node_module) = (node.name(level), node.module(level));
        let Some(g) = t
            .groups
            .iter()
            .find(|g| g.name == name && g.module == node_module)
        else {
            return;
        };
        // The entries indexed by their one key's value, then every other entry.
        if let Some(k) = g.key {
            if let Some(children) = node.key_value(level, k).and_then(|v| g.by_value.get(v)) {
                for &child in children {
                    self.visit(child, node, level + 1, module, m);
                }
            }
        }
        let mut key = KeyCache::default();
        for &(keys, child) in &g.rest {
            if keys
                .iter()
                .all(|(k, v)| key.value(node, level, k) == Some(v.as_str()))
            {
                self.visit(child, node, level + 1, module, m);
            }
        }
    }
}

/// The last key looked up at one level: the entries of a group mostly name the same key, so
/// it is read from the node once.
#[derive(Default)]
struct KeyCache<'k, 'n> {
    last: Option<(&'k str, Option<&'n str>)>,
}

impl<'k, 'n> KeyCache<'k, 'n> {
    fn value<P: DataPath + ?Sized>(
        &mut self,
        node: &'n P,
        level: usize,
        key: &'k str,
    ) -> Option<&'n str> {
        match self.last {
            Some((k, v)) if k == key => v,
            _ => {
                let v = node.key_value(level, key);
                self.last = Some((key, v));
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::path::{NodePath, Segment};
    use super::*;

    fn path(text: &str) -> NodePath {
        NodePath::parse(text, &|p: &str| Some(p.to_string())).expect("a valid path")
    }

    #[test]
    fn entries_named_by_one_key_and_by_several_both_match() {
        let paths = [
            path("/m:l[name='a']"),
            path("/m:l[name='b']/leaf"),
            path("/m:l[name='a'][other='x']"),
            path("/m:l"),
        ];
        let mut t = PathTrie::default();
        for (i, p) in paths.iter().enumerate() {
            t.insert(i + 1, "*", p);
        }
        let entry = |keys: &'static [(&'static str, &'static str)]| {
            [Segment {
                module: "m",
                name: "l",
                keys,
            }]
        };
        // By the indexed key: rule 1.
        let m = t.lookup(&entry(&[("name", "a"), ("other", "y")])[..], "m");
        assert_eq!(m.first, Some(1));
        // Rule 3 needs both keys; rule 4 names every entry.
        let m = t.lookup(&entry(&[("name", "c"), ("other", "x")])[..], "m");
        assert_eq!(m.first, Some(4));
        let m = t.lookup(&entry(&[("name", "a"), ("other", "x")])[..], "m");
        assert_eq!(m.first, Some(1));
        // Entry b: rule 4 applies to it, rule 2 reaches below it.
        let m = t.lookup(&entry(&[("name", "b"), ("other", "z")])[..], "m");
        assert_eq!((m.first, m.reaches_below), (Some(4), true));
        let m = t.lookup(&entry(&[("name", "a"), ("other", "z")])[..], "m");
        assert!(!m.reaches_below);
    }
}
