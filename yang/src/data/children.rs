//! The children of a data node: a persistent sequence of shared subtrees.
//!
//! A node with few children holds them in one vector. Past [`FLAT_MAX`] children (a long list)
//! they are held in a tree of shared pieces: leaves of at most [`LEAF_MAX`] entries under
//! inner nodes of at most [`NODE_MAX`] pieces, each piece an [`Arc`] with its entry count.
//! Cloning the node then copies one pointer; changing one entry copies the pieces on its path
//! (a few dozen pointers); and a diff of two versions skips every piece they share by pointer
//! comparison. So a one-entry edit of a list of 100,000 entries costs about what it costs in a
//! list of a hundred.
//!
//! The order is the same as a plain vector's: only the storage differs. [`Children`] offers the
//! vector operations the data tree needs (indexing, iteration, insert, remove, retain) and
//! dereferences to a slice for compatibility: that slice is built on first use for a long
//! sequence (a copy of every entry pointer, kept until the next change), so the tree's own
//! code walks the pieces and never asks for it.

use std::fmt;
use std::ops::{Deref, DerefMut, Index, IndexMut};
use std::sync::{Arc, OnceLock};

use super::DataNode;

/// Children up to this many are held in one vector.
pub const FLAT_MAX: usize = 128;
/// The most entries in one leaf piece; a leaf that would hold more is split in two.
pub const LEAF_MAX: usize = 32;
/// The most pieces under one inner piece.
pub const NODE_MAX: usize = 32;
/// Leaf and inner sizes when a long sequence is built at once.
const LEAF_FILL: usize = 24;
const NODE_FILL: usize = 16;
/// A leaf shrunk below this merges with a neighbour when they fit in one.
const LEAF_MIN: usize = 6;

/// One piece of a long sequence.
#[derive(Clone)]
enum Piece {
    Leaf(Vec<Arc<DataNode>>),
    Inner(Vec<Sub>),
}

/// A piece under an inner piece, with the number of entries it holds.
#[derive(Clone)]
struct Sub {
    len: usize,
    piece: Arc<Piece>,
}

/// Identity of a shared piece (its address) and the number of entries it holds.
pub type PieceId = (*const (), usize);

impl Piece {
    fn len(&self) -> usize {
        match self {
            Piece::Leaf(v) => v.len(),
            Piece::Inner(subs) => subs.iter().map(|s| s.len).sum(),
        }
    }

    /// The piece holding entry `i` of `subs`, and `i`'s offset in it. An index one past the
    /// end falls in the last piece.
    fn find(subs: &[Sub], mut i: usize) -> (usize, usize) {
        let last = subs.len() - 1;
        for (k, s) in subs.iter().enumerate() {
            if i < s.len || k == last {
                return (k, i);
            }
            i -= s.len;
        }
        (last, i)
    }

