//! Syntax tree of XPath 1.0 expressions and its normalized printing.

use std::fmt;

use super::functions::number_to_string;

/// The 13 XPath axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    Ancestor,
    AncestorOrSelf,
    Attribute,
    Child,
    Descendant,
    DescendantOrSelf,
    Following,
    FollowingSibling,
    Namespace,
    Parent,
    Preceding,
    PrecedingSibling,
    SelfAxis,
}

impl Axis {
    /// The axis name as written in XPath (`self` for [`Axis::SelfAxis`]).
    pub fn name(self) -> &'static str {
        match self {
            Axis::Ancestor => "ancestor",
            Axis::AncestorOrSelf => "ancestor-or-self",
            Axis::Attribute => "attribute",
            Axis::Child => "child",
            Axis::Descendant => "descendant",
            Axis::DescendantOrSelf => "descendant-or-self",
            Axis::Following => "following",
            Axis::FollowingSibling => "following-sibling",
            Axis::Namespace => "namespace",
            Axis::Parent => "parent",
            Axis::Preceding => "preceding",
            Axis::PrecedingSibling => "preceding-sibling",
            Axis::SelfAxis => "self",
        }
    }

    /// The axis with the given XPath name.
    pub fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "attribute" => Axis::Attribute,
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "namespace" => Axis::Namespace,
            "parent" => Axis::Parent,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "self" => Axis::SelfAxis,
            _ => return None,
        })
    }

    /// Reverse axes number their nodes in reverse document order.
    pub fn is_reverse(self) -> bool {
        matches!(
            self,
            Axis::Ancestor | Axis::AncestorOrSelf | Axis::Preceding | Axis::PrecedingSibling
        )
    }
}

/// A node test.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeTest {
    /// `*`
    Any,
    /// `prefix:*`; `pos` is the byte offset of the prefix.
    NamespaceAny { prefix: String, pos: usize },
    /// `prefix:local` or `local`; `pos` is the byte offset of the name.
    Name {
        prefix: Option<String>,
        local: String,
        pos: usize,
    },
    /// `node()`
    Node,
    /// `text()`
    Text,
    /// `comment()`
    Comment,
    /// `processing-instruction()` with its optional literal.
    ProcessingInstruction(Option<String>),
}

/// One location step: `axis::test[pred]...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

impl Step {
    /// A step without predicates.
    pub fn new(axis: Axis, test: NodeTest) -> Step {
        Step {
            axis,
            test,
            predicates: Vec::new(),
        }
    }

    fn is_plain(&self, axis: Axis) -> bool {
        self.axis == axis && self.test == NodeTest::Node && self.predicates.is_empty()
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    /// Precedence level, 1 (`or`, loosest) to 6 (`*`, `div`, `mod`).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "div",
            BinaryOp::Mod => "mod",
        }
    }
}

/// An XPath 1.0 expression.
///
/// Chains of operators of one precedence level are kept flat
/// ([`Expr::Binary`]) so that long chains such as `a or b or c ...` do not
/// make the tree deep. Parentheses are not kept: the tree structure encodes
/// them, and [`fmt::Display`] puts back the ones needed.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `first op1 e1 op2 e2 ...`, evaluated left to right (all operators are
    /// left-associative). The parser only puts operators of one precedence
    /// level in one node.
    Binary {
        first: Box<Expr>,
        rest: Vec<(BinaryOp, Expr)>,
    },
    /// Unary minus.
    Negate(Box<Expr>),
    /// `e1 | e2 | ...`; `pos` is the offset of the first `|`.
    Union {
        operands: Vec<Expr>,
        pos: usize,
    },
    /// A location path; `absolute` if it starts at the root. `//` is stored
    /// as a `descendant-or-self::node()` step, `.` and `..` as
    /// `self::node()` and `parent::node()`, `@` as the attribute axis.
    Path {
        absolute: bool,
        steps: Vec<Step>,
    },
    /// A filter expression with at least one predicate: `primary[p]...`;
    /// `pos` is the offset of the primary expression.
    Filter {
        primary: Box<Expr>,
        predicates: Vec<Expr>,
        pos: usize,
    },
    /// `filter/steps` or `filter//steps`; `pos` is the offset of the filter
    /// expression.
    FilterPath {
        filter: Box<Expr>,
        steps: Vec<Step>,
        pos: usize,
    },
    Literal(String),
    Number(f64),
    /// `$name` (name as written, possibly prefixed).
    Variable {
        name: String,
        pos: usize,
    },
    /// A function call; `name` as written, `pos` is the offset of the name.
    FunctionCall {
        name: String,
        args: Vec<Expr>,
        pos: usize,
    },
}

