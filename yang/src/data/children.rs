//! The children of a data node: a persistent sequence of shared subtrees.
//!
//! A node with few children holds them in one vector. Past [`FLAT_MAX`] children (a large list)
//! they are held in chunks of at most [`CHUNK_MAX`] entries, each chunk itself shared ([`Arc`]).
//! Cloning the node then copies one pointer per chunk, not one per entry; editing one entry
//! copies its chunk only; and a diff of two versions skips every chunk they share by pointer
//! comparison. So a one-entry edit of a list of 100,000 entries touches about 1,600 chunk
//! pointers and 128 entries instead of 100,000 entries.
//!
//! The order is the same as a plain vector's: only the storage differs. [`Children`] offers the
//! vector operations the data tree needs (indexing, iteration, insert, remove, retain) and
//! dereferences to a slice for compatibility: that slice is built on first use for chunked
//! children (a copy of every entry pointer, kept until the next change), so the tree's own
//! code walks chunks and never asks for it.

use std::fmt;
use std::ops::{Deref, DerefMut, Index, IndexMut};
use std::sync::{Arc, OnceLock};

use super::DataNode;

/// Children up to this many are held in one vector.
pub const FLAT_MAX: usize = 128;
/// The largest chunk; a chunk that would grow past it is split in two.
pub const CHUNK_MAX: usize = 128;
/// The size of the chunks a long sequence is cut into.
const CHUNK: usize = 64;
/// A chunk shrunk below this merges with a neighbour when they fit in one.
const CHUNK_MIN: usize = 16;

type Chunk = Arc<Vec<Arc<DataNode>>>;

/// The children of a data node, in document order (see the module documentation).
#[derive(Default)]
pub struct Children(Repr);

enum Repr {
    Flat(Vec<Arc<DataNode>>),
    Chunked(Box<Chunked>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Flat(Vec::new())
    }
}

struct Chunked {
    chunks: Vec<Chunk>,
    /// `ends[k]`: the number of entries in chunks `0..=k`.
    ends: Vec<usize>,
    /// The entries as one slice, built on first use (see [`Children::deref`]).
    flat: OnceLock<Box<[Arc<DataNode>]>>,
}

impl Chunked {
    fn from_vec(v: Vec<Arc<DataNode>>) -> Chunked {
        let mut chunks = Vec::with_capacity(v.len() / CHUNK + 1);
        let mut ends = Vec::with_capacity(v.len() / CHUNK + 1);
        let mut end = 0;
        let mut it = v.into_iter().peekable();
        while it.peek().is_some() {
            let c: Vec<Arc<DataNode>> = it.by_ref().take(CHUNK).collect();
            end += c.len();
            chunks.push(Arc::new(c));
            ends.push(end);
        }
        Chunked {
            chunks,
            ends,
            flat: OnceLock::new(),
        }
    }

    fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    fn start(&self, k: usize) -> usize {
        if k == 0 {
            0
        } else {
            self.ends[k - 1]
        }
    }

    /// The chunk holding entry `i` (`i < len`), and `i`'s offset in it.
    fn locate(&self, i: usize) -> (usize, usize) {
        let k = self.ends.partition_point(|&e| e <= i);
        (k, i - self.start(k))
    }

    fn renumber(&mut self, from: usize) {
        let mut end = self.start(from);
        for k in from..self.chunks.len() {
            end += self.chunks[k].len();
            self.ends[k] = end;
        }
    }