    fn get(&self, i: usize) -> Option<&Arc<DataNode>> {
        match self {
            Piece::Leaf(v) => v.get(i),
            Piece::Inner(subs) => {
                let (k, o) = Piece::find(subs, i);
                subs[k].piece.get(o)
            }
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Arc<DataNode>> {
        match self {
            Piece::Leaf(v) => v.get_mut(i),
            Piece::Inner(subs) => {
                let (k, o) = Piece::find(subs, i);
                Arc::make_mut(&mut subs[k].piece).get_mut(o)
            }
        }
    }

    fn last(&self) -> Option<&Arc<DataNode>> {
        match self {
            Piece::Leaf(v) => v.last(),
            Piece::Inner(subs) => subs.last().and_then(|s| s.piece.last()),
        }
    }

    /// Insert at `i`; a piece that grows too big is split, and its right half returned.
    fn insert(&mut self, i: usize, n: Arc<DataNode>) -> Option<Piece> {
        match self {
            Piece::Leaf(v) => {
                v.insert(i, n);
                (v.len() > LEAF_MAX).then(|| Piece::Leaf(v.split_off(v.len() / 2)))
            }
            Piece::Inner(subs) => {
                let (k, o) = Piece::find(subs, i);
                let sub = &mut subs[k];
                sub.len += 1;
                let right = Arc::make_mut(&mut sub.piece).insert(o, n)?;
                let rlen = right.len();
                sub.len -= rlen;
                subs.insert(
                    k + 1,
                    Sub {
                        len: rlen,
                        piece: Arc::new(right),
                    },
                );
                (subs.len() > NODE_MAX).then(|| Piece::Inner(subs.split_off(subs.len() / 2)))
            }
        }
    }

    /// Remove entry `i` (`i < len`); empty pieces go, small leaves merge with a neighbour.
    fn remove(&mut self, i: usize) -> Arc<DataNode> {
        match self {
            Piece::Leaf(v) => v.remove(i),
            Piece::Inner(subs) => {
                let (k, o) = Piece::find(subs, i);
                subs[k].len -= 1;
                let n = Arc::make_mut(&mut subs[k].piece).remove(o);
                if subs[k].len == 0 {
                    subs.remove(k);
                } else if subs[k].len < LEAF_MIN {
                    Piece::merge_leaf(subs, k);
                }
                n
            }
        }
    }

    /// Merge the small leaf `subs[k]` into a neighbouring leaf if both fit in one.
    fn merge_leaf(subs: &mut Vec<Sub>, k: usize) {
        let with = if k + 1 < subs.len() {
            k + 1
        } else if k > 0 {
            k - 1
        } else {
            return;
        };
        let (a, b) = if with < k { (with, k) } else { (k, with) };
        let fits = subs[a].len + subs[b].len <= LEAF_MAX;
        let leaves =
            matches!(*subs[a].piece, Piece::Leaf(_)) && matches!(*subs[b].piece, Piece::Leaf(_));
        if !fits || !leaves {
            return;
        }
        let right = subs.remove(b);
        let tail = match Arc::unwrap_or_clone(right.piece) {
            Piece::Leaf(v) => v,
            Piece::Inner(_) => return,
        };
        if let Piece::Leaf(v) = Arc::make_mut(&mut subs[a].piece) {
            v.extend(tail);
        }
        subs[a].len += right.len;
    }

    /// As [`slice::partition_point`].
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        match self {
            Piece::Leaf(v) => v.partition_point(pred),
            Piece::Inner(subs) => {
                let k = subs.partition_point(|s| s.piece.last().is_some_and(&mut *pred));
                let base: usize = subs[..k].iter().map(|s| s.len).sum();
                match subs.get(k) {
                    Some(s) => base + s.piece.point(pred),
                    None => base,
                }
            }
        }
    }

    /// The pieces that start at entry `i`, largest first.
    fn starts(&self, i: usize, out: &mut Vec<PieceId>) {
        if let Piece::Inner(subs) = self {
            let (k, o) = Piece::find(subs, i);
            if o == 0 {
                out.push((Arc::as_ptr(&subs[k].piece) as *const (), subs[k].len));
            }
            subs[k].piece.starts(o, out);
        }
    }

    /// The number of leading entries two pieces share, following shared pieces.
    fn shared_head(a: &Arc<Piece>, b: &Arc<Piece>) -> usize {
        if Arc::ptr_eq(a, b) {
            return a.len();
        }
        match (&**a, &**b) {
            (Piece::Inner(x), Piece::Inner(y)) => {
                let mut n = 0;
                for (p, q) in x.iter().zip(y) {
                    if Arc::ptr_eq(&p.piece, &q.piece) {
                        n += p.len;
                    } else {
                        return n + Piece::shared_head(&p.piece, &q.piece);
                    }
                }
                n
            }
            (Piece::Leaf(x), Piece::Leaf(y)) => x
                .iter()
                .zip(y)
                .take_while(|(p, q)| Arc::ptr_eq(p, q))
                .count(),
            _ => 0,
        }
    }

    /// The number of trailing entries two pieces share.
    fn shared_tail(a: &Arc<Piece>, b: &Arc<Piece>) -> usize {
        if Arc::ptr_eq(a, b) {
            return a.len();
        }
        match (&**a, &**b) {
            (Piece::Inner(x), Piece::Inner(y)) => {
                let mut n = 0;
                for (p, q) in x.iter().rev().zip(y.iter().rev()) {
                    if Arc::ptr_eq(&p.piece, &q.piece) {
                        n += p.len;
                    } else {
                        return n + Piece::shared_tail(&p.piece, &q.piece);
                    }
                }
                n
            }
            (Piece::Leaf(x), Piece::Leaf(y)) => x
                .iter()
                .rev()
                .zip(y.iter().rev())
                .take_while(|(p, q)| Arc::ptr_eq(p, q))
                .count(),
            _ => 0,
        }
    }

    fn leaves<'a>(&'a self, out: &mut Vec<&'a [Arc<DataNode>]>) {
        match self {
            Piece::Leaf(v) => out.push(v),
            Piece::Inner(subs) => subs.iter().for_each(|s| s.piece.leaves(out)),
        }
    }

