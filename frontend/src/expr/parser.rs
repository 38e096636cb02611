//! Recursive descent / precedence climbing parser with Python precedence.
//!
//! Precedence, lowest to highest:
//! comparisons (non-associative, no chaining) < `|` < `^` < `&` < `+ -`
//! < `* / // % @` < unary `- + ~` < `**` (right-assoc, the right operand may
//! be unary) < postfix (calls, indexing).
//!
//! Recursion is bounded by [`MAX_NESTING`] and the height of the produced tree
//! by [`MAX_TREE_DEPTH`], so no input can overflow the stack. Internally nodes
//! and errors are passed around boxed and error construction lives in cold
//! helpers, which keeps the per-level stack usage small even in debug builds.

use super::ast::{BinaryOperator, Expr, ExprKind, IndexItem, Span, UnaryOperator};
use super::error::{column, ExprError};
use super::lexer::{tokenize, Token, TokenKind};

/// Maximum syntactic nesting (parentheses, brackets, call arguments, prefix
/// operators, `**` chains) before the parser gives up with an error instead of
/// recursing further.
pub const MAX_NESTING: usize = 256;

/// Maximum height of the produced syntax tree. Flat chains such as
/// `a + b + c + ...` build deep left-leaning trees without parser recursion;
/// this bound keeps later recursive passes (and `Drop`) safe.
pub const MAX_TREE_DEPTH: usize = 512;

/// Parses one expression from `source`.
///
/// The whole input must be a single expression; trailing tokens are an error.
///
/// # Errors
///
/// Returns an [`ExprError`] (with the span of the offending text) for any
/// lexical or syntax error, and for input nested deeper than [`MAX_NESTING`]
/// or producing a tree taller than [`MAX_TREE_DEPTH`].
pub fn parse(source: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(source)?;
    let eof = Token { kind: TokenKind::Eof, span: Span::new(source.len(), source.len()) };
    let mut parser = Parser { source, tokens, pos: 0, nesting: 0, eof };
    let node = parser.parse_expr().map_err(|e| *e)?;
    if parser.peek().kind != TokenKind::Eof {
        return Err(*parser.unexpected());
    }
    Ok(*node.expr)
}

/// A boxed expression plus the height of its tree (a leaf has height 1).
struct Node {
    expr: Box<Expr>,
    height: usize,
}

type PResult<T> = Result<T, Box<ExprError>>;

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
    eof: Token,
}

/// Binding power of the left-associative binary operators handled by
/// [`Parser::parse_binary`].
fn binary_op(kind: &TokenKind) -> Option<(BinaryOperator, u8)> {
    Some(match kind {
        TokenKind::Pipe => (BinaryOperator::BitOr, 1),
        TokenKind::Caret => (BinaryOperator::BitXor, 2),
        TokenKind::Amp => (BinaryOperator::BitAnd, 3),
        TokenKind::Plus => (BinaryOperator::Add, 4),
        TokenKind::Minus => (BinaryOperator::Sub, 4),
        TokenKind::Star => (BinaryOperator::Mul, 5),
        TokenKind::Slash => (BinaryOperator::Div, 5),
        TokenKind::DoubleSlash => (BinaryOperator::FloorDiv, 5),
        TokenKind::Percent => (BinaryOperator::Mod, 5),
        TokenKind::At => (BinaryOperator::MatMul, 5),
        _ => return None,
    })
}

fn comparison_op(kind: &TokenKind) -> Option<BinaryOperator> {
    Some(match kind {
        TokenKind::EqEq => BinaryOperator::Eq,
        TokenKind::NotEq => BinaryOperator::Ne,
        TokenKind::Lt => BinaryOperator::Lt,
        TokenKind::Le => BinaryOperator::Le,
        TokenKind::Gt => BinaryOperator::Gt,
        TokenKind::Ge => BinaryOperator::Ge,
        _ => return None,
    })
}

fn unary_op(kind: &TokenKind) -> Option<UnaryOperator> {
    Some(match kind {
        TokenKind::Minus => UnaryOperator::Neg,
        TokenKind::Plus => UnaryOperator::Plus,
        TokenKind::Tilde => UnaryOperator::Invert,
        _ => return None,
    })
}

/// A literal `None` (as a slice bound or index item) is reported as `None`.
fn non_none(node: Node) -> Option<Box<Expr>> {
    match node.expr.kind {
        ExprKind::None => None,
        _ => Some(node.expr),
    }
}

