//! Expression evaluation over a [`Document`].

use std::collections::{HashMap, HashSet};

use super::ast::{Axis, BinaryOp, Expr, NodeTest, Step};
use super::functions::{number_to_string, string_to_number};
use super::{Context, Document, ErrorKind, Value, XPathError};

/// The string-value of a node (XPath 1.0 §5): the value of a leaf, or the
/// concatenation of the values of all descendant leaves in document order.
pub fn string_value<D: Document>(doc: &D, n: D::Node) -> String {
    if let Some(v) = doc.value(n) {
        return v.into_owned();
    }
    let mut out = String::new();
    let mut stack: Vec<D::Node> = doc.children(n).into_iter().rev().collect();
    while let Some(m) = stack.pop() {
        match doc.value(m) {
            Some(v) => out.push_str(&v),
            None => stack.extend(doc.children(m).into_iter().rev()),
        }
    }
    out
}

/// The dynamic context of one evaluation step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Focus<N> {
    pub node: N,
    pub position: usize,
    pub size: usize,
}

/// What a node test matches, with prefixes resolved.
enum Matcher<'x> {
    Named,
    Namespace(&'x str),
    Name(&'x str, &'x str),
    Local(&'x str),
    Any,
    Nothing,
}

pub(crate) struct Evaluator<'a, D: Document> {
    pub(crate) doc: &'a D,
    pub(crate) ctx: &'a Context<'a>,
    pub(crate) current: D::Node,
    /// Position of a node among its parent's children.
    index: HashMap<D::Node, usize>,
    /// Parents whose children have been indexed.
    scanned: HashSet<D::Node>,
}

impl<'a, D: Document> Evaluator<'a, D> {
    pub(crate) fn new(doc: &'a D, ctx: &'a Context<'a>, current: D::Node) -> Self {
        Evaluator {
            doc,
            ctx,
            current,
            index: HashMap::new(),
            scanned: HashSet::new(),
        }
    }

    pub(crate) fn eval_top(
        &mut self,
        e: &Expr,
        node: D::Node,
    ) -> Result<Value<D::Node>, XPathError> {
        self.eval(
            e,
            Focus {
                node,
                position: 1,
                size: 1,
            },
        )
    }

    // ----- conversions -------------------------------------------------

    pub(crate) fn node_string(&self, n: D::Node) -> String {
        string_value(self.doc, n)
    }

    pub(crate) fn value_string(&self, v: &Value<D::Node>) -> String {
        match v {
            Value::NodeSet(ns) => ns
                .first()
                .map_or_else(String::new, |&n| self.node_string(n)),
            Value::Boolean(b) => b.to_string(),
            Value::Number(x) => number_to_string(*x),
            Value::String(s) => s.clone(),
        }
    }

    pub(crate) fn value_number(&self, v: &Value<D::Node>) -> f64 {
        match v {
            Value::NodeSet(_) => string_to_number(&self.value_string(v)),
            Value::Boolean(b) => f64::from(u8::from(*b)),
            Value::Number(x) => *x,
            Value::String(s) => string_to_number(s),
        }
    }

    // ----- document order ----------------------------------------------

    /// Index of `n` among the children of `parent` (cached per parent).
    fn child_index(&mut self, n: D::Node, parent: D::Node) -> usize {
        if self.scanned.insert(parent) {
            for (i, c) in self.doc.children(parent).into_iter().enumerate() {
                self.index.insert(c, i);
            }
        }
        self.index.get(&n).copied().unwrap_or(usize::MAX)
    }

    /// Sibling indices from the root down to `n`; lexicographic order of
    /// these keys is document order.
    fn order_key(&mut self, n: D::Node) -> Vec<usize> {
        let mut key = Vec::new();
        let mut cur = n;
        while let Some(p) = self.doc.parent(cur) {
            key.push(self.child_index(cur, p));
            cur = p;
        }
        key.reverse();
        key
    }

    /// Sort distinct nodes into document order.
    pub(crate) fn sort_doc_order(&mut self, nodes: &mut [D::Node]) {
        if nodes.len() > 1 {
            nodes.sort_by_cached_key(|&n| self.order_key(n));
        }
    }

    // ----- axes --------------------------------------------------------

    /// `n` and its descendants in document order, appended to `out`.
    fn subtree(&self, n: D::Node, out: &mut Vec<D::Node>) {
        let mut stack = vec![n];
        while let Some(m) = stack.pop() {
            out.push(m);
            stack.extend(self.doc.children(m).into_iter().rev());
        }
    }