    fn leaves_mut<'a>(&'a mut self, out: &mut Vec<&'a mut [Arc<DataNode>]>) {
        match self {
            Piece::Leaf(v) => out.push(v),
            Piece::Inner(subs) => subs
                .iter_mut()
                .for_each(|s| Arc::make_mut(&mut s.piece).leaves_mut(out)),
        }
    }

    fn into_vec(self, out: &mut Vec<Arc<DataNode>>) {
        match self {
            Piece::Leaf(v) => out.extend(v),
            Piece::Inner(subs) => {
                for s in subs {
                    Arc::unwrap_or_clone(s.piece).into_vec(out);
                }
            }
        }
    }

    /// Visit the entries of `lo..hi` (relative to this piece) in pieces only this sequence
    /// holds, `base` being this piece's first index.
    fn owned(
        piece: &mut Arc<Piece>,
        lo: usize,
        hi: usize,
        f: &mut dyn FnMut(usize, &mut Arc<DataNode>),
        base: usize,
    ) {
        let Some(p) = Arc::get_mut(piece) else { return };
        match p {
            Piece::Leaf(v) => {
                let hi = hi.min(v.len());
                for (o, n) in v[lo.min(hi)..hi].iter_mut().enumerate() {
                    f(base + lo + o, n);
                }
            }
            Piece::Inner(subs) => {
                let mut start = 0;
                for s in subs.iter_mut() {
                    let end = start + s.len;
                    if end > lo && start < hi {
                        let (a, b) = (lo.saturating_sub(start), (hi - start).min(s.len));
                        Piece::owned(&mut s.piece, a, b, f, base + start);
                    }
                    start = end;
                    if start >= hi {
                        break;
                    }
                }
            }
        }
    }

    /// A tree of leaves of [`LEAF_FILL`] entries.
    fn build(v: Vec<Arc<DataNode>>) -> Piece {
        let mut level: Vec<Sub> = Vec::with_capacity(v.len() / LEAF_FILL + 1);
        let mut it = v.into_iter().peekable();
        while it.peek().is_some() {
            let leaf: Vec<Arc<DataNode>> = it.by_ref().take(LEAF_FILL).collect();
            level.push(Sub {
                len: leaf.len(),
                piece: Arc::new(Piece::Leaf(leaf)),
            });
        }
        while level.len() > NODE_MAX {
            let mut up = Vec::with_capacity(level.len() / NODE_FILL + 1);
            let mut it = level.into_iter().peekable();
            while it.peek().is_some() {
                let subs: Vec<Sub> = it.by_ref().take(NODE_FILL).collect();
                up.push(Sub {
                    len: subs.iter().map(|s| s.len).sum(),
                    piece: Arc::new(Piece::Inner(subs)),
                });
            }
            level = up;
        }
        Piece::Inner(level)
    }
}

/// The children of a data node, in document order (see the module documentation).
#[derive(Default)]
pub struct Children(Repr);

enum Repr {
    Flat(Vec<Arc<DataNode>>),
    Tree(Box<Tree>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Flat(Vec::new())
    }
}

struct Tree {
    root: Arc<Piece>,
    len: usize,
    /// The entries as one slice, built on first use (see [`Children::deref`]).
    flat: OnceLock<Box<[Arc<DataNode>]>>,
}

impl Tree {
    fn from_vec(v: Vec<Arc<DataNode>>) -> Tree {
        Tree {
            len: v.len(),
            root: Arc::new(Piece::build(v)),
            flat: OnceLock::new(),
        }
    }

    /// The root, to change: the cached slice goes.
    fn root_mut(&mut self) -> &mut Piece {
        self.flat = OnceLock::new();
        Arc::make_mut(&mut self.root)
    }

    fn into_vec(self) -> Vec<Arc<DataNode>> {
        let mut out = Vec::with_capacity(self.len);
        Arc::unwrap_or_clone(self.root).into_vec(&mut out);
        out
    }

    fn leaves(&self) -> Vec<&[Arc<DataNode>]> {
        let mut out = Vec::with_capacity(self.len / LEAF_FILL + 1);
        self.root.leaves(&mut out);
        out
    }
}

impl Children {
    pub const fn new() -> Children {
        Children(Repr::Flat(Vec::new()))
    }

    pub fn with_capacity(n: usize) -> Children {
        Children(Repr::Flat(Vec::with_capacity(n.min(FLAT_MAX))))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Flat(v) => v.len(),
            Repr::Tree(t) => t.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&Arc<DataNode>> {
        match &self.0 {
            Repr::Flat(v) => v.get(i),
            Repr::Tree(t) if i < t.len => t.root.get(i),
            Repr::Tree(_) => None,
        }
    }

    /// The leaf piece holding entry `i` (`i < len`) and the index of its first entry: for
    /// walks that go on to the neighbours of `i`. A short sequence is one leaf.
    pub fn leaf_at(&self, i: usize) -> (&[Arc<DataNode>], usize) {
        match &self.0 {
            Repr::Flat(v) => (v, 0),
            Repr::Tree(t) => {
                let (mut piece, mut o, mut start) = (&*t.root, i.min(t.len.saturating_sub(1)), 0);
                loop {
                    match piece {
                        Piece::Leaf(v) => return (v, start),
                        Piece::Inner(subs) => {
                            let (k, off) = Piece::find(subs, o);
                            start += o - off;
                            o = off;
                            piece = &subs[k].piece;
                        }
                    }
                }
            }
        }
    }

    /// Entry `i`, to change in place: only the pieces on its path are copied if shared.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Arc<DataNode>> {
        match &mut self.0 {
            Repr::Flat(v) => v.get_mut(i),
            Repr::Tree(t) if i < t.len => t.root_mut().get_mut(i),
            Repr::Tree(_) => None,
        }
    }

