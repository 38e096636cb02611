//! Syntax tree for the expression language.
//!
//! Every node carries a [`Span`] of byte offsets into the parsed source so that
//! later stages (name resolution, type checking, lowering) can point errors at
//! the exact piece of text responsible.

use std::fmt;

/// A half-open byte range `start..end` into the source string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte covered by the span.
    pub start: usize,
    /// Byte offset one past the last byte covered by the span.
    pub end: usize,
}

impl Span {
    /// Creates a span covering `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// Returns the smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// Number of bytes covered by the span (zero for empty or inverted spans).
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An expression node together with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression this is.
    pub kind: ExprKind,
    /// Where the expression appears in the source (parentheses included for
    /// parenthesised expressions).
    pub span: Span,
}

/// The different kinds of expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Integer literal such as `12`.
    Int(i64),
    /// Floating point literal such as `1.0`, `.5` or `1e-5`.
    Float(f64),
    /// `true`/`True` or `false`/`False`.
    Bool(bool),
    /// The `None` literal (outside of an index, where it means a new axis).
    None,
    /// String literal, with escapes already resolved.
    Str(String),
    /// A bare identifier. `inf` and `nan` are ordinary names.
    Name(String),
    /// Tuple display: `()`, `(a,)`, `(a, b)`.
    Tuple(Vec<Expr>),
    /// Prefix operator application such as `-x`.
    Unary {
        /// The operator.
        op: UnaryOperator,
        /// The operand.
        operand: Box<Expr>,
    },
    /// Binary operator application such as `a + b` or `a < b`.
    Binary {
        /// The operator.
        op: BinaryOperator,
        /// Span of the operator token itself.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// Function call `func(args..., name=value...)`.
    Call {
        /// Name of the called function.
        func: String,
        /// Span of the function name.
        func_span: Span,
        /// Positional arguments, in order.
        args: Vec<Expr>,
        /// Keyword arguments as `(name, name span, value)`, in source order.
        kwargs: Vec<(String, Span, Expr)>,
    },
    /// Indexing or slicing `base[items...]`.
    Index {
        /// The indexed expression.
        base: Box<Expr>,
        /// The comma separated index items (at least one).
        items: Vec<IndexItem>,
    },
}

/// One comma separated item inside `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexItem {
    /// A plain index expression (integer, array, mask, ...).
    Expr(Expr),
    /// A slice `start:stop:step`; a literal `None` bound is stored as absent.
    Slice {
        /// Optional start bound.
        start: Option<Box<Expr>>,
        /// Optional stop bound.
        stop: Option<Box<Expr>>,
        /// Optional step.
        step: Option<Box<Expr>>,
        /// Span of the whole slice item.
        span: Span,
    },
    /// A bare `None`, inserting a new axis of length one.
    NewAxis(Span),
    /// `...`, standing for as many full slices as needed.
    Ellipsis(Span),
}

impl IndexItem {
    /// Span of this index item.
    pub fn span(&self) -> Span {
        match self {
            IndexItem::Expr(e) => e.span,
            IndexItem::Slice { span, .. } | IndexItem::NewAxis(span) | IndexItem::Ellipsis(span) => *span,
        }
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOperator {
    /// `-x`
    Neg,
    /// `+x`
    Plus,
    /// `~x` (bitwise / logical not)
    Invert,
}

impl UnaryOperator {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOperator::Neg => "-",
            UnaryOperator::Plus => "+",
            UnaryOperator::Invert => "~",
        }
    }
}

/// Binary (infix) operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOperator {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
    /// `@`
    MatMul,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl BinaryOperator {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOperator::Add => "+",
            BinaryOperator::Sub => "-",
            BinaryOperator::Mul => "*",
            BinaryOperator::Div => "/",
            BinaryOperator::FloorDiv => "//",
            BinaryOperator::Mod => "%",
            BinaryOperator::Pow => "**",
            BinaryOperator::MatMul => "@",
            BinaryOperator::BitAnd => "&",
            BinaryOperator::BitOr => "|",
            BinaryOperator::BitXor => "^",
            BinaryOperator::Eq => "==",
            BinaryOperator::Ne => "!=",
            BinaryOperator::Lt => "<",
            BinaryOperator::Le => "<=",
            BinaryOperator::Gt => ">",
            BinaryOperator::Ge => ">=",
        }
    }

    /// Whether this is one of the comparison operators `== != < <= > >=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOperator::Eq
                | BinaryOperator::Ne
                | BinaryOperator::Lt
                | BinaryOperator::Le
                | BinaryOperator::Gt
                | BinaryOperator::Ge
        )
    }
}

impl fmt::Display for UnaryOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl fmt::Display for BinaryOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