    fn into_vec(self) -> Vec<Arc<DataNode>> {
        let mut out = Vec::with_capacity(self.len());
        for c in self.chunks {
            out.extend(Arc::unwrap_or_clone(c));
        }
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
            Repr::Chunked(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&Arc<DataNode>> {
        match &self.0 {
            Repr::Flat(v) => v.get(i),
            Repr::Chunked(c) => {
                if i >= c.len() {
                    return None;
                }
                let (k, o) = c.locate(i);
                c.chunks[k].get(o)
            }
        }
    }

    /// Entry `i`, to change in place: only its chunk is copied if shared.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Arc<DataNode>> {
        match &mut self.0 {
            Repr::Flat(v) => v.get_mut(i),
            Repr::Chunked(c) => {
                if i >= c.len() {
                    return None;
                }
                c.flat = OnceLock::new();
                let (k, o) = c.locate(i);
                Arc::make_mut(&mut c.chunks[k]).get_mut(o)
            }
        }
    }

    pub fn first(&self) -> Option<&Arc<DataNode>> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&Arc<DataNode>> {
        match &self.0 {
            Repr::Flat(v) => v.last(),
            Repr::Chunked(c) => c.chunks.last().and_then(|c| c.last()),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        let (cur, rest): (&[Arc<DataNode>], &[Chunk]) = match &self.0 {
            Repr::Flat(v) => (v, &[]),
            Repr::Chunked(c) => (&[], &c.chunks),
        };
        Iter {
            front: cur.iter(),
            back: [].iter(),
            rest: rest.iter(),
            len: self.len(),
        }
    }

    /// The entries `r.start..r.end`, found in O(log n).
    pub fn range(&self, r: std::ops::Range<usize>) -> Iter<'_> {
        let end = r.end.min(self.len());
        let start = r.start.min(end);
        match &self.0 {
            Repr::Flat(v) => Iter {
                front: v[start..end].iter(),
                back: [].iter(),
                rest: [].iter(),
                len: end - start,
            },
            Repr::Chunked(c) => {
                if start == end {
                    return Iter {
                        front: [].iter(),
                        back: [].iter(),
                        rest: [].iter(),
                        len: 0,
                    };
                }
                let (k0, o0) = c.locate(start);
                let (k1, o1) = c.locate(end - 1);
                if k0 == k1 {
                    return Iter {
                        front: c.chunks[k0][o0..=o1].iter(),
                        back: [].iter(),
                        rest: [].iter(),
                        len: end - start,
                    };
                }
                Iter {
                    front: c.chunks[k0][o0..].iter(),
                    back: c.chunks[k1][..=o1].iter(),
                    rest: c.chunks[k0 + 1..k1].iter(),
                    len: end - start,
                }
            }
        }
    }

    /// Every entry, mutably: shared chunks are copied (this costs the whole sequence).
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        let parts: Vec<&mut [Arc<DataNode>]> = match &mut self.0 {
            Repr::Flat(v) => vec![v.as_mut_slice()],
            Repr::Chunked(c) => {
                c.flat = OnceLock::new();
                c.chunks
                    .iter_mut()
                    .map(|ch| Arc::make_mut(ch).as_mut_slice())
                    .collect()
            }
        };
        parts.into_iter().flatten()
    }