    pub fn first(&self) -> Option<&Arc<DataNode>> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&Arc<DataNode>> {
        match &self.0 {
            Repr::Flat(v) => v.last(),
            Repr::Tree(t) => t.root.last(),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.range(0..self.len())
    }

    /// The entries `r.start..r.end`, found in O(log n).
    pub fn range(&self, r: std::ops::Range<usize>) -> Iter<'_> {
        let end = r.end.min(self.len());
        let start = r.start.min(end);
        let mut it = Iter {
            front: [].iter(),
            back: [].iter(),
            front_stack: Vec::new(),
            back_stack: Vec::new(),
            len: end - start,
        };
        match &self.0 {
            Repr::Flat(v) => it.front = v[start..end].iter(),
            Repr::Tree(t) => {
                if start < end {
                    it.seek_front(&t.root, start);
                    it.seek_back(&t.root, end - 1);
                }
            }
        }
        it
    }

    /// Every entry, mutably: shared pieces are copied (this costs the whole sequence).
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        let mut parts: Vec<&mut [Arc<DataNode>]> = Vec::new();
        match &mut self.0 {
            Repr::Flat(v) => parts.push(v.as_mut_slice()),
            Repr::Tree(t) => t.root_mut().leaves_mut(&mut parts),
        }
        parts.into_iter().flatten()
    }

    /// The entries as consecutive slices (one per leaf piece), in order.
    pub fn slices(&self) -> std::vec::IntoIter<&[Arc<DataNode>]> {
        match &self.0 {
            Repr::Flat(v) if v.is_empty() => Vec::new().into_iter(),
            Repr::Flat(v) => vec![v.as_slice()].into_iter(),
            Repr::Tree(t) => t.leaves().into_iter(),
        }
    }

    /// The shared pieces that start at entry `i`, largest first. Two sequences that hold the
    /// same piece hold the same entries there, so a diff can skip it whole.
    pub fn pieces_at(&self, i: usize, out: &mut Vec<PieceId>) {
        out.clear();
        if let Repr::Tree(t) = &self.0 {
            if i < t.len {
                if i == 0 {
                    out.push((Arc::as_ptr(&t.root) as *const (), t.len));
                }
                t.root.starts(i, out);
            }
        }
    }

    /// How many entries at the start and at the end the two sequences share (the same
    /// [`Arc`]s), found through the pieces they share: O(log n) for two versions of a long
    /// list one edit apart. The counts do not overlap. Short sequences report (0, 0): their
    /// entries are compared one by one anyway.
    pub fn shared_ends(&self, other: &Children) -> (usize, usize) {
        let (Repr::Tree(a), Repr::Tree(b)) = (&self.0, &other.0) else {
            return (0, 0);
        };
        let most = a.len.min(b.len);
        let head = Piece::shared_head(&a.root, &b.root).min(most);
        let tail = Piece::shared_tail(&a.root, &b.root).min(most - head);
        (head, tail)
    }

    /// The first index for which `pred` is false, `pred` being true then false along the
    /// sequence (as [`slice::partition_point`]).
    pub fn partition_point(&self, mut pred: impl FnMut(&Arc<DataNode>) -> bool) -> usize {
        match &self.0 {
            Repr::Flat(v) => v.partition_point(pred),
            Repr::Tree(t) => t.root.point(&mut pred),
        }
    }

    pub fn push(&mut self, n: Arc<DataNode>) {
        let len = self.len();
        self.insert(len, n);
    }

    /// Insert `n` before entry `i` (`i <= len`).
    pub fn insert(&mut self, i: usize, n: Arc<DataNode>) {
        match &mut self.0 {
            Repr::Flat(v) => {
                v.insert(i, n);
                if v.len() > FLAT_MAX {
                    let v = std::mem::take(v);
                    self.0 = Repr::Tree(Box::new(Tree::from_vec(v)));
                }
            }
            Repr::Tree(t) => {
                assert!(i <= t.len, "insertion index {i} past the end");
                let len = t.len;
                if let Some(right) = t.root_mut().insert(i, n) {
                    let rlen = right.len();
                    let left = std::mem::replace(&mut t.root, Arc::new(Piece::Leaf(Vec::new())));
                    t.root = Arc::new(Piece::Inner(vec![
                        Sub {
                            len: len + 1 - rlen,
                            piece: left,
                        },
                        Sub {
                            len: rlen,
                            piece: Arc::new(right),
                        },
                    ]));
                }
                t.len += 1;
            }
        }
    }

    /// Remove and return entry `i` (`i < len`).
    pub fn remove(&mut self, i: usize) -> Arc<DataNode> {
        match &mut self.0 {
            Repr::Flat(v) => v.remove(i),
            Repr::Tree(t) => {
                assert!(i < t.len, "removal index {i} past the end");
                let n = t.root_mut().remove(i);
                t.len -= 1;
                // A root with one piece gives way to that piece.
                while let Piece::Inner(subs) = &*t.root {
                    if subs.len() != 1 {
                        break;
                    }
                    t.root = Arc::clone(&subs[0].piece);
                }
                if t.len <= FLAT_MAX / 4 {
                    let c = std::mem::take(&mut self.0);
                    if let Repr::Tree(t) = c {
                        self.0 = Repr::Flat(t.into_vec());
                    }
                }
                n
            }
        }
    }

    /// Keep the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Arc<DataNode>) -> bool) {
        self.retain_mut(|n| keep(n));
    }

    /// Keep the entries for which `keep` is true; `keep` may change them. Every piece is
    /// visited (and copied if shared); see [`Children::retain_owned`] for a cheaper walk.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut Arc<DataNode>) -> bool) {
        match &mut self.0 {
            Repr::Flat(v) => v.retain_mut(keep),
            Repr::Tree(_) => {
                let mut v = std::mem::take(self).into_vec();
                v.retain_mut(keep);
                *self = Children::from(v);
            }
        }
    }

    /// As [`Children::retain_mut`], but pieces shared with another sequence are kept as they
    /// are without being visited: for walks that only concern what an edit copied.
    pub fn retain_owned(&mut self, mut keep: impl FnMut(&mut Arc<DataNode>) -> bool) {
        match &mut self.0 {
            Repr::Flat(v) => v.retain_mut(keep),
            Repr::Tree(t) => {
                let mut gone = Vec::new();
                t.flat = OnceLock::new();
                let len = t.len;
                Piece::owned(
                    &mut t.root,
                    0,
                    len,
                    &mut |i, n| {
                        if !keep(n) {
                            gone.push(i);
                        }
                    },
                    0,
                );
                for i in gone.into_iter().rev() {
                    self.remove(i);
                }
            }
        }
    }

    /// Visit, mutably, the entries of `range` that lie in pieces no other sequence shares (all
    /// of them in a short sequence): what an edit copied.
    pub fn for_each_owned(
        &mut self,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(&mut Arc<DataNode>),
    ) {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        match &mut self.0 {
            Repr::Flat(v) => v[start..end].iter_mut().for_each(f),
            Repr::Tree(t) => {
                t.flat = OnceLock::new();
                Piece::owned(&mut t.root, start, end, &mut |_, n| f(n), 0);
            }
        }
    }

    pub fn clear(&mut self) {
        self.0 = Repr::default();
    }

    pub fn truncate(&mut self, len: usize) {
        while self.len() > len {
            self.remove(self.len() - 1);
        }
    }

    pub fn sort_by_key<K: Ord>(&mut self, f: impl FnMut(&Arc<DataNode>) -> K) {
        let mut v = std::mem::take(self).into_vec();
        v.sort_by_key(f);
        *self = Children::from(v);
    }

    pub fn to_vec(&self) -> Vec<Arc<DataNode>> {
        self.iter().cloned().collect()
    }

    pub fn into_vec(self) -> Vec<Arc<DataNode>> {
        match self.0 {
            Repr::Flat(v) => v,
            Repr::Tree(t) => t.into_vec(),
        }
    }

    /// Is this sequence held in pieces (a long one)?
    pub fn is_chunked(&self) -> bool {
        matches!(self.0, Repr::Tree(_))
    }
}

