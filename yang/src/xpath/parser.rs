//! Recursive-descent parser for the XPath 1.0 grammar (XPath 1.0 §2, §3).
//!
//! Besides the grammar, the parser checks function names and arities
//! against the XPath 1.0 + YANG 1.1 function library, and statically checks
//! that expressions used where a node-set is required (function arguments,
//! `|` operands, filtered expressions, `expr/path`) can be node-sets: in
//! XPath 1.0 every function has a fixed result type, so this is exact.

use super::ast::{Axis, BinaryOp, Expr, NodeTest, Step};
use super::functions::{signature, StaticType};
use super::lexer::{tokenize, NodeType, Tok, Token};
use super::{ErrorKind, XPathError};

/// Maximum nesting of parenthesized expressions, predicates, function
/// arguments and unary minus signs. Keeps recursion in the parser, the
/// evaluator and `Drop` well within a small thread stack.
pub const MAX_DEPTH: usize = 48;

pub(crate) fn parse(src: &str) -> Result<Expr, XPathError> {
    let (tokens, lex_error) = tokenize(src);
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
    };
    let result = p.expr().and_then(|e| {
        if p.peek_tok() == &Tok::End {
            Ok(e)
        } else {
            Err(p.unexpected("an operator or end of expression"))
        }
    });
    match (result, lex_error) {
        // A syntax error before the lexical error is reported first.
        (Err(e), Some(lex)) if e.position < lex.position => Err(e),
        (_, Some(lex)) => Err(lex),
        (result, None) => result,
    }
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
}

fn static_type(e: &Expr) -> StaticType {
    match e {
        Expr::Binary { first, rest } => match rest.first() {
            None => static_type(first),
            Some((op, _)) if op.precedence() <= 4 => StaticType::Boolean,
            Some(_) => StaticType::Number,
        },
        Expr::Negate(_) | Expr::Number(_) => StaticType::Number,
        Expr::Union { .. } | Expr::Path { .. } | Expr::Filter { .. } | Expr::FilterPath { .. } => {
            StaticType::NodeSet
        }
        Expr::Literal(_) => StaticType::String,
        Expr::Variable { .. } => StaticType::Unknown,
        Expr::FunctionCall { name, .. } => {
            signature(name).map_or(StaticType::Unknown, |s| s.returns)
        }
    }
}