/// Precedence levels for printing: 1..=6 binary operators, then these.
const LEVEL_UNARY: u8 = 7;
const LEVEL_UNION: u8 = 8;
const LEVEL_PATH: u8 = 9;
const LEVEL_PRIMARY: u8 = 10;

impl Expr {
    fn level(&self) -> u8 {
        match self {
            Expr::Binary { first, rest } => rest
                .first()
                .map_or(first.level(), |(op, _)| op.precedence()),
            Expr::Negate(_) => LEVEL_UNARY,
            Expr::Union { .. } => LEVEL_UNION,
            Expr::Path { .. } | Expr::FilterPath { .. } => LEVEL_PATH,
            Expr::Filter { .. }
            | Expr::Literal(_)
            | Expr::Number(_)
            | Expr::Variable { .. }
            | Expr::FunctionCall { .. } => LEVEL_PRIMARY,
        }
    }

    /// Print `self`, in parentheses if its level is below `min`.
    fn fmt_at(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.level() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

fn fmt_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.contains('"') {
        write!(f, "\"{s}\"")
    } else if !s.contains('\'') {
        write!(f, "'{s}'")
    } else {
        // No XPath 1.0 literal can hold both quote characters.
        f.write_str("concat(")?;
        for (i, part) in s.split('"').enumerate() {
            if i > 0 {
                f.write_str(", '\"', ")?;
            }
            write!(f, "\"{part}\"")?;
        }
        f.write_str(")")
    }
}

fn fmt_number(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("(0 div 0)")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "(1 div 0)" } else { "(-1 div 0)" })
    } else if x.is_sign_negative() && x != 0.0 {
        write!(f, "(-{})", number_to_string(-x))
    } else {
        f.write_str(&number_to_string(x))
    }
}

impl fmt::Display for NodeTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeTest::Any => f.write_str("*"),
            NodeTest::NamespaceAny { prefix, .. } => write!(f, "{prefix}:*"),
            NodeTest::Name {
                prefix: Some(p),
                local,
                ..
            } => write!(f, "{p}:{local}"),
            NodeTest::Name { local, .. } => f.write_str(local),
            NodeTest::Node => f.write_str("node()"),
            NodeTest::Text => f.write_str("text()"),
            NodeTest::Comment => f.write_str("comment()"),
            NodeTest::ProcessingInstruction(None) => f.write_str("processing-instruction()"),
            NodeTest::ProcessingInstruction(Some(lit)) => {
                f.write_str("processing-instruction(")?;
                fmt_literal(f, lit)?;
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plain(Axis::SelfAxis) {
            return f.write_str(".");
        }
        if self.is_plain(Axis::Parent) {
            return f.write_str("..");
        }
        match self.axis {
            Axis::Child => {}
            Axis::Attribute => f.write_str("@")?,
            axis => write!(f, "{}::", axis.name())?,
        }
        write!(f, "{}", self.test)?;
        for p in &self.predicates {
            write!(f, "[{p}]")?;
        }
        Ok(())
    }
}