impl Clone for Children {
    fn clone(&self) -> Self {
        match &self.0 {
            Repr::Flat(v) => Children(Repr::Flat(v.clone())),
            Repr::Tree(t) => Children(Repr::Tree(Box::new(Tree {
                root: Arc::clone(&t.root),
                len: t.len,
                flat: OnceLock::new(),
            }))),
        }
    }
}

impl fmt::Debug for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Children {
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let (mut i, n) = (0, self.len());
        let (mut mine, mut theirs) = (Vec::new(), Vec::new());
        while i < n {
            // Pieces both hold are equal throughout.
            self.pieces_at(i, &mut mine);
            other.pieces_at(i, &mut theirs);
            if let Some(p) = mine.iter().find(|p| theirs.contains(p)) {
                i += p.1;
                continue;
            }
            let (a, b) = (&self[i], &other[i]);
            if !Arc::ptr_eq(a, b) && a != b {
                return false;
            }
            i += 1;
        }
        true
    }
}

impl Eq for Children {}

impl PartialEq<Vec<Arc<DataNode>>> for Children {
    fn eq(&self, other: &Vec<Arc<DataNode>>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl Deref for Children {
    type Target = [Arc<DataNode>];

    /// The children as one slice. For a long (chunked) sequence this builds a copy of every
    /// entry pointer on first use; the data tree's own code does not use it.
    fn deref(&self) -> &[Arc<DataNode>] {
        match &self.0 {
            Repr::Flat(v) => v,
            Repr::Tree(t) => t
                .flat
                .get_or_init(|| t.leaves().into_iter().flatten().cloned().collect()),
        }
    }
}

impl DerefMut for Children {
    /// The children as one mutable slice. A long (chunked) sequence is turned back into one
    /// vector for this (it costs the whole sequence, and later copies of the node cost it
    /// too until the sequence grows again); the data tree's own code does not use it.
    fn deref_mut(&mut self) -> &mut [Arc<DataNode>] {
        if let Repr::Tree(_) = &self.0 {
            let v = std::mem::take(self).into_vec();
            self.0 = Repr::Flat(v);
        }
        match &mut self.0 {
            Repr::Flat(v) => v,
            // Made flat above.
            Repr::Tree(_) => &mut [],
        }
    }
}

impl Index<usize> for Children {
    type Output = Arc<DataNode>;

    fn index(&self, i: usize) -> &Arc<DataNode> {
        match self.get(i) {
            Some(n) => n,
            None => panic!("index {i} out of range for {} children", self.len()),
        }
    }
}

impl IndexMut<usize> for Children {
    fn index_mut(&mut self, i: usize) -> &mut Arc<DataNode> {
        let len = self.len();
        match self.get_mut(i) {
            Some(n) => n,
            None => panic!("index {i} out of range for {len} children"),
        }
    }
}

/// Range indexing goes through the slice view (see [`Children::deref`]).
macro_rules! range_index {
    ($($r:ty),*) => {$(
        impl Index<$r> for Children {
            type Output = [Arc<DataNode>];

            fn index(&self, r: $r) -> &[Arc<DataNode>] {
                &self.deref()[r]
            }
        }
    )*};
}

range_index!(
    std::ops::Range<usize>,
    std::ops::RangeFrom<usize>,
    std::ops::RangeTo<usize>,
    std::ops::RangeFull,
    std::ops::RangeInclusive<usize>,
    std::ops::RangeToInclusive<usize>
);

impl From<Vec<Arc<DataNode>>> for Children {
    fn from(v: Vec<Arc<DataNode>>) -> Children {
        if v.len() > FLAT_MAX {
            Children(Repr::Tree(Box::new(Tree::from_vec(v))))
        } else {
            Children(Repr::Flat(v))
        }
    }
}

impl From<Children> for Vec<Arc<DataNode>> {
    fn from(c: Children) -> Vec<Arc<DataNode>> {
        c.into_vec()
    }
}

impl FromIterator<Arc<DataNode>> for Children {
    fn from_iter<I: IntoIterator<Item = Arc<DataNode>>>(iter: I) -> Children {
        Children::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl Extend<Arc<DataNode>> for Children {
    fn extend<I: IntoIterator<Item = Arc<DataNode>>>(&mut self, iter: I) {
        for n in iter {
            self.push(n);
        }
    }
}

impl<'a> IntoIterator for &'a Children {
    type Item = &'a Arc<DataNode>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Children {
    type Item = &'a mut Arc<DataNode>;
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl IntoIterator for Children {
    type Item = Arc<DataNode>;
    type IntoIter = std::vec::IntoIter<Arc<DataNode>>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

/// Iterator over [`Children`], leaf piece by leaf piece.
#[derive(Clone)]
pub struct Iter<'a> {
    front: std::slice::Iter<'a, Arc<DataNode>>,
    back: std::slice::Iter<'a, Arc<DataNode>>,
    /// Per level above `front`: the pieces still to visit to its right.
    front_stack: Vec<std::slice::Iter<'a, Sub>>,
    /// Per level above `back`: the pieces still to visit to its left.
    back_stack: Vec<std::slice::Iter<'a, Sub>>,
    len: usize,
}

impl<'a> Iter<'a> {
    fn seek_front(&mut self, mut piece: &'a Piece, mut i: usize) {
        loop {
            match piece {
                Piece::Leaf(v) => {
                    self.front = v[i.min(v.len())..].iter();
                    return;
                }
                Piece::Inner(subs) => {
                    let (k, o) = Piece::find(subs, i);
                    self.front_stack.push(subs[k + 1..].iter());
                    piece = &subs[k].piece;
                    i = o;
                }
            }
        }
    }

    fn seek_back(&mut self, mut piece: &'a Piece, mut i: usize) {
        loop {
            match piece {
                Piece::Leaf(v) => {
                    self.back = v[..(i + 1).min(v.len())].iter();
                    return;
                }
                Piece::Inner(subs) => {
                    let (k, o) = Piece::find(subs, i);
                    self.back_stack.push(subs[..k].iter());
                    piece = &subs[k].piece;
                    i = o;
                }
            }
        }
    }

    /// Move `front` to the next leaf; false at the end.
    fn next_leaf(&mut self) -> bool {
        while let Some(top) = self.front_stack.last_mut() {
            match top.next() {
                Some(sub) => {
                    self.seek_front(&sub.piece, 0);
                    return true;
                }
                None => {
                    self.front_stack.pop();
                }
            }
        }
        false
    }

    /// Move `back` to the previous leaf; false at the start.
    fn prev_leaf(&mut self) -> bool {
        while let Some(top) = self.back_stack.last_mut() {
            match top.next_back() {
                Some(sub) => {
                    self.seek_back(&sub.piece, sub.len.saturating_sub(1));
                    return true;
                }
                None => {
                    self.back_stack.pop();
                }
            }
        }
        false
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Arc<DataNode>;

    fn next(&mut self) -> Option<&'a Arc<DataNode>> {
        if self.len == 0 {
            return None;
        }
        loop {
            if let Some(n) = self.front.next() {
                self.len -= 1;
                return Some(n);
            }
            if !self.next_leaf() {
                // A flat sequence: everything is in `front`, or what is left is in `back`.
                let n = self.back.next()?;
                self.len -= 1;
                return Some(n);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.len == 0 {
            return None;
        }
        loop {
            if let Some(n) = self.back.next_back() {
                self.len -= 1;
                return Some(n);
            }
            if !self.prev_leaf() {
                let n = self.front.next_back()?;
                self.len -= 1;
                return Some(n);
            }
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

/// Mutable iterator over [`Children`].
pub type IterMut<'a> = std::iter::Flatten<std::vec::IntoIter<&'a mut [Arc<DataNode>]>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NodeId;
    use proptest::prelude::*;

    fn leaf(v: usize) -> Arc<DataNode> {
        Arc::new(DataNode::leaf(NodeId(1), v.to_string()))
    }

    fn values(c: &Children) -> Vec<String> {
        c.iter().map(|n| n.value.clone().unwrap()).collect()
    }

    fn model(v: &[Arc<DataNode>]) -> Vec<String> {
        v.iter().map(|n| n.value.clone().unwrap()).collect()
    }

    fn check(c: &Children, m: &[Arc<DataNode>]) {
        assert_eq!(c.len(), m.len());
        assert_eq!(values(c), model(m));
        assert_eq!(
            c.iter()
                .rev()
                .map(|n| n.value.clone().unwrap())
                .collect::<Vec<_>>(),
            model(m).into_iter().rev().collect::<Vec<_>>()
        );
        assert_eq!(&c[..], m, "the slice view");
        for (i, n) in m.iter().enumerate() {
            assert!(Arc::ptr_eq(&c[i], n));
        }
        assert!(c.get(m.len()).is_none());
        for i in (0..m.len()).step_by(7) {
            let (leaf, start) = c.leaf_at(i);
            assert!(Arc::ptr_eq(&leaf[i - start], &m[i]));
        }
        let joined: Vec<String> = c.slices().flat_map(model).collect();
        for (a, b) in [
            (0, m.len()),
            (m.len() / 3, m.len() / 2),
            (1, m.len()),
            (m.len() / 2, m.len()),
        ] {
            if a <= b {
                assert_eq!(
                    c.range(a..b)
                        .map(|n| n.value.clone().unwrap())
                        .collect::<Vec<_>>(),
                    model(&m[a..b])
                );
                assert_eq!(c.range(a..b).rev().count(), b - a);
            }
        }
        assert_eq!(joined, model(m));
        if let Repr::Tree(t) = &c.0 {
            assert_eq!(t.root.len(), t.len);
            shape(&t.root);
        }
    }

    /// Pieces are non-empty, within their bounds, and their counts are right.
    fn shape(p: &Piece) {
        match p {
            Piece::Leaf(v) => assert!(!v.is_empty() && v.len() <= LEAF_MAX, "leaf of {}", v.len()),
            Piece::Inner(subs) => {
                assert!(
                    !subs.is_empty() && subs.len() <= NODE_MAX,
                    "inner of {}",
                    subs.len()
                );
                for sub in subs {
                    assert_eq!(sub.len, sub.piece.len());
                    shape(&sub.piece);
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize),
        Remove(usize),
        Set(usize),
        Retain(usize),
        CloneAndEdit(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any::<usize>().prop_map(Op::Insert),
            3 => any::<usize>().prop_map(Op::Remove),
            2 => any::<usize>().prop_map(Op::Set),
            1 => (2usize..40).prop_map(Op::Retain),
            1 => any::<usize>().prop_map(Op::CloneAndEdit),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Random edits give the same sequence as a plain vector, and a clone taken before an
        /// edit keeps its entries.
        #[test]
        fn behaves_as_a_vector(start in 0usize..600, ops in proptest::collection::vec(op(), 1..120)) {
            let mut m: Vec<Arc<DataNode>> = (0..start).map(leaf).collect();
            let mut c = Children::from(m.clone());
            let mut next = 10_000;
            for o in ops {
                match o {
                    Op::Insert(i) => {
                        let i = i % (m.len() + 1);
                        let n = leaf(next);
                        next += 1;
                        m.insert(i, n.clone());
                        c.insert(i, n);
                    }
                    Op::Remove(i) if !m.is_empty() => {
                        let i = i % m.len();
                        let a = m.remove(i);
                        let b = c.remove(i);
                        prop_assert!(Arc::ptr_eq(&a, &b));
                    }
                    Op::Remove(_) => {}
                    Op::Set(i) if !m.is_empty() => {
                        let i = i % m.len();
                        let n = leaf(next);
                        next += 1;
                        m[i] = n.clone();
                        c[i] = n;
                    }
                    Op::Set(_) => {}
                    Op::Retain(k) => {
                        let keep = |n: &Arc<DataNode>| {
                            n.value.as_deref().unwrap().parse::<usize>().unwrap() % k != 0
                        };
                        m.retain(keep);
                        c.retain(keep);
                    }
                    Op::CloneAndEdit(i) => {
                        let before = c.clone();
                        let snapshot = m.clone();
                        if !m.is_empty() {
                            let i = i % m.len();
                            let n = leaf(next);
                            next += 1;
                            m[i] = n.clone();
                            c[i] = n;
                        }
                        check(&before, &snapshot);
                        prop_assert_eq!(before == c, m == snapshot);
                        let (head, tail) = before.shared_ends(&c);
                        prop_assert!(head + tail <= before.len().min(c.len()));
                        for k in 0..head {
                            prop_assert!(Arc::ptr_eq(&before[k], &c[k]));
                        }
                        for k in 1..=tail {
                            prop_assert!(Arc::ptr_eq(&before[before.len() - k], &c[c.len() - k]));
                        }
                    }
                }
                check(&c, &m);
            }
            // A predicate true then false along the sequence: by position in the model.
            let pos: std::collections::HashMap<*const DataNode, usize> =
                m.iter().enumerate().map(|(i, n)| (Arc::as_ptr(n), i)).collect();
            for cut in [0, m.len() / 3, m.len() / 2, m.len()] {
                prop_assert_eq!(c.partition_point(|n| pos[&Arc::as_ptr(n)] < cut), cut);
            }
        }
    }

    #[test]
    fn an_edit_copies_only_the_pieces_on_its_path() {
        let c: Children = (0..100_000).map(leaf).collect();
        assert!(c.is_chunked());
        let mut d = c.clone();
        d[50_000] = leaf(7);
        // Count the leaves the two share: all but the edited one.
        let (Repr::Tree(a), Repr::Tree(b)) = (&c.0, &d.0) else {
            panic!("not a tree")
        };
        let (la, lb) = (a.leaves(), b.leaves());
        assert_eq!(la.len(), lb.len());
        let shared = la
            .iter()
            .zip(&lb)
            .filter(|(x, y)| std::ptr::eq(x.as_ptr(), y.as_ptr()))
            .count();
        assert_eq!(shared, la.len() - 1, "only the edited leaf is copied");
        // The largest shared piece at the start covers more than one leaf.
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        c.pieces_at(0, &mut pa);
        d.pieces_at(0, &mut pb);
        assert!(pa.iter().any(|p| pb.contains(p) && p.1 > LEAF_MAX));
        assert_ne!(c, d);
        assert_eq!(c.shared_ends(&d), (50_000, 49_999));
        let mut e = d.clone();
        e.insert(70_000, leaf(8));
        assert_eq!(d.shared_ends(&e), (70_000, 30_000));
        d[50_000] = c[50_000].clone();
        assert_eq!(c, d);
    }

    #[test]
    fn sorted_partition_point_across_chunks() {
        let c: Children = (0..1000).map(|i| leaf(i * 2)).collect();
        let m: Vec<_> = (0..1000).map(|i| leaf(i * 2)).collect();
        for p in [0, 1, 2, 127, 128, 129, 1000, 1999, 2000, 5000] {
            let f = |n: &Arc<DataNode>| n.value.as_deref().unwrap().parse::<usize>().unwrap() < p;
            assert_eq!(c.partition_point(f), m.partition_point(f), "{p}");
        }
    }

    #[test]
    fn shrinks_back_to_one_vector() {
        let mut c: Children = (0..200).map(leaf).collect();
        while c.len() > 10 {
            c.remove(0);
        }
        assert!(!c.is_chunked());
        assert_eq!(
            values(&c),
            (190..200).map(|i| i.to_string()).collect::<Vec<_>>()
        );
    }
}