fn require_node_set(e: &Expr, pos: usize, what: &str) -> Result<(), XPathError> {
    match static_type(e) {
        StaticType::NodeSet | StaticType::Unknown => Ok(()),
        t => Err(XPathError::new(
            ErrorKind::NodeSetRequired,
            pos,
            format!("{what} must be a node-set, not a {}", t.name()),
        )),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `i` never moves past it.
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn peek_tok(&self) -> &Tok {
        &self.peek().tok
    }

    fn pos(&self) -> usize {
        self.peek().pos
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.i += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek_tok() == tok {
            self.advance();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> XPathError {
        let t = self.peek();
        XPathError::new(
            ErrorKind::Syntax,
            t.pos,
            format!("expected {expected}, found {}", t.tok.describe()),
        )
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> Result<(), XPathError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self, amount: usize) -> Result<(), XPathError> {
        self.depth += amount;
        if self.depth > MAX_DEPTH {
            return Err(XPathError::new(
                ErrorKind::TooDeep,
                self.pos(),
                format!("expression nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    /// Expr ::= OrExpr
    fn expr(&mut self) -> Result<Expr, XPathError> {
        self.enter(1)?;
        let e = self.binary();
        self.depth -= 1;
        e
    }

    fn binary_op(&self) -> Option<BinaryOp> {
        Some(match self.peek_tok() {
            Tok::Or => BinaryOp::Or,
            Tok::And => BinaryOp::And,
            Tok::Eq => BinaryOp::Eq,
            Tok::Neq => BinaryOp::Ne,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            Tok::Plus => BinaryOp::Add,
            Tok::Minus => BinaryOp::Sub,
            Tok::Multiply => BinaryOp::Mul,
            Tok::Div => BinaryOp::Div,
            Tok::Mod => BinaryOp::Mod,
            _ => return None,
        })
    }

    /// OrExpr down to MultiplicativeExpr: the unary operands and binary
    /// operators are read in one loop, then grouped by precedence. This keeps
    /// the parser's recursion per nesting level small.
    fn binary(&mut self) -> Result<Expr, XPathError> {
        let first = self.unary()?;
        let mut rest = Vec::new();
        while let Some(op) = self.binary_op() {
            self.advance();
            rest.push((op, self.unary()?));
        }
        Ok(group(1, first, rest))
    }

    /// UnaryExpr ::= UnionExpr | '-' UnaryExpr
    fn unary(&mut self) -> Result<Expr, XPathError> {
        let mut minus = 0;
        while self.peek_tok() == &Tok::Minus {
            minus += 1;
            self.enter(1)?;
            self.advance();
        }
        let mut e = self.union();
        self.depth -= minus;
        for _ in 0..minus {
            e = e.map(|x| Expr::Negate(Box::new(x)));
        }
        e
    }

    /// UnionExpr ::= PathExpr | UnionExpr '|' PathExpr
    fn union(&mut self) -> Result<Expr, XPathError> {
        let start = self.pos();
        let first = self.path_expr()?;
        if self.peek_tok() != &Tok::Pipe {
            return Ok(first);
        }
        let pipe = self.pos();
        require_node_set(&first, start, "an operand of '|'")?;
        let mut operands = vec![first];
        while self.eat(&Tok::Pipe) {
            let start = self.pos();
            let e = self.path_expr()?;
            require_node_set(&e, start, "an operand of '|'")?;
            operands.push(e);
        }
        Ok(Expr::Union {
            operands,
            pos: pipe,
        })
    }

    /// PathExpr ::= LocationPath | FilterExpr
    ///            | FilterExpr '/' RelativeLocationPath
    ///            | FilterExpr '//' RelativeLocationPath
    fn path_expr(&mut self) -> Result<Expr, XPathError> {
        match self.peek_tok() {
            Tok::Variable(_)
            | Tok::LParen
            | Tok::Literal(_)
            | Tok::Number(_)
            | Tok::FunctionName(_) => self.filter_path(),
            Tok::Slash => {
                self.advance();
                let steps = if self.at_step_start() {
                    self.relative_path(Vec::new())?
                } else {
                    Vec::new()
                };
                Ok(Expr::Path {
                    absolute: true,
                    steps,
                })
            }
            Tok::DoubleSlash => {
                self.advance();
                let steps = self.relative_path(vec![descendant_or_self()])?;
                Ok(Expr::Path {
                    absolute: true,
                    steps,
                })
            }
            _ if self.at_step_start() => Ok(Expr::Path {
                absolute: false,
                steps: self.relative_path(Vec::new())?,
            }),
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn at_step_start(&self) -> bool {
        matches!(
            self.peek_tok(),
            Tok::Star
                | Tok::NsStar(_)
                | Tok::Name(..)
                | Tok::NodeType(_)
                | Tok::AxisName(_)
                | Tok::At
                | Tok::Dot
                | Tok::DotDot
        )
    }

    /// FilterExpr, optionally followed by `/` or `//` and a relative path.
    fn filter_path(&mut self) -> Result<Expr, XPathError> {
        let start = self.pos();
        let primary = self.primary()?;
        let mut e = primary;
        if self.peek_tok() == &Tok::LBracket {
            require_node_set(&e, start, "a filtered expression")?;
            let predicates = self.predicates()?;
            e = Expr::Filter {
                primary: Box::new(e),
                predicates,
                pos: start,
            };
        }
        let steps = match self.peek_tok() {
            Tok::Slash => {
                self.advance();
                Vec::new()
            }
            Tok::DoubleSlash => {
                self.advance();
                vec![descendant_or_self()]
            }
            _ => return Ok(e),
        };
        require_node_set(&e, start, "an expression followed by '/'")?;
        let steps = self.relative_path(steps)?;
        Ok(Expr::FilterPath {
            filter: Box::new(e),
            steps,
            pos: start,
        })
    }

    /// RelativeLocationPath, appended to `steps`.
    fn relative_path(&mut self, mut steps: Vec<Step>) -> Result<Vec<Step>, XPathError> {
        loop {
            steps.push(self.step()?);
            match self.peek_tok() {
                Tok::Slash => {
                    self.advance();
                }
                Tok::DoubleSlash => {
                    self.advance();
                    steps.push(descendant_or_self());
                }
                _ => return Ok(steps),
            }
        }
    }

    /// Step ::= AxisSpecifier NodeTest Predicate* | '.' | '..'
    fn step(&mut self) -> Result<Step, XPathError> {
        let axis = match self.peek_tok() {
            Tok::Dot => {
                self.advance();
                return Ok(Step::new(Axis::SelfAxis, NodeTest::Node));
            }
            Tok::DotDot => {
                self.advance();
                return Ok(Step::new(Axis::Parent, NodeTest::Node));
            }
            Tok::At => {
                self.advance();
                Axis::Attribute
            }
            Tok::AxisName(a) => {
                let a = *a;
                self.advance();
                self.expect(&Tok::ColonColon, "'::'")?;
                a
            }
            _ => Axis::Child,
        };
        let test = self.node_test()?;
        let predicates = self.predicates()?;
        Ok(Step {
            axis,
            test,
            predicates,
        })
    }

    fn node_test(&mut self) -> Result<NodeTest, XPathError> {
        let t = self.peek().clone();
        let test = match t.tok {
            Tok::Star => NodeTest::Any,
            Tok::NsStar(prefix) => NodeTest::NamespaceAny { prefix, pos: t.pos },
            Tok::Name(prefix, local) => NodeTest::Name {
                prefix,
                local,
                pos: t.pos,
            },
            Tok::NodeType(nt) => {
                self.advance();
                self.expect(&Tok::LParen, "'('")?;
                let test = match nt {
                    NodeType::Node => NodeTest::Node,
                    NodeType::Text => NodeTest::Text,
                    NodeType::Comment => NodeTest::Comment,
                    NodeType::ProcessingInstruction => {
                        if let Tok::Literal(s) = self.peek_tok() {
                            let s = s.clone();
                            self.advance();
                            NodeTest::ProcessingInstruction(Some(s))
                        } else {
                            NodeTest::ProcessingInstruction(None)
                        }
                    }
                };
                self.expect(&Tok::RParen, "')'")?;
                return Ok(test);
            }
            _ => return Err(self.unexpected("a node test")),
        };
        self.advance();
        Ok(test)
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, XPathError> {
        let mut preds = Vec::new();
        while self.eat(&Tok::LBracket) {
            preds.push(self.expr()?);
            self.expect(&Tok::RBracket, "']'")?;
        }
        Ok(preds)
    }

    /// PrimaryExpr ::= VariableReference | '(' Expr ')' | Literal | Number
    ///               | FunctionCall
    fn primary(&mut self) -> Result<Expr, XPathError> {
        let t = self.advance();
        match t.tok {
            Tok::Variable(name) => Ok(Expr::Variable { name, pos: t.pos }),
            Tok::Literal(s) => Ok(Expr::Literal(s)),
            Tok::Number(x) => Ok(Expr::Number(x)),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::FunctionName(name) => self.function_call(name, t.pos),
            _ => {
                // Not reachable from `path_expr`; report rather than panic.
                self.i = self.i.saturating_sub(1);
                Err(self.unexpected("an expression"))
            }
        }
    }

    fn function_call(&mut self, name: String, pos: usize) -> Result<Expr, XPathError> {
        let Some(sig) = signature(&name) else {
            return Err(XPathError::new(
                ErrorKind::UnknownFunction,
                pos,
                format!("unknown function {name}()"),
            ));
        };
        self.expect(&Tok::LParen, "'('")?;
        let mut args = Vec::new();
        let mut starts = Vec::new();
        if !self.eat(&Tok::RParen) {
            self.enter(1)?;
            loop {
                starts.push(self.pos());
                args.push(self.expr()?);
                if self.eat(&Tok::Comma) {
                    continue;
                }
                self.expect(&Tok::RParen, "',' or ')'")?;
                break;
            }
            self.depth -= 1;
        }
        sig.check_arity(&name, args.len(), pos)?;
        for (i, (a, start)) in args.iter().zip(starts).enumerate() {
            if sig.node_set_args.contains(&i) {
                require_node_set(a, start, &format!("argument {} of {name}()", i + 1))?;
            }
        }
        Ok(Expr::FunctionCall { name, args, pos })
    }
}

/// `(operator, operand)` pairs following a first operand.
type Chain = Vec<(BinaryOp, Expr)>;

/// Group the operator chain `first op1 e1 op2 e2 ...` by precedence,
/// starting at `level` (1 = `or`): operators of the lowest level split the
/// chain into operands of the next level. Recursion is bounded by the six
/// levels.
fn group(level: u8, first: Expr, rest: Chain) -> Expr {
    if rest.is_empty() || level > 6 {
        return first;
    }
    let mut head = Vec::new();
    let mut segments: Vec<(BinaryOp, Expr, Chain)> = Vec::new();
    for (op, e) in rest {
        if op.precedence() == level {
            segments.push((op, e, Vec::new()));
        } else {
            match segments.last_mut() {
                Some(last) => last.2.push((op, e)),
                None => head.push((op, e)),
            }
        }
    }
    let first = group(level + 1, first, head);
    if segments.is_empty() {
        return first;
    }
    Expr::Binary {
        first: Box::new(first),
        rest: segments
            .into_iter()
            .map(|(op, f, r)| (op, group(level + 1, f, r)))
            .collect(),
    }
}

fn descendant_or_self() -> Step {
    Step::new(Axis::DescendantOrSelf, NodeTest::Node)
}