    /// The siblings of `n` and its index among them.
    fn siblings(&mut self, n: D::Node) -> Option<(Vec<D::Node>, usize)> {
        let p = self.doc.parent(n)?;
        let idx = self.child_index(n, p);
        let sibs = self.doc.children(p);
        // Guard against an inconsistent document rather than panicking.
        if sibs.get(idx) == Some(&n) {
            Some((sibs, idx))
        } else {
            let idx = sibs.iter().position(|&s| s == n)?;
            Some((sibs, idx))
        }
    }

    /// The nodes on `axis` from `n`, in axis order (reverse document order
    /// for reverse axes).
    fn axis_nodes(&mut self, axis: Axis, n: D::Node) -> Vec<D::Node> {
        let doc = self.doc;
        let mut out = Vec::new();
        match axis {
            Axis::Child => out = doc.children(n),
            Axis::Descendant => {
                for c in doc.children(n) {
                    self.subtree(c, &mut out);
                }
            }
            Axis::DescendantOrSelf => self.subtree(n, &mut out),
            Axis::Parent => out.extend(doc.parent(n)),
            Axis::Ancestor | Axis::AncestorOrSelf => {
                if axis == Axis::AncestorOrSelf {
                    out.push(n);
                }
                let mut cur = n;
                while let Some(p) = doc.parent(cur) {
                    out.push(p);
                    cur = p;
                }
            }
            Axis::FollowingSibling => {
                if let Some((sibs, i)) = self.siblings(n) {
                    out.extend_from_slice(&sibs[i + 1..]);
                }
            }
            Axis::PrecedingSibling => {
                if let Some((sibs, i)) = self.siblings(n) {
                    out.extend(sibs[..i].iter().rev());
                }
            }
            Axis::Following => {
                let mut cur = n;
                while let Some((sibs, i)) = self.siblings(cur) {
                    for &s in &sibs[i + 1..] {
                        self.subtree(s, &mut out);
                    }
                    match doc.parent(cur) {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
            }
            Axis::Preceding => {
                let mut cur = n;
                while let Some((sibs, i)) = self.siblings(cur) {
                    for &s in sibs[..i].iter().rev() {
                        let start = out.len();
                        self.subtree(s, &mut out);
                        out[start..].reverse();
                    }
                    match doc.parent(cur) {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
            }
            Axis::SelfAxis => out.push(n),
            Axis::Attribute | Axis::Namespace => {}
        }
        out
    }

    // ----- steps and predicates ----------------------------------------

    fn resolve_prefix(&self, prefix: &str, pos: usize) -> Result<&'a str, XPathError> {
        self.ctx
            .prefixes
            .get(prefix)
            .map(String::as_str)
            .ok_or_else(|| {
                XPathError::new(
                    ErrorKind::UnknownPrefix,
                    pos,
                    format!("unknown namespace prefix {prefix:?}"),
                )
            })
    }

    fn matcher<'x>(&self, axis: Axis, test: &'x NodeTest) -> Result<Matcher<'x>, XPathError>
    where
        'a: 'x,
    {
        let m = match test {
            NodeTest::Any => Matcher::Named,
            NodeTest::NamespaceAny { prefix, pos } => {
                Matcher::Namespace(self.resolve_prefix(prefix, *pos)?)
            }
            NodeTest::Name { prefix, local, pos } => match prefix {
                Some(p) => Matcher::Name(self.resolve_prefix(p, *pos)?, local),
                None if self.ctx.unprefixed_any_namespace => Matcher::Local(local),
                None => Matcher::Name(self.ctx.default_namespace, local),
            },
            NodeTest::Node => Matcher::Any,
            NodeTest::Text | NodeTest::Comment | NodeTest::ProcessingInstruction(_) => {
                Matcher::Nothing
            }
        };
        // The attribute and namespace axes are always empty in YANG data.
        if matches!(axis, Axis::Attribute | Axis::Namespace) {
            return Ok(Matcher::Nothing);
        }
        Ok(m)
    }

    fn matches(&self, m: &Matcher<'_>, n: D::Node) -> bool {
        match m {
            Matcher::Any => true,
            Matcher::Nothing => false,
            Matcher::Named => self.doc.name(n).is_some(),
            Matcher::Namespace(ns) => self.doc.name(n).is_some_and(|(uri, _)| uri == *ns),
            Matcher::Name(ns, local) => self
                .doc
                .name(n)
                .is_some_and(|(uri, l)| uri == *ns && l == *local),
            Matcher::Local(local) => self.doc.name(n).is_some_and(|(_, l)| l == *local),
        }
    }

    /// Keep the nodes for which `pred` holds; positions follow the order of
    /// `nodes`.
    fn filter(&mut self, pred: &Expr, nodes: Vec<D::Node>) -> Result<Vec<D::Node>, XPathError> {
        if let Expr::Number(x) = pred {
            // Fast path for `[n]`.
            let keep = (x.fract() == 0.0 && *x >= 1.0 && *x <= nodes.len() as f64)
                .then(|| nodes[*x as usize - 1]);
            return Ok(keep.into_iter().collect());
        }
        let size = nodes.len();
        let mut kept = Vec::new();
        for (i, &n) in nodes.iter().enumerate() {
            let focus = Focus {
                node: n,
                position: i + 1,
                size,
            };
            let keep = match self.eval(pred, focus)? {
                Value::Number(x) => x == (i + 1) as f64,
                v => v.to_boolean(),
            };
            if keep {
                kept.push(n);
            }
        }
        Ok(kept)
    }

    fn eval_step(&mut self, step: &Step, input: &[D::Node]) -> Result<Vec<D::Node>, XPathError> {
        let m = self.matcher(step.axis, &step.test)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for &n in input {
            if matches!(m, Matcher::Nothing) {
                break;
            }
            let mut nodes = self.axis_nodes(step.axis, n);
            nodes.retain(|&c| self.matches(&m, c));
            for p in &step.predicates {
                if nodes.is_empty() {
                    break;
                }
                nodes = self.filter(p, nodes)?;
            }
            if step.axis.is_reverse() {
                nodes.reverse();
            }
            out.extend(nodes.into_iter().filter(|&c| seen.insert(c)));
        }
        if input.len() > 1 {
            self.sort_doc_order(&mut out);
        }
        Ok(out)
    }

    fn eval_steps(
        &mut self,
        steps: &[Step],
        mut nodes: Vec<D::Node>,
    ) -> Result<Vec<D::Node>, XPathError> {
        for step in steps {
            if nodes.is_empty() {
                break;
            }
            nodes = self.eval_step(step, &nodes)?;
        }
        Ok(nodes)
    }

    fn node_set(
        &mut self,
        e: &Expr,
        focus: Focus<D::Node>,
        pos: usize,
        what: &str,
    ) -> Result<Vec<D::Node>, XPathError> {
        match self.eval(e, focus)? {
            Value::NodeSet(ns) => Ok(ns),
            _ => Err(XPathError::new(
                ErrorKind::NodeSetRequired,
                pos,
                format!("{what} must be a node-set"),
            )),
        }
    }

    // ----- expressions -------------------------------------------------

    pub(crate) fn eval(
        &mut self,
        e: &Expr,
        focus: Focus<D::Node>,
    ) -> Result<Value<D::Node>, XPathError> {
        match e {
            Expr::Binary { first, rest } => {
                let mut acc = self.eval(first, focus)?;
                for (op, r) in rest {
                    acc = self.binary(*op, acc, r, focus)?;
                }
                Ok(acc)
            }
            Expr::Negate(inner) => {
                let v = self.eval(inner, focus)?;
                Ok(Value::Number(-self.value_number(&v)))
            }
            Expr::Union { operands, pos } => {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for o in operands {
                    let ns = self.node_set(o, focus, *pos, "an operand of '|'")?;
                    out.extend(ns.into_iter().filter(|&n| seen.insert(n)));
                }
                self.sort_doc_order(&mut out);
                Ok(Value::NodeSet(out))
            }
            Expr::Path { absolute, steps } => {
                let start = if *absolute {
                    self.doc.root()
                } else {
                    focus.node
                };
                Ok(Value::NodeSet(self.eval_steps(steps, vec![start])?))
            }
            Expr::Filter {
                primary,
                predicates,
                pos,
            } => {
                let mut nodes = self.node_set(primary, focus, *pos, "a filtered expression")?;
                for p in predicates {
                    nodes = self.filter(p, nodes)?;
                }
                Ok(Value::NodeSet(nodes))
            }
            Expr::FilterPath { filter, steps, pos } => {
                let nodes = self.node_set(filter, focus, *pos, "an expression followed by '/'")?;
                Ok(Value::NodeSet(self.eval_steps(steps, nodes)?))
            }
            Expr::Literal(s) => Ok(Value::String(s.clone())),
            Expr::Number(x) => Ok(Value::Number(*x)),
            Expr::Variable { name, pos } => Err(XPathError::new(
                ErrorKind::UnknownVariable,
                *pos,
                format!("unknown variable ${name}"),
            )),
            Expr::FunctionCall { name, args, pos } => self.call(name, args, *pos, focus),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: Value<D::Node>,
        right: &Expr,
        focus: Focus<D::Node>,
    ) -> Result<Value<D::Node>, XPathError> {
        Ok(match op {
            BinaryOp::Or => {
                Value::Boolean(left.to_boolean() || self.eval(right, focus)?.to_boolean())
            }
            BinaryOp::And => {
                Value::Boolean(left.to_boolean() && self.eval(right, focus)?.to_boolean())
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let r = self.eval(right, focus)?;
                Value::Boolean(self.compare(op, &left, &r))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                let a = self.value_number(&left);
                let r = self.eval(right, focus)?;
                let b = self.value_number(&r);
                Value::Number(match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    _ => a % b,
                })
            }
        })
    }

    // ----- comparisons (XPath 1.0 §3.4) --------------------------------

    fn compare(&self, op: BinaryOp, l: &Value<D::Node>, r: &Value<D::Node>) -> bool {
        match (l, r) {
            (Value::NodeSet(a), Value::NodeSet(b)) => self.compare_sets(op, a, b),
            (Value::NodeSet(a), other) => self.compare_set_atom(op, a, other),
            (other, Value::NodeSet(b)) => self.compare_set_atom(swap(op), b, other),
            _ => compare_atoms(op, l, r),
        }
    }

    fn compare_sets(&self, op: BinaryOp, a: &[D::Node], b: &[D::Node]) -> bool {
        if a.is_empty() || b.is_empty() {
            return false;
        }
        match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                let sa: HashSet<String> = a.iter().map(|&n| self.node_string(n)).collect();
                let sb: HashSet<String> = b.iter().map(|&n| self.node_string(n)).collect();
                if op == BinaryOp::Eq {
                    sa.iter().any(|s| sb.contains(s))
                } else {
                    // Some pair differs unless both sets hold one same string.
                    !(sa.len() == 1 && sb.len() == 1 && sa == sb)
                }
            }
            _ => {
                let nums = |ns: &[D::Node]| -> Vec<f64> {
                    ns.iter()
                        .map(|&n| string_to_number(&self.node_string(n)))
                        .filter(|x| !x.is_nan())
                        .collect()
                };
                let (na, nb) = (nums(a), nums(b));
                let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
                let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if na.is_empty() || nb.is_empty() {
                    return false;
                }
                match op {
                    BinaryOp::Lt => min(&na) < max(&nb),
                    BinaryOp::Le => min(&na) <= max(&nb),
                    BinaryOp::Gt => max(&na) > min(&nb),
                    _ => max(&na) >= min(&nb),
                }
            }
        }
    }