fn write_str_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

fn write_comma_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Prints a fully parenthesised canonical form, e.g. `((x * 2) + 1)`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Int(v) => write!(f, "{v}"),
            ExprKind::Float(v) => write!(f, "{v:?}"),
            ExprKind::Bool(true) => f.write_str("True"),
            ExprKind::Bool(false) => f.write_str("False"),
            ExprKind::None => f.write_str("None"),
            ExprKind::Str(s) => write_str_literal(f, s),
            ExprKind::Name(n) => f.write_str(n),
            ExprKind::Tuple(items) => {
                f.write_str("(")?;
                write_comma_list(f, items)?;
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            ExprKind::Unary { op, operand } => write!(f, "({op}{operand})"),
            ExprKind::Binary { op, lhs, rhs, .. } => write!(f, "({lhs} {op} {rhs})"),
            ExprKind::Call { func, args, kwargs, .. } => {
                write!(f, "{func}(")?;
                write_comma_list(f, args)?;
                for (i, (name, _, value)) in kwargs.iter().enumerate() {
                    if i > 0 || !args.is_empty() {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}={value}")?;
                }
                f.write_str(")")
            }
            ExprKind::Index { base, items } => {
                write!(f, "{base}[")?;
                write_comma_list(f, items)?;
                f.write_str("]")
            }
        }
    }
}

/// Prints an index item: `e`, `a:b`, `::c`, `None` or `...`.
impl fmt::Display for IndexItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexItem::Expr(e) => write!(f, "{e}"),
            IndexItem::Slice { start, stop, step, .. } => {
                if let Some(e) = start {
                    write!(f, "{e}")?;
                }
                f.write_str(":")?;
                if let Some(e) = stop {
                    write!(f, "{e}")?;
                }
                if let Some(e) = step {
                    write!(f, ":{e}")?;
                }
                Ok(())
            }
            IndexItem::NewAxis(_) => f.write_str("None"),
            IndexItem::Ellipsis(_) => f.write_str("..."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, start: usize) -> Expr {
        Expr { kind: ExprKind::Name(n.to_string()), span: Span::new(start, start + n.len()) }
    }

    #[test]
    fn span_helpers() {
        let a = Span::new(3, 5);
        let b = Span::new(7, 9);
        assert_eq!(a.to(b), Span::new(3, 9));
        assert_eq!(b.to(a), Span::new(3, 9));
        assert_eq!(a.len(), 2);
        assert!(!a.is_empty());
        assert!(Span::new(4, 4).is_empty());
        assert_eq!(Span::new(5, 4).len(), 0);
    }

    #[test]
    fn display_literals() {
        let lit = |kind| Expr { kind, span: Span::default() };
        assert_eq!(lit(ExprKind::Int(-3)).to_string(), "-3");
        assert_eq!(lit(ExprKind::Float(1.0)).to_string(), "1.0");
        assert_eq!(lit(ExprKind::Float(0.5)).to_string(), "0.5");
        assert_eq!(lit(ExprKind::Bool(true)).to_string(), "True");
        assert_eq!(lit(ExprKind::None).to_string(), "None");
        assert_eq!(lit(ExprKind::Str("a\"b\\".to_string())).to_string(), "\"a\\\"b\\\\\"");
        assert_eq!(lit(ExprKind::Tuple(vec![])).to_string(), "()");
        assert_eq!(lit(ExprKind::Tuple(vec![name("a", 1)])).to_string(), "(a,)");
    }

    #[test]
    fn display_compound() {
        let e = Expr {
            kind: ExprKind::Binary {
                op: BinaryOperator::Add,
                op_span: Span::new(2, 3),
                lhs: Box::new(name("a", 0)),
                rhs: Box::new(Expr {
                    kind: ExprKind::Unary { op: UnaryOperator::Neg, operand: Box::new(name("b", 5)) },
                    span: Span::new(4, 6),
                }),
            },
            span: Span::new(0, 6),
        };
        assert_eq!(e.to_string(), "(a + (-b))");
        let idx = Expr {
            kind: ExprKind::Index {
                base: Box::new(name("x", 0)),
                items: vec![
                    IndexItem::Slice {
                        start: None,
                        stop: None,
                        step: Some(Box::new(name("s", 0))),
                        span: Span::default(),
                    },
                    IndexItem::NewAxis(Span::default()),
                    IndexItem::Ellipsis(Span::default()),
                ],
            },
            span: Span::default(),
        };
        assert_eq!(idx.to_string(), "x[::s, None, ...]");
        assert!(BinaryOperator::Le.is_comparison());
        assert!(!BinaryOperator::BitOr.is_comparison());
    }
}