    /// The entries as consecutive slices (one per chunk), in order.
    pub fn slices(&self) -> impl DoubleEndedIterator<Item = &[Arc<DataNode>]> + '_ {
        let (flat, chunks): (Option<&[Arc<DataNode>]>, &[Chunk]) = match &self.0 {
            Repr::Flat(v) => (Some(v.as_slice()), &[]),
            Repr::Chunked(c) => (None, &c.chunks),
        };
        flat.into_iter()
            .filter(|s| !s.is_empty())
            .chain(chunks.iter().map(|c| c.as_slice()))
    }

    /// If entry `i` starts a chunk: that chunk's identity and length. Two sequences that hold
    /// the same chunk hold the same entries there, so a diff can skip it whole.
    pub fn chunk_at(&self, i: usize) -> Option<(*const Vec<Arc<DataNode>>, usize)> {
        let Repr::Chunked(c) = &self.0 else {
            return None;
        };
        if i >= c.len() {
            return None;
        }
        let (k, o) = c.locate(i);
        (o == 0).then(|| (Arc::as_ptr(&c.chunks[k]), c.chunks[k].len()))
    }

    /// The first index for which `pred` is false, `pred` being true then false along the
    /// sequence (as [`slice::partition_point`]).
    pub fn partition_point(&self, mut pred: impl FnMut(&Arc<DataNode>) -> bool) -> usize {
        match &self.0 {
            Repr::Flat(v) => v.partition_point(pred),
            Repr::Chunked(c) => {
                // The first chunk whose last entry fails: the point is inside it.
                let k = c
                    .chunks
                    .partition_point(|ch| ch.last().is_some_and(&mut pred));
                if k == c.chunks.len() {
                    return c.len();
                }
                c.start(k) + c.chunks[k].partition_point(pred)
            }
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
                    self.0 = Repr::Chunked(Box::new(Chunked::from_vec(v)));
                }
            }
            Repr::Chunked(c) => {
                assert!(i <= c.len(), "insertion index {i} past the end");
                c.flat = OnceLock::new();
                // At a boundary, append to the chunk before rather than open the next.
                let (k, o) = if i == 0 {
                    (0, 0)
                } else {
                    let (k, o) = c.locate(i - 1);
                    (k, o + 1)
                };
                let chunk = Arc::make_mut(&mut c.chunks[k]);
                chunk.insert(o, n);
                if chunk.len() > CHUNK_MAX {
                    let tail = chunk.split_off(chunk.len() / 2);
                    c.chunks.insert(k + 1, Arc::new(tail));
                    c.ends.insert(k + 1, 0);
                }
                c.renumber(k);
            }
        }
    }

    /// Remove and return entry `i` (`i < len`).
    pub fn remove(&mut self, i: usize) -> Arc<DataNode> {
        match &mut self.0 {
            Repr::Flat(v) => v.remove(i),
            Repr::Chunked(c) => {
                assert!(i < c.len(), "removal index {i} past the end");
                c.flat = OnceLock::new();
                let (k, o) = c.locate(i);
                let chunk = Arc::make_mut(&mut c.chunks[k]);
                let n = chunk.remove(o);
                let small = chunk.len();
                let mut from = k;
                if small == 0 {
                    c.chunks.remove(k);
                    c.ends.remove(k);
                } else if small < CHUNK_MIN {
                    // Merge with the smaller neighbour when both fit in one chunk.
                    let left = (k > 0).then(|| c.chunks[k - 1].len());
                    let right = c.chunks.get(k + 1).map(|ch| ch.len());
                    let with = match (left, right) {
                        (Some(l), Some(r)) if r < l => Some(k + 1),
                        (Some(_), _) => Some(k - 1),
                        (None, Some(_)) => Some(k + 1),
                        (None, None) => None,
                    };
                    if let Some(w) = with {
                        let (a, b) = if w < k { (w, k) } else { (k, w) };
                        if c.chunks[a].len() + c.chunks[b].len() <= CHUNK_MAX {
                            let tail = Arc::unwrap_or_clone(c.chunks.remove(b));
                            c.ends.remove(b);
                            Arc::make_mut(&mut c.chunks[a]).extend(tail);
                            from = a;
                        }
                    }
                }
                if from < c.chunks.len() {
                    c.renumber(from);
                }
                if c.len() <= FLAT_MAX / 4 {
                    let c = std::mem::replace(&mut self.0, Repr::default());
                    if let Repr::Chunked(c) = c {
                        self.0 = Repr::Flat(c.into_vec());
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

    /// Keep the entries for which `keep` is true; `keep` may change them. Every chunk is
    /// visited (and copied if shared); see [`Children::retain_owned`] for a cheaper walk.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut Arc<DataNode>) -> bool) {
        match &mut self.0 {
            Repr::Flat(v) => v.retain_mut(keep),
            Repr::Chunked(_) => {
                let mut v = std::mem::take(self).into_vec();
                v.retain_mut(keep);
                *self = Children::from(v);
            }
        }
    }

    /// As [`Children::retain_mut`], but chunks shared with another sequence are kept as they
    /// are without being visited: for walks that only concern what an edit copied.
    pub fn retain_owned(&mut self, mut keep: impl FnMut(&mut Arc<DataNode>) -> bool) {
        match &mut self.0 {
            Repr::Flat(v) => v.retain_mut(keep),
            Repr::Chunked(c) => {
                let mut changed = false;
                for ch in c.chunks.iter_mut() {
                    if let Some(ch) = Arc::get_mut(ch) {
                        let before = ch.len();
                        ch.retain_mut(&mut keep);
                        changed |= ch.len() != before;
                    }
                }
                if changed {
                    c.flat = OnceLock::new();
                    let v = std::mem::take(self).into_vec();
                    *self = Children::from(v);
                } else {
                    c.flat = OnceLock::new();
                }
            }
        }
    }

    /// Visit, mutably, the entries of `range` that lie in chunks no other sequence shares (all
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
            Repr::Chunked(c) => {
                if start == end {
                    return;
                }
                c.flat = OnceLock::new();
                let (k0, _) = c.locate(start);
                let (k1, _) = c.locate(end - 1);
                for k in k0..=k1 {
                    let from = c.start(k);
                    if let Some(ch) = Arc::get_mut(&mut c.chunks[k]) {
                        let lo = start.saturating_sub(from);
                        let hi = (end - from).min(ch.len());
                        ch[lo..hi].iter_mut().for_each(&mut f);
                    }
                }
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
            Repr::Chunked(c) => c.into_vec(),
        }
    }

    /// Is this sequence held in chunks (a long one)?
    pub fn is_chunked(&self) -> bool {
        matches!(self.0, Repr::Chunked(_))
    }
}

impl Clone for Children {
    fn clone(&self) -> Self {
        match &self.0 {
            Repr::Flat(v) => Children(Repr::Flat(v.clone())),
            Repr::Chunked(c) => Children(Repr::Chunked(Box::new(Chunked {
                chunks: c.chunks.clone(),
                ends: c.ends.clone(),
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
        while i < n {
            if let (Some(a), Some(b)) = (self.chunk_at(i), other.chunk_at(i)) {
                if a == b {
                    i += a.1;
                    continue;
                }
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
            Repr::Chunked(c) => c
                .flat
                .get_or_init(|| c.chunks.iter().flat_map(|ch| ch.iter().cloned()).collect()),
        }
    }
}

impl DerefMut for Children {
    /// The children as one mutable slice. A long (chunked) sequence is turned back into one
    /// vector for this (it costs the whole sequence, and later copies of the node cost it
    /// too until the sequence grows again); the data tree's own code does not use it.
    fn deref_mut(&mut self) -> &mut [Arc<DataNode>] {
        if let Repr::Chunked(_) = &self.0 {
            let v = std::mem::take(self).into_vec();
            self.0 = Repr::Flat(v);
        }
        match &mut self.0 {
            Repr::Flat(v) => v,
            // Made flat above.
            Repr::Chunked(_) => &mut [],
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
            Children(Repr::Chunked(Box::new(Chunked::from_vec(v))))
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

/// Iterator over [`Children`], chunk by chunk.
#[derive(Clone)]
pub struct Iter<'a> {
    front: std::slice::Iter<'a, Arc<DataNode>>,
    back: std::slice::Iter<'a, Arc<DataNode>>,
    rest: std::slice::Iter<'a, Chunk>,
    len: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Arc<DataNode>;

    fn next(&mut self) -> Option<&'a Arc<DataNode>> {
        loop {
            if let Some(n) = self.front.next() {
                self.len -= 1;
                return Some(n);
            }
            match self.rest.next() {
                Some(c) => self.front = c.iter(),
                None => {
                    let n = self.back.next()?;
                    self.len -= 1;
                    return Some(n);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.back.next_back() {
                self.len -= 1;
                return Some(n);
            }
            match self.rest.next_back() {
                Some(c) => self.back = c.iter(),
                None => {
                    let n = self.front.next_back()?;
                    self.len -= 1;
                    return Some(n);
                }
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
        if let Repr::Chunked(ch) = &c.0 {
            assert!(ch
                .chunks
                .iter()
                .all(|x| !x.is_empty() && x.len() <= CHUNK_MAX));
            let mut end = 0;
            for (k, x) in ch.chunks.iter().enumerate() {
                end += x.len();
                assert_eq!(ch.ends[k], end);
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
    fn long_sequences_are_chunked_and_share_chunks() {
        let c: Children = (0..1000).map(leaf).collect();
        assert!(c.is_chunked());
        let mut d = c.clone();
        d[500] = leaf(7);
        let shared = (0..1000)
            .filter(|&i| c.chunk_at(i).is_some() && c.chunk_at(i) == d.chunk_at(i))
            .count();
        let chunks = (0..1000).filter(|&i| c.chunk_at(i).is_some()).count();
        assert_eq!(shared, chunks - 1, "only the edited chunk is copied");
        assert_ne!(c, d);
        d[500] = c[500].clone();
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