    fn compare_set_atom(&self, op: BinaryOp, a: &[D::Node], atom: &Value<D::Node>) -> bool {
        match atom {
            Value::Boolean(_) => compare_atoms(op, &Value::Boolean(!a.is_empty()), atom),
            Value::Number(x) => a
                .iter()
                .any(|&n| compare_numbers(op, string_to_number(&self.node_string(n)), *x)),
            Value::String(s) => {
                if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
                    a.iter().any(|&n| {
                        let v = self.node_string(n);
                        (v == *s) == (op == BinaryOp::Eq)
                    })
                } else {
                    let x = string_to_number(s);
                    a.iter()
                        .any(|&n| compare_numbers(op, string_to_number(&self.node_string(n)), x))
                }
            }
            Value::NodeSet(b) => self.compare_sets(op, a, b),
        }
    }
}

/// The operator with its operands swapped (`a < b` iff `b > a`).
fn swap(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

fn compare_numbers(op: BinaryOp, a: f64, b: f64) -> bool {
    match op {
        BinaryOp::Eq => a == b,
        BinaryOp::Ne => a != b,
        BinaryOp::Lt => a < b,
        BinaryOp::Le => a <= b,
        BinaryOp::Gt => a > b,
        _ => a >= b,
    }
}

fn atom_number<N>(v: &Value<N>) -> f64 {
    match v {
        Value::Boolean(b) => f64::from(u8::from(*b)),
        Value::Number(x) => *x,
        Value::String(s) => string_to_number(s),
        Value::NodeSet(_) => f64::NAN,
    }
}

fn atom_string<N>(v: &Value<N>) -> String {
    match v {
        Value::Boolean(b) => b.to_string(),
        Value::Number(x) => number_to_string(*x),
        Value::String(s) => s.clone(),
        Value::NodeSet(_) => String::new(),
    }
}

/// Compare two values none of which is a node-set.
fn compare_atoms<N>(op: BinaryOp, l: &Value<N>, r: &Value<N>) -> bool {
    if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
        let eq = if matches!(l, Value::Boolean(_)) || matches!(r, Value::Boolean(_)) {
            l.to_boolean() == r.to_boolean()
        } else if matches!(l, Value::Number(_)) || matches!(r, Value::Number(_)) {
            return compare_numbers(op, atom_number(l), atom_number(r));
        } else {
            atom_string(l) == atom_string(r)
        };
        return eq == (op == BinaryOp::Eq);
    }
    compare_numbers(op, atom_number(l), atom_number(r))
}