impl<'a> Parser<'a> {
    // ----- token helpers -------------------------------------------------

    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&self.eof)
    }

    fn peek_kind_at(&self, offset: usize) -> &TokenKind {
        &self.tokens.get(self.pos + offset).unwrap_or(&self.eof).kind
    }

    fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    /// Advances past the current token and returns its span.
    fn bump(&mut self) -> Span {
        let span = self.peek().span;
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        span
    }

    fn text(&self, span: Span) -> &'a str {
        self.source.get(span.start..span.end).unwrap_or("").trim()
    }

    fn node(&self, kind: ExprKind, span: Span, child_height: usize) -> PResult<Node> {
        let height = child_height + 1;
        if height > MAX_TREE_DEPTH {
            return Err(self.too_deep(span, MAX_TREE_DEPTH));
        }
        Ok(Node { expr: Box::new(Expr { kind, span }), height })
    }

    fn binary(&self, op: BinaryOperator, op_span: Span, lhs: Node, rhs: Node) -> PResult<Node> {
        let span = lhs.expr.span.to(rhs.expr.span);
        let height = lhs.height.max(rhs.height);
        let kind = ExprKind::Binary { op, op_span, lhs: lhs.expr, rhs: rhs.expr };
        self.node(kind, span, height)
    }

    /// Consumes the closing `close` of a group whose opener is at `open`.
    fn expect_close(&mut self, close: TokenKind, open: Span) -> PResult<Span> {
        if self.at(&close) {
            Ok(self.bump())
        } else {
            Err(self.unclosed(close, open))
        }
    }

    // ----- cold error constructors ---------------------------------------

    /// Error for the current token being unexpected here.
    #[cold]
    #[inline(never)]
    fn unexpected(&self) -> Box<ExprError> {
        let token = self.peek();
        if token.kind == TokenKind::Eof {
            return Box::new(
                ExprError::new("unexpected end of input", token.span)
                    .with_hint("the expression is incomplete"),
            );
        }
        let err = ExprError::new(format!("unexpected token `{}`", self.text(token.span)), token.span);
        Box::new(match &token.kind {
            TokenKind::Name(n) if n == "and" => err.with_hint("use `&` (and parenthesize operands)"),
            TokenKind::Name(n) if n == "or" => err.with_hint("use `|` (and parenthesize operands)"),
            TokenKind::Name(n) if n == "not" => err.with_hint("use `~` for logical not"),
            TokenKind::Assign => err.with_hint("use `==` to compare"),
            _ => err,
        })
    }

    #[cold]
    #[inline(never)]
    fn unclosed(&self, close: TokenKind, open: Span) -> Box<ExprError> {
        let (open_text, close_text) = match close {
            TokenKind::RBracket => ("[", "]"),
            _ => ("(", ")"),
        };
        let found = self.peek();
        let hint = if found.kind == TokenKind::Eof {
            "unexpected end of input".to_string()
        } else {
            format!("found `{}`", self.text(found.span))
        };
        Box::new(
            ExprError::new(
                format!(
                    "expected `{close_text}` to close `{open_text}` opened at column {}",
                    column(self.source, open.start)
                ),
                found.span,
            )
            .with_hint(hint),
        )
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self, span: Span, limit: usize) -> Box<ExprError> {
        Box::new(
            ExprError::new(format!("expression is too deeply nested (more than {limit} levels)"), span)
                .with_hint("split it into smaller expressions"),
        )
    }

    /// Called with the second comparison operator as the current token.
    #[cold]
    #[inline(never)]
    fn chained_comparison(&mut self, op: BinaryOperator, lhs: Span, mid: Span) -> Box<ExprError> {
        let op2 = comparison_op(&self.peek().kind).unwrap_or(op);
        let op2_span = self.bump();
        let a = self.text(lhs);
        let b = self.text(mid);
        let hint = match self.parse_binary(1) {
            Ok(c) => format!("parenthesize: ({a} {op} {b}) & ({b} {op2} {})", self.text(c.expr.span)),
            Err(_) => "parenthesize: (a < b) & (b < c)".to_string(),
        };
        Box::new(ExprError::new("chained comparisons are not supported", op2_span).with_hint(hint))
    }

    #[cold]
    #[inline(never)]
    fn not_callable(&self) -> Box<ExprError> {
        Box::new(
            ExprError::new("only plain function names can be called", self.peek().span)
                .with_hint("write the call as `name(...)`"),
        )
    }

    #[cold]
    #[inline(never)]
    fn duplicate_keyword(name: &str, span: Span) -> Box<ExprError> {
        Box::new(ExprError::new(format!("duplicate keyword argument `{name}`"), span))
    }

    #[cold]
    #[inline(never)]
    fn positional_after_keyword(keyword: &str, span: Span) -> Box<ExprError> {
        Box::new(
            ExprError::new("positional argument follows keyword argument", span)
                .with_hint(format!("move it before `{keyword}=` or pass it by keyword")),
        )
    }

    // ----- grammar -------------------------------------------------------

    /// expr := binary [compare_op binary]   (no chaining)
    fn parse_expr(&mut self) -> PResult<Node> {
        let lhs = self.parse_binary(1)?;
        let Some(op) = comparison_op(&self.peek().kind) else {
            return Ok(lhs);
        };
        let op_span = self.bump();
        let rhs = self.parse_binary(1)?;
        if comparison_op(&self.peek().kind).is_some() {
            return Err(self.chained_comparison(op, lhs.expr.span, rhs.expr.span));
        }
        self.binary(op, op_span, lhs, rhs)
    }

    /// Precedence climbing over the left-associative operators
    /// `| ^ & + - * / // % @`.
    fn parse_binary(&mut self, min_power: u8) -> PResult<Node> {
        let mut lhs = self.parse_unary()?;
        while let Some((op, power)) = binary_op(&self.peek().kind) {
            if power < min_power {
                break;
            }
            let op_span = self.bump();
            let rhs = self.parse_binary(power + 1)?;
            lhs = self.binary(op, op_span, lhs, rhs)?;
        }
        Ok(lhs)
    }

    /// unary := ('-' | '+' | '~') unary | power
    ///
    /// Every nested expression goes through here, so this is where the
    /// recursion depth is limited.
    fn parse_unary(&mut self) -> PResult<Node> {
        if self.nesting >= MAX_NESTING {
            return Err(self.too_deep(self.peek().span, MAX_NESTING));
        }
        self.nesting += 1;
        let result = match unary_op(&self.peek().kind) {
            Some(op) => self.parse_prefixed(op),
            None => self.parse_power(),
        };
        self.nesting -= 1;
        result
    }

    fn parse_prefixed(&mut self, op: UnaryOperator) -> PResult<Node> {
        let op_span = self.bump();
        let operand = self.parse_unary()?;
        let span = op_span.to(operand.expr.span);
        let height = operand.height;
        let kind = ExprKind::Unary { op, operand: operand.expr };
        self.node(kind, span, height)
    }

    /// power := primary ('[' items ']')* ['**' unary]
    fn parse_power(&mut self) -> PResult<Node> {
        let mut base = self.parse_primary()?;
        while self.at(&TokenKind::LBracket) {
            base = self.parse_index(base)?;
        }
        if self.at(&TokenKind::LParen) {
            return Err(self.not_callable());
        }
        if !self.at(&TokenKind::DoubleStar) {
            return Ok(base);
        }
        let op_span = self.bump();
        // The exponent is a unary expression: `2**-1`; `a**b**c` nests right.
        let exponent = self.parse_unary()?;
        self.binary(BinaryOperator::Pow, op_span, base, exponent)
    }

    /// Dispatch only: the work happens in helpers so that this frame, which
    /// sits on every level of the recursion, stays small.
    fn parse_primary(&mut self) -> PResult<Node> {
        match self.peek().kind {
            TokenKind::LParen => self.parse_paren(),
            TokenKind::Name(_) if *self.peek_kind_at(1) == TokenKind::LParen => self.parse_call(),
            _ => self.parse_atom(),
        }
    }

    /// Literal or plain name.
    fn parse_atom(&mut self) -> PResult<Node> {
        let span = self.peek().span;
        let kind = match &self.peek().kind {
            TokenKind::Int(v) => ExprKind::Int(*v),
            TokenKind::Float(v) => ExprKind::Float(*v),
            TokenKind::Bool(v) => ExprKind::Bool(*v),
            TokenKind::None => ExprKind::None,
            TokenKind::Str(s) => ExprKind::Str(s.clone()),
            TokenKind::Name(name) => ExprKind::Name(name.clone()),
            _ => return Err(self.unexpected()),
        };
        self.bump();
        self.node(kind, span, 0)
    }

    /// `()`, `(a)`, `(a,)`, `(a, b, ...)`; the current token is the `(`.
    fn parse_paren(&mut self) -> PResult<Node> {
        let open = self.bump();
        let mut items: Vec<Expr> = Vec::new();
        let mut height = 0;
        let mut saw_comma = false;
        while !self.at(&TokenKind::RParen) {
            let item = self.parse_expr()?;
            height = height.max(item.height);
            Self::push_expr(&mut items, item);
            if !self.at(&TokenKind::Comma) {
                break;
            }
            self.bump();
            saw_comma = true;
        }
        let span = open.to(self.expect_close(TokenKind::RParen, open)?);
        self.finish_paren(items, saw_comma, span, height)
    }

    fn finish_paren(
        &self,
        mut items: Vec<Expr>,
        saw_comma: bool,
        span: Span,
        height: usize,
    ) -> PResult<Node> {
        if !saw_comma && items.len() == 1 {
            // Plain grouping: keep the inner node, widen its span to the parens.
            if let Some(expr) = items.pop() {
                let mut expr = Box::new(expr);
                expr.span = span;
                return Ok(Node { expr, height });
            }
        }
        self.node(ExprKind::Tuple(items), span, height)
    }

    /// `name(args..., kw=value...)`; the current token is the name.
    fn parse_call(&mut self) -> PResult<Node> {
        let func_span = self.bump();
        let open = self.bump();
        let mut args: Vec<Expr> = Vec::new();
        let mut kwargs: Vec<(String, Span, Expr)> = Vec::new();
        let mut height = 0;
        while !self.at(&TokenKind::RParen) {
            let keyword = match (&self.peek().kind, self.peek_kind_at(1)) {
                (TokenKind::Name(name), TokenKind::Assign) => Some(name.clone()),
                _ => None,
            };
            if let Some(name) = keyword {
                let name_span = self.bump();
                self.bump();
                if kwargs.iter().any(|(k, _, _)| *k == name) {
                    return Err(Self::duplicate_keyword(&name, name_span));
                }
                let value = self.parse_expr()?;
                height = height.max(value.height);
                Self::push_kwarg(&mut kwargs, name, name_span, value);
            } else {
                let arg = self.parse_expr()?;
                if let Some((name, _, _)) = kwargs.last() {
                    return Err(Self::positional_after_keyword(name, arg.expr.span));
                }
                height = height.max(arg.height);
                Self::push_expr(&mut args, arg);
            }
            if !self.at(&TokenKind::Comma) {
                break;
            }
            self.bump();
        }
        let span = func_span.to(self.expect_close(TokenKind::RParen, open)?);
        self.finish_call(func_span, args, kwargs, span, height)
    }

    fn finish_call(
        &self,
        func_span: Span,
        args: Vec<Expr>,
        kwargs: Vec<(String, Span, Expr)>,
        span: Span,
        height: usize,
    ) -> PResult<Node> {
        let kind = ExprKind::Call { func: self.text(func_span).to_string(), func_span, args, kwargs };
        self.node(kind, span, height)
    }

    /// `base[item, ...]`; the current token is the `[`.
    fn parse_index(&mut self, base: Node) -> PResult<Node> {
        let open = self.bump();
        let mut items = Vec::new();
        let mut height = base.height;
        loop {
            if self.at(&TokenKind::RBracket) && !items.is_empty() {
                break;
            }
            self.parse_index_item(&mut items, &mut height)?;
            if !self.at(&TokenKind::Comma) {
                break;
            }
            self.bump();
        }
        let close = self.expect_close(TokenKind::RBracket, open)?;
        self.finish_index(base, items, close, height)
    }

    fn finish_index(&self, base: Node, items: Vec<IndexItem>, close: Span, height: usize) -> PResult<Node> {
        let span = base.expr.span.to(close);
        let kind = ExprKind::Index { base: base.expr, items };
        self.node(kind, span, height)
    }

    /// Parses an optional slice bound: absent when the next token ends it.
    /// A literal `None` bound is normalised to absent.
    fn parse_slice_bound(&mut self, height: &mut usize) -> PResult<Option<Box<Expr>>> {
        if matches!(self.peek().kind, TokenKind::Colon | TokenKind::Comma | TokenKind::RBracket) {
            return Ok(None);
        }
        let node = self.parse_expr()?;
        *height = (*height).max(node.height);
        Ok(non_none(node))
    }

    /// Parses one index item into `items`; raises `height` to the tallest
    /// sub-expression seen.
    fn parse_index_item(&mut self, items: &mut Vec<IndexItem>, height: &mut usize) -> PResult<()> {
        let first = self.peek().span;
        if self.at(&TokenKind::Ellipsis) {
            self.bump();
            Self::push_item(items, None, None, None, first, true);
            return Ok(());
        }
        let start = if self.at(&TokenKind::Colon) {
            None
        } else {
            let node = self.parse_expr()?;
            *height = (*height).max(node.height);
            if !self.at(&TokenKind::Colon) {
                Self::push_plain_item(items, node);
                return Ok(());
            }
            non_none(node)
        };
        // Now at the first `:`.
        let colon_end = self.bump().end;
        let stop = self.parse_slice_bound(height)?;
        let mut step = None;
        let mut step_colon_end = None;
        if self.at(&TokenKind::Colon) {
            step_colon_end = Some(self.bump().end);
            step = self.parse_slice_bound(height)?;
        }
        let end = step
            .as_ref()
            .map(|e| e.span.end)
            .or(step_colon_end)
            .or(stop.as_ref().map(|e| e.span.end))
            .unwrap_or(colon_end);
        Self::push_item(items, start, stop, step, Span::new(first.start, end), false);
        Ok(())
    }

    // The `push_*` helpers build large values in their own short-lived frames
    // instead of in the frames of the recursive functions.

    fn push_plain_item(items: &mut Vec<IndexItem>, node: Node) {
        let span = node.expr.span;
        items.push(match non_none(node) {
            Some(expr) => IndexItem::Expr(*expr),
            None => IndexItem::NewAxis(span),
        });
    }

    fn push_item(
        items: &mut Vec<IndexItem>,
        start: Option<Box<Expr>>,
        stop: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
        span: Span,
        ellipsis: bool,
    ) {
        items.push(if ellipsis {
            IndexItem::Ellipsis(span)
        } else {
            IndexItem::Slice { start, stop, step, span }
        });
    }

    fn push_expr(exprs: &mut Vec<Expr>, node: Node) {
        exprs.push(*node.expr);
    }

    fn push_kwarg(kwargs: &mut Vec<(String, Span, Expr)>, name: String, span: Span, value: Node) {
        kwargs.push((name, span, *value.expr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and prints the canonical fully parenthesised form.
    fn p(src: &str) -> String {
        match parse(src) {
            Ok(e) => e.to_string(),
            Err(e) => panic!("parse error for {src:?}:\n{}", e.render(src)),
        }
    }

    fn ok(src: &str) -> Expr {
        match parse(src) {
            Ok(e) => e,
            Err(e) => panic!("parse error for {src:?}:\n{}", e.render(src)),
        }
    }

    fn err(src: &str) -> ExprError {
        match parse(src) {
            Ok(e) => panic!("expected an error for {src:?}, got {e}"),
            Err(e) => e,
        }
    }

    #[test]
    fn precedence_levels() {
        assert_eq!(p("a == b | c"), "(a == (b | c))");
        assert_eq!(p("a | b ^ c"), "(a | (b ^ c))");
        assert_eq!(p("a ^ b & c"), "(a ^ (b & c))");
        assert_eq!(p("a & b + c"), "(a & (b + c))");
        assert_eq!(p("a + b * c"), "(a + (b * c))");
        assert_eq!(p("a * -b"), "(a * (-b))");
        assert_eq!(p("-a * b"), "((-a) * b)");
        assert_eq!(p("-x**2"), "(-(x ** 2))");
        assert_eq!(p("2**-1"), "(2 ** (-1))");
        assert_eq!(p("~a ** ~b"), "(~(a ** (~b)))");
        assert_eq!(p("x[0] ** 2"), "(x[0] ** 2)");
        assert_eq!(p("-f(x)[1]"), "(-f(x)[1])");
        assert_eq!(p("x > 0 & y"), "(x > (0 & y))");
        assert_eq!(p("a | b == c ^ d"), "((a | b) == (c ^ d))");
        assert_eq!(p("a + b * c ** d - e"), "((a + (b * (c ** d))) - e)");
        assert_eq!(p("exp(x*2+1)*y - x"), "((exp(((x * 2) + 1)) * y) - x)");
        for (src, sym) in [
            ("a == b", "=="),
            ("a != b", "!="),
            ("a < b", "<"),
            ("a <= b", "<="),
            ("a > b", ">"),
            ("a >= b", ">="),
            ("a / b", "/"),
            ("a // b", "//"),
            ("a % b", "%"),
            ("a @ b", "@"),
        ] {
            assert_eq!(p(src), format!("(a {sym} b)"));
        }
        assert_eq!(p("+a"), "(+a)");
        assert_eq!(p("- - a"), "(-(-a))");
    }

    #[test]
    fn associativity() {
        assert_eq!(p("a - b - c"), "((a - b) - c)");
        assert_eq!(p("a / b * c // d % e @ f"), "(((((a / b) * c) // d) % e) @ f)");
        assert_eq!(p("a | b | c"), "((a | b) | c)");
        assert_eq!(p("a ** b ** c"), "(a ** (b ** c))");
        assert_eq!(p("-2 ** -3 ** 2"), "(-(2 ** (-(3 ** 2))))");
        assert_eq!(p("(a - b) - (c)"), "((a - b) - c)");
        assert_eq!(p("a - (b - c)"), "(a - (b - c))");
    }

    #[test]
    fn chained_comparison_is_an_error() {
        let e = err("a < b < c");
        assert_eq!(e.message, "chained comparisons are not supported");
        assert_eq!(e.span, Span::new(6, 7));
        assert_eq!(e.hint.as_deref(), Some("parenthesize: (a < b) & (b < c)"));
        let e = err("0 <= x+1 == y");
        assert_eq!(e.hint.as_deref(), Some("parenthesize: (0 <= x+1) & (x+1 == y)"));
        let e = err("a < b < ");
        assert_eq!(e.hint.as_deref(), Some("parenthesize: (a < b) & (b < c)"));
        // Parenthesised comparisons are fine.
        assert_eq!(p("(a < b) & (b < c)"), "((a < b) & (b < c))");
        assert_eq!(p("(a < b) == c"), "((a < b) == c)");
    }

    #[test]
    fn calls() {
        assert_eq!(p("f()"), "f()");
        assert_eq!(p("f(a, b)"), "f(a, b)");
        assert_eq!(p("sum(x, axis=0, keepdims=True)"), "sum(x, axis=0, keepdims=True)");
        assert_eq!(p("f(kw=None,)"), "f(kw=None)");
        assert_eq!(p("f(a, )"), "f(a)");
        assert_eq!(p("zeros((2, 3), device=\"cpu\")"), "zeros((2, 3), device=\"cpu\")");
        assert_eq!(p("f(g(x), -1)"), "f(g(x), (-1))");
        let e = ok("f(a, k = b)");
        match e.kind {
            ExprKind::Call { func, func_span, args, kwargs } => {
                assert_eq!(func, "f");
                assert_eq!(func_span, Span::new(0, 1));
                assert_eq!(args.len(), 1);
                assert_eq!(kwargs.len(), 1);
                assert_eq!(kwargs[0].0, "k");
                assert_eq!(kwargs[0].1, Span::new(5, 6));
                assert_eq!(kwargs[0].2.span, Span::new(9, 10));
            }
            other => panic!("not a call: {other:?}"),
        }
        assert_eq!(e.span, Span::new(0, 11));
    }

    #[test]
    fn call_errors() {
        let e = err("f(k=1, x)");
        assert_eq!(e.message, "positional argument follows keyword argument");
        assert_eq!(e.span, Span::new(7, 8));
        let e = err("f(k=1, j=2, k=3)");
        assert_eq!(e.message, "duplicate keyword argument `k`");
        assert_eq!(e.span, Span::new(12, 13));
        let e = err("(f)(x)");
        assert_eq!(e.message, "only plain function names can be called");
        assert!(parse("f(x)(y)").is_err());
        assert!(parse("x[0](1)").is_err());
        assert!(parse("f(a b)").is_err());
        let e = err("f(1=2)");
        assert_eq!(e.message, "expected `)` to close `(` opened at column 2");
        assert!(parse("f(,)").is_err());
    }

    #[test]
    fn tuples_and_grouping() {
        assert_eq!(p("()"), "()");
        assert_eq!(p("(a,)"), "(a,)");
        assert_eq!(p("(a)"), "a");
        assert_eq!(p("((a))"), "a");
        assert_eq!(p("(a, b)"), "(a, b)");
        assert_eq!(p("(a, b,)"), "(a, b)");
        assert_eq!(p("((1, 2), (0, 0))"), "((1, 2), (0, 0))");
        assert_eq!(p("((1,),)"), "((1,),)");
        assert_eq!(p("(a + b) * c"), "((a + b) * c)");
        assert!(matches!(ok("()").kind, ExprKind::Tuple(ref v) if v.is_empty()));
        assert!(matches!(ok("(1,)").kind, ExprKind::Tuple(ref v) if v.len() == 1));
        assert!(parse("(,)").is_err());
        assert!(parse("(a,,)").is_err());
        assert!(parse("a, b").is_err());
    }

    #[test]
    fn index_forms() {
        assert_eq!(p("x[i]"), "x[i]");
        assert_eq!(p("x[a:b]"), "x[a:b]");
        assert_eq!(p("x[a:b:c]"), "x[a:b:c]");
        assert_eq!(p("x[::-1]"), "x[::(-1)]");
        assert_eq!(p("x[:]"), "x[:]");
        assert_eq!(p("x[::]"), "x[:]");
        assert_eq!(p("x[1:]"), "x[1:]");
        assert_eq!(p("x[:2]"), "x[:2]");
        assert_eq!(p("x[:, None]"), "x[:, None]");
        assert_eq!(p("x[..., 0]"), "x[..., 0]");
        assert_eq!(p("x[1:10:2, 3]"), "x[1:10:2, 3]");
        assert_eq!(p("x[mask]"), "x[mask]");
        assert_eq!(p("x[x > 0]"), "x[(x > 0)]");
        assert_eq!(p("x[0,]"), "x[0]");
        assert_eq!(p("x[None:5]"), "x[:5]");
        assert_eq!(p("x[0][1]"), "x[0][1]");
        assert_eq!(p("f(x)[0]"), "f(x)[0]");
        assert_eq!(p("(a + b)[0]"), "(a + b)[0]");
        assert_eq!(p("x[i + 1 : n - 1]"), "x[(i + 1):(n - 1)]");

        let e = ok("x[:, None, ..., 1:2]");
        let ExprKind::Index { base, items } = e.kind else {
            panic!("not an index");
        };
        assert_eq!(base.span, Span::new(0, 1));
        assert_eq!(items.len(), 4);
        assert_eq!(items[0], IndexItem::Slice { start: None, stop: None, step: None, span: Span::new(2, 3) });
        assert_eq!(items[1], IndexItem::NewAxis(Span::new(5, 9)));
        assert_eq!(items[2], IndexItem::Ellipsis(Span::new(11, 14)));
        assert_eq!(items[3].span(), Span::new(16, 19));
        assert_eq!(e.span, Span::new(0, 20));

        assert!(parse("x[]").is_err());
        assert!(parse("x[1:2:3:4]").is_err());
        assert!(parse("x[,]").is_err());
        let e = err("x[1, 2");
        assert_eq!(e.message, "expected `]` to close `[` opened at column 2");
        assert_eq!(e.span, Span::new(6, 6));
    }

    #[test]
    fn literals() {
        assert_eq!(ok("12").kind, ExprKind::Int(12));
        assert_eq!(ok("1.0").kind, ExprKind::Float(1.0));
        assert_eq!(ok(".5").kind, ExprKind::Float(0.5));
        assert_eq!(ok("1e-5").kind, ExprKind::Float(1e-5));
        assert_eq!(ok("2.5E+3").kind, ExprKind::Float(2500.0));
        assert_eq!(ok("1.").kind, ExprKind::Float(1.0));
        assert_eq!(ok("true").kind, ExprKind::Bool(true));
        assert_eq!(ok("False").kind, ExprKind::Bool(false));
        assert_eq!(ok("None").kind, ExprKind::None);
        assert_eq!(ok("inf").kind, ExprKind::Name("inf".into()));
        assert_eq!(ok("nan").kind, ExprKind::Name("nan".into()));
        assert_eq!(ok("'cpu'").kind, ExprKind::Str("cpu".into()));
        assert_eq!(ok(r#""a\"b""#).kind, ExprKind::Str("a\"b".into()));
        assert_eq!(p("-9223372036854775807"), "(-9223372036854775807)");
        let e = err("x + 99999999999999999999");
        assert!(e.message.contains("too large"));
        assert_eq!(e.span, Span::new(4, 24));
        assert_eq!(err("1e").message, "invalid number `1e`");
    }

    #[test]
    fn spans() {
        let src = " a + b*c ";
        let e = ok(src);
        assert_eq!(e.span, Span::new(1, 8));
        let ExprKind::Binary { op, op_span, lhs, rhs } = e.kind else {
            panic!("not binary");
        };
        assert_eq!(op, BinaryOperator::Add);
        assert_eq!(op_span, Span::new(3, 4));
        assert_eq!(lhs.span, Span::new(1, 2));
        assert_eq!(rhs.span, Span::new(5, 8));
        let ExprKind::Binary { op_span, .. } = rhs.kind else {
            panic!("not binary");
        };
        assert_eq!(op_span, Span::new(6, 7));

        // Grouping widens the span to the parentheses.
        assert_eq!(ok("(a)").span, Span::new(0, 3));
        assert_eq!(ok("-x ** 2").span, Span::new(0, 7));
        assert_eq!(ok("(1, 2)").span, Span::new(0, 6));
        assert_eq!(ok("x[1:2]").span, Span::new(0, 6));
        let e = ok("x ** 2");
        let ExprKind::Binary { op_span, .. } = e.kind else {
            panic!("not binary");
        };
        assert_eq!(op_span, Span::new(2, 4));
    }

    #[test]
    fn error_messages() {
        let e = err("exp(x");
        assert_eq!(e.message, "expected `)` to close `(` opened at column 4");
        assert_eq!(e.span, Span::new(5, 5));
        assert_eq!(
            e.render("exp(x"),
            "expected `)` to close `(` opened at column 4\n  exp(x\n       ^\n  hint: unexpected end of input"
        );
        let e = err("a + ");
        assert_eq!(e.message, "unexpected end of input");
        assert_eq!(e.span, Span::new(4, 4));
        assert_eq!(err("").message, "unexpected end of input");
        let e = err("a ]");
        assert_eq!(e.message, "unexpected token `]`");
        assert_eq!(e.span, Span::new(2, 3));
        assert_eq!(err("a $").message, "unexpected character `$`");
        assert_eq!(err("a and b").message, "unexpected token `and`");
        assert!(err("a = b").hint.is_some());
        let e = err("(a b)");
        assert_eq!(e.message, "expected `)` to close `(` opened at column 1");
        assert_eq!(e.span, Span::new(3, 4));
        let e = err("'é' + (b");
        assert_eq!(e.message, "expected `)` to close `(` opened at column 7");
    }

    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        // Run with a modest stack to make sure the nesting limit is low enough
        // for debug builds on threads with small stacks.
        let handle = std::thread::Builder::new().stack_size(1 << 20).spawn(f).map(|h| h.join());
        assert!(matches!(handle, Ok(Ok(()))));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        on_small_stack(|| {
            let deep = "(".repeat(100_000);
            let e = err(&deep);
            assert!(e.message.contains("too deeply nested"), "{}", e.message);
            let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
            assert!(parse(&deep).is_err());
            assert!(parse(&"-".repeat(100_000)).is_err());
            assert!(parse(&format!("{}x", "x[".repeat(100_000))).is_err());
            assert!(parse(&format!("x{}", "**x".repeat(100_000))).is_err());
            assert!(parse(&format!("x{}", "[0]".repeat(100_000))).is_err());
            assert!(parse(&format!("x{}", "+x".repeat(100_000))).is_err());
            assert!(parse(&format!("f({})", "f(".repeat(100_000))).is_err());
            // Just under the limits parses fine.
            let n = MAX_NESTING - 1;
            let ok_deep = format!("{}x{}", "(".repeat(n), ")".repeat(n));
            assert!(parse(&ok_deep).is_ok());
            let ok_deep = format!("{}x{}", "f(".repeat(n - 1), ")".repeat(n - 1));
            assert!(parse(&ok_deep).is_ok());
            let ok_deep = format!("{}0{}", "x[".repeat(n - 1), "]".repeat(n - 1));
            assert!(parse(&ok_deep).is_ok());
            let ok_deep = format!("{}x{}", "(".repeat(n), ",)".repeat(n));
            assert!(parse(&ok_deep).is_ok());
            let chain = format!("x{}", "+x".repeat(MAX_TREE_DEPTH - 1));
            let e = ok(&chain);
            assert!(e.to_string().len() > MAX_TREE_DEPTH);
            let chain = format!("x{}", "+x".repeat(MAX_TREE_DEPTH));
            assert!(parse(&chain).is_err());
        });
    }

    #[test]
    fn garbage_never_panics() {
        let cases = [
            "",
            " ",
            "(",
            ")",
            "[",
            "]",
            "x[",
            "x]",
            "f(",
            "f(,",
            "f(a,,b)",
            "a +",
            "+",
            "* a",
            "a * * b",
            "a b",
            "1 2",
            "x[1:2:3:4]",
            "x[::::]",
            "x[...",
            "....",
            "..",
            ".",
            "(a,",
            "(a, b",
            "((a)",
            "f(a=)",
            "f(=a)",
            "f(a)=b",
            "a == ",
            "a < b < c < d",
            "x[:, None",
            "\"unterminated",
            "'a\\",
            "1e+",
            "0x10",
            "1_000",
            "a !b",
            "a => b",
            "#",
            "`",
            "a\u{0}b",
            "é",
            "x[None None]",
            "True False",
            "f(**kw)",
            "f(*a)",
            "lambda x: x",
            "x if y else z",
            "a; b",
            "a.b",
            "f(x)(y)",
            "()()",
            "[1, 2]",
            "{1: 2}",
            "a <> b",
            "a << b",
            "a >> b",
            "a && b",
            "a || b",
            "not a",
            "x[]",
            "1.2.3",
            "1abc",
            "f(a=1, a=2)",
            "f(a=1, b)",
            "a ** ",
            "-",
            "~",
            "x[1:2:]:",
            "99999999999999999999",
            "a,b",
            "(,)",
            "x[,]",
            "f(,)",
        ];
        for src in cases {
            let result = std::panic::catch_unwind(|| parse(src));
            match result {
                Ok(Err(e)) => {
                    // Rendering must not panic either.
                    let _ = e.render(src);
                    let _ = e.to_string();
                }
                Ok(Ok(e)) => panic!("{src:?} unexpectedly parsed as {e}"),
                Err(_) => panic!("{src:?} panicked"),
            }
        }
    }

    #[test]
    fn every_prefix_of_valid_input_is_handled() {
        let src = "where(x[..., ::-1, None] >= 2**-1.5e3, f(a, k=(1, 'é')), -y)";
        assert!(parse(src).is_ok());
        for (i, _) in src.char_indices() {
            let prefix = &src[..i];
            if let Err(e) = parse(prefix) {
                let _ = e.render(prefix);
            }
        }
    }
}
