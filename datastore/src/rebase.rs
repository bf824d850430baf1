//! A private candidate's changes laid over running as it is now (the CLI's two-stage commit,
//! as VRP's): the session made `candidate` from running as it was (`base`); its changes are
//! `diff(base, candidate)`. If running still is `base`, the candidate is the new running.
//! Otherwise others committed meanwhile: the session's changes are applied to running node by
//! node, unless one of them touches a node that others changed too (the same node, one of its
//! ancestors or descendants) and the two ended differently: that is a conflict, reported with
//! the nodes, and nothing is merged.

use std::collections::BTreeSet;
use std::ops::Bound;

use yang::data::{DataError, DataTree};
use yang::diff::{diff, ChangeOp};
use yang::instance_id::split_steps;
use yang::Schema;

/// The nodes both sides changed, differently (instance-identifiers, in document order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebase {
    Conflict(Vec<String>),
    /// A change could not be laid over running (a bug, or a schema the paths do not fit).
    Failed(DataError),
}

/// The new running: `running` with the changes that turn `base` into `candidate`.
pub fn rebase(
    schema: &Schema,
    base: &DataTree,
    candidate: &DataTree,
    running: &DataTree,
) -> Result<DataTree, Rebase> {
    // Unchanged subtrees are shared, so both diffs cost what changed.
    let theirs = diff(schema, base, running);
    if theirs.is_empty() {
        return Ok(candidate.clone());
    }
    let ours = diff(schema, base, candidate);
    // A moved entry of an `ordered-by user` list changes its list as a whole.
    let ours: Vec<(String, ChangeOp)> = ours
        .into_iter()
        .map(|c| match c.op {
            ChangeOp::Move => (parent(&c.path).to_string(), ChangeOp::Move),
            op => (c.path, op),
        })
        .collect();
    let theirs: BTreeSet<String> = theirs.into_iter().map(|c| c.path).collect();
    let mut conflicts: Vec<String> = Vec::new();
    for (path, _) in &ours {
        if overlaps(&theirs, path)
            && running.find(schema, path) != candidate.find(schema, path)
            && conflicts.last() != Some(path)
        {
            conflicts.push(path.clone());
        }
    }
    if !conflicts.is_empty() {
        return Err(Rebase::Conflict(conflicts));
    }
    let mut new = running.clone();
    // A created subtree is listed node by node after its root: the root carries it whole.
    let mut laid: Option<&str> = None;
    for (path, _) in &ours {
        if laid.is_some_and(|root| path == root || below(path, root)) {
            continue;
        }
        new.put(schema, path, candidate.find(schema, path).cloned())
            .map_err(Rebase::Failed)?;
        laid = Some(path);
    }
    yang::data::add_defaults(schema, &mut new);
    Ok(new)
}

/// Did `theirs` change `path`, an ancestor of it or a descendant of it?
fn overlaps(theirs: &BTreeSet<String>, path: &str) -> bool {
    let mut ancestor = String::with_capacity(path.len());
    for step in split_steps(path) {
        ancestor.push_str(step);
        if theirs.contains(&ancestor) {
            return true;
        }
    }
    let below_prefix = format!("{path}/");
    theirs
        .range::<str, _>((Bound::Included(below_prefix.as_str()), Bound::Unbounded))
        .next()
        .is_some_and(|p| p.starts_with(&below_prefix))
}

/// Is `path` a descendant of `root`?
fn below(path: &str, root: &str) -> bool {
    path.len() > root.len() && path.starts_with(root) && path.as_bytes()[root.len()] == b'/'
}

/// The path of a node's parent (the node itself at the top).
fn parent(path: &str) -> &str {
    let steps = split_steps(path);
    match steps.len() {
        0 | 1 => path,
        n => {
            let len: usize = steps[..n - 1].iter().map(|s| s.len()).sum();
            &path[..len]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_descendants() {
        assert_eq!(parent("/a:x/a:y[a:k='p/q']/a:z"), "/a:x/a:y[a:k='p/q']");
        assert_eq!(parent("/a:x"), "/a:x");
        assert!(below("/a:x/a:y", "/a:x"));
        assert!(!below("/a:xy", "/a:x"));
        let theirs: BTreeSet<String> = ["/a:x/a:y[a:k='1']/a:v".to_string()].into();
        assert!(overlaps(&theirs, "/a:x/a:y[a:k='1']"));
        assert!(overlaps(&theirs, "/a:x/a:y[a:k='1']/a:v"));
        assert!(!overlaps(&theirs, "/a:x/a:y[a:k='1']/a:w"));
        assert!(!overlaps(&theirs, "/a:x/a:y[a:k='10']"));
        assert!(overlaps(&theirs, "/a:x/a:y[a:k='1']/a:v/a:deeper"));
    }
}