/// Print steps; `leading` tells whether something (the root or a filter
/// expression) precedes the first step, so it needs a `/`.
fn fmt_steps(f: &mut fmt::Formatter<'_>, steps: &[Step], leading: bool) -> fmt::Result {
    let mut after_double = false;
    for (i, step) in steps.iter().enumerate() {
        let has_before = leading || i > 0;
        let has_after = i + 1 < steps.len();
        if !after_double && has_before && has_after && step.is_plain(Axis::DescendantOrSelf) {
            f.write_str("//")?;
            after_double = true;
            continue;
        }
        if has_before && !after_double {
            f.write_str("/")?;
        }
        write!(f, "{step}")?;
        after_double = false;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Binary { first, rest } => {
                let level = self.level();
                first.fmt_at(f, level)?;
                for (op, e) in rest {
                    write!(f, " {} ", op.symbol())?;
                    e.fmt_at(f, level + 1)?;
                }
                Ok(())
            }
            Expr::Negate(e) => {
                f.write_str("-")?;
                e.fmt_at(f, LEVEL_UNARY)
            }
            Expr::Union { operands, .. } => {
                for (i, e) in operands.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    e.fmt_at(f, LEVEL_PATH)?;
                }
                Ok(())
            }
            Expr::Path { absolute, steps } => {
                if steps.is_empty() {
                    // A relative path without steps (not produced by the
                    // parser) selects the context node.
                    return f.write_str(if *absolute { "/" } else { "." });
                }
                fmt_steps(f, steps, *absolute)
            }
            Expr::Filter {
                primary,
                predicates,
                ..
            } => {
                primary.fmt_at(f, LEVEL_PRIMARY)?;
                for p in predicates {
                    write!(f, "[{p}]")?;
                }
                Ok(())
            }
            Expr::FilterPath { filter, steps, .. } => {
                filter.fmt_at(f, LEVEL_PRIMARY)?;
                if steps.is_empty() {
                    // Not produced by the parser; `x/self::node()` is equivalent
                    // for node-sets.
                    return f.write_str("/self::node()");
                }
                fmt_steps(f, steps, true)
            }
            Expr::Literal(s) => fmt_literal(f, s),
            Expr::Number(x) => fmt_number(f, *x),
            Expr::Variable { name, .. } => write!(f, "${name}"),
            Expr::FunctionCall { name, args, .. } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn push_unique(out: &mut Vec<String>, p: &str) {
    if !out.iter().any(|q| q == p) {
        out.push(p.to_string());
    }
}

fn collect_step_prefixes(steps: &[Step], out: &mut Vec<String>) {
    for step in steps {
        match &step.test {
            NodeTest::NamespaceAny { prefix, .. }
            | NodeTest::Name {
                prefix: Some(prefix),
                ..
            } => push_unique(out, prefix),
            _ => {}
        }
        for p in &step.predicates {
            collect_prefixes(p, out);
        }
    }
}

/// Append the name-test prefixes of `e` to `out` (first appearance order).
pub(crate) fn collect_prefixes(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Binary { first, rest } => {
            collect_prefixes(first, out);
            for (_, r) in rest {
                collect_prefixes(r, out);
            }
        }
        Expr::Negate(inner) => collect_prefixes(inner, out),
        Expr::Union { operands, .. } => {
            for o in operands {
                collect_prefixes(o, out);
            }
        }
        Expr::Path { steps, .. } => collect_step_prefixes(steps, out),
        Expr::Filter {
            primary,
            predicates,
            ..
        } => {
            collect_prefixes(primary, out);
            for p in predicates {
                collect_prefixes(p, out);
            }
        }
        Expr::FilterPath { filter, steps, .. } => {
            collect_prefixes(filter, out);
            collect_step_prefixes(steps, out);
        }
        Expr::FunctionCall { args, .. } => {
            for a in args {
                collect_prefixes(a, out);
            }
        }
        Expr::Literal(_) | Expr::Number(_) | Expr::Variable { .. } => {}
    }
}
