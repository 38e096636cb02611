//! Hand-written lexer turning an expression string into [`Token`]s with spans.

use std::fmt;

use super::ast::Span;
use super::error::ExprError;

/// The kinds of tokens produced by [`tokenize`].
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// Integer literal that fits in `i64`.
    Int(i64),
    /// Floating point literal.
    Float(f64),
    /// String literal (escapes resolved).
    Str(String),
    /// Identifier that is not a keyword.
    Name(String),
    /// `true`, `True`, `false` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `...`
    Ellipsis,
    /// `=` (keyword arguments only)
    Assign,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `**`
    DoubleStar,
    /// `/`
    Slash,
    /// `//`
    DoubleSlash,
    /// `%`
    Percent,
    /// `@`
    At,
    /// `&`
    Amp,
    /// `|`
    Pipe,
    /// `^`
    Caret,
    /// `~`
    Tilde,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// End of input (always the last token, with an empty span at the end).
    Eof,
}

impl TokenKind {
    /// Fixed spelling of punctuation and keyword tokens, `None` for tokens
    /// carrying a value (numbers, strings, names) and for end of input.
    pub fn symbol(&self) -> Option<&'static str> {
        Some(match self {
            TokenKind::Int(_)
            | TokenKind::Float(_)
            | TokenKind::Str(_)
            | TokenKind::Name(_)
            | TokenKind::Eof => return None,
            TokenKind::Bool(true) => "True",
            TokenKind::Bool(false) => "False",
            TokenKind::None => "None",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::Comma => ",",
            TokenKind::Colon => ":",
            TokenKind::Ellipsis => "...",
            TokenKind::Assign => "=",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::DoubleStar => "**",
            TokenKind::Slash => "/",
            TokenKind::DoubleSlash => "//",
            TokenKind::Percent => "%",
            TokenKind::At => "@",
            TokenKind::Amp => "&",
            TokenKind::Pipe => "|",
            TokenKind::Caret => "^",
            TokenKind::Tilde => "~",
            TokenKind::EqEq => "==",
            TokenKind::NotEq => "!=",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
        })
    }
}

/// Human readable description, e.g. `)`, `name foo`, `end of input`.
impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Int(v) => write!(f, "{v}"),
            TokenKind::Float(v) => write!(f, "{v:?}"),
            TokenKind::Str(s) => write!(f, "{s:?}"),
            TokenKind::Name(n) => f.write_str(n),
            TokenKind::Eof => f.write_str("end of input"),
            other => f.write_str(other.symbol().unwrap_or("?")),
        }
    }
}

/// A token together with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What was lexed.
    pub kind: TokenKind,
    /// Where it was lexed from.
    pub span: Span,
}

/// Splits `source` into tokens. The result always ends with a single
/// [`TokenKind::Eof`] token whose span is `len..len`.
///
/// # Errors
///
/// Returns an [`ExprError`] for unexpected characters, malformed or
/// out-of-range numbers, and bad or unterminated string literals.
pub fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let mut lexer = Lexer { src: source, bytes: source.as_bytes(), pos: 0 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokenKind::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    fn byte_at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.byte_at(self.pos)
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    fn next_token(&mut self) -> Result<Token, ExprError> {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Ok(Token { kind: TokenKind::Eof, span: Span::new(start, start) });
        };
        let next = self.byte_at(start + 1);
        if b.is_ascii_digit() || (b == b'.' && next.is_some_and(|n| n.is_ascii_digit())) {
            return self.number();
        }
        if is_ident_start(b) {
            return Ok(self.ident());
        }
        if b == b'"' || b == b'\'' {
            return self.string(b);
        }
        let (kind, len) = match (b, next) {
            (b'.', Some(b'.')) if self.byte_at(start + 2) == Some(b'.') => (TokenKind::Ellipsis, 3),
            (b'*', Some(b'*')) => (TokenKind::DoubleStar, 2),
            (b'/', Some(b'/')) => (TokenKind::DoubleSlash, 2),
            (b'=', Some(b'=')) => (TokenKind::EqEq, 2),
            (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
            (b'<', Some(b'=')) => (TokenKind::Le, 2),
            (b'>', Some(b'=')) => (TokenKind::Ge, 2),
            (b'(', _) => (TokenKind::LParen, 1),
            (b')', _) => (TokenKind::RParen, 1),
            (b'[', _) => (TokenKind::LBracket, 1),
            (b']', _) => (TokenKind::RBracket, 1),
            (b',', _) => (TokenKind::Comma, 1),
            (b':', _) => (TokenKind::Colon, 1),
            (b'=', _) => (TokenKind::Assign, 1),
            (b'+', _) => (TokenKind::Plus, 1),
            (b'-', _) => (TokenKind::Minus, 1),
            (b'*', _) => (TokenKind::Star, 1),
            (b'/', _) => (TokenKind::Slash, 1),
            (b'%', _) => (TokenKind::Percent, 1),
            (b'@', _) => (TokenKind::At, 1),
            (b'&', _) => (TokenKind::Amp, 1),
            (b'|', _) => (TokenKind::Pipe, 1),
            (b'^', _) => (TokenKind::Caret, 1),
            (b'~', _) => (TokenKind::Tilde, 1),
            (b'<', _) => (TokenKind::Lt, 1),
            (b'>', _) => (TokenKind::Gt, 1),
            _ => return Err(self.unexpected_char()),
        };
        self.pos += len;
        Ok(Token { kind, span: Span::new(start, self.pos) })
    }

    fn unexpected_char(&self) -> ExprError {
        let start = self.pos;
        let c = self.src.get(start..).and_then(|s| s.chars().next());
        let len = c.map_or(1, char::len_utf8);
        let shown = c.map_or_else(|| "?".to_string(), |c| c.escape_debug().to_string());
        let err = ExprError::new(format!("unexpected character `{shown}`"), Span::new(start, start + len));
        match c {
            Some('!') => err.with_hint("use `~` for logical not, `!=` for inequality"),
            Some('.') => err.with_hint("attribute access is not supported"),
            _ => err,
        }
    }

    fn skip_digits(&mut self) -> usize {
        let begin = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - begin
    }

    fn number(&mut self) -> Result<Token, ExprError> {
        let start = self.pos;
        let mut is_float = false;
        let mut malformed = false;
        self.skip_digits();
        if self.peek() == Some(b'.') {
            is_float = true;
            self.pos += 1;
            self.skip_digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            is_float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                malformed = true;
            }
        }
        // Glued letters, digits or dots (`1abc`, `1.2.3`, `1ex`) make the
        // whole run a single invalid number.
        while self.peek().is_some_and(|b| is_ident_continue(b) || b == b'.') {
            malformed = true;
            self.pos += 1;
        }
        let span = Span::new(start, self.pos);
        let text = self.text(start, self.pos);
        let invalid = || ExprError::new(format!("invalid number `{text}`"), span);
        if malformed {
            return Err(invalid());
        }
        let kind = if is_float {
            TokenKind::Float(text.parse::<f64>().map_err(|_| invalid())?)
        } else {
            match text.parse::<i64>() {
                Ok(v) => TokenKind::Int(v),
                Err(_) => {
                    return Err(ExprError::new(
                        format!("integer literal `{text}` is too large for a 64-bit integer"),
                        span,
                    )
                    .with_hint(format!("write it as a float, e.g. `{text}.0`")))
                }
            }
        };
        Ok(Token { kind, span })
    }

    fn ident(&mut self) -> Token {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        let text = self.text(start, self.pos);
        let kind = match text {
            "true" | "True" => TokenKind::Bool(true),
            "false" | "False" => TokenKind::Bool(false),
            "None" => TokenKind::None,
            _ => TokenKind::Name(text.to_string()),
        };
        Token { kind, span: Span::new(start, self.pos) }
    }

    fn string(&mut self, quote: u8) -> Result<Token, ExprError> {
        let start = self.pos;
        let rest = self.src.get(start + 1..).unwrap_or("");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let unterminated = || {
            ExprError::new("unterminated string literal", Span::new(start, self.src.len()))
                .with_hint(format!("add a closing `{}`", quote as char))
        };
        while let Some((i, c)) = chars.next() {
            if c == quote as char {
                self.pos = start + 1 + i + 1;
                return Ok(Token { kind: TokenKind::Str(value), span: Span::new(start, self.pos) });
            }
            if c != '\\' {
                value.push(c);
                continue;
            }
            let Some((j, esc)) = chars.next() else {
                return Err(unterminated());
            };
            match esc {
                '\\' | '"' | '\'' => value.push(esc),
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => {
                    let esc_start = start + 1 + i;
                    let esc_end = start + 1 + j + other.len_utf8();
                    return Err(ExprError::new(
                        format!("unknown escape sequence `\\{}`", other.escape_debug()),
                        Span::new(esc_start, esc_end),
                    )
                    .with_hint("supported escapes are \\\\, \\\", \\', \\n and \\t"));
                }
            }
        }
        Err(unterminated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        match tokenize(src) {
            Ok(tokens) => tokens.into_iter().map(|t| t.kind).collect(),
            Err(e) => panic!("lex error for {src:?}: {}", e.render(src)),
        }
    }

    fn lex_err(src: &str) -> ExprError {
        match tokenize(src) {
            Ok(tokens) => panic!("expected error for {src:?}, got {tokens:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn numbers() {
        use TokenKind::*;
        assert_eq!(kinds("12"), vec![Int(12), Eof]);
        assert_eq!(kinds("1.0"), vec![Float(1.0), Eof]);
        assert_eq!(kinds(".5"), vec![Float(0.5), Eof]);
        assert_eq!(kinds("1e-5"), vec![Float(1e-5), Eof]);
        assert_eq!(kinds("2.5E+3"), vec![Float(2500.0), Eof]);
        assert_eq!(kinds("1."), vec![Float(1.0), Eof]);
        assert_eq!(kinds("1.e2"), vec![Float(100.0), Eof]);
        assert_eq!(kinds("1e5"), vec![Float(100000.0), Eof]);
        assert_eq!(kinds("9223372036854775807"), vec![Int(i64::MAX), Eof]);
        assert_eq!(kinds("1.:2"), vec![Float(1.0), Colon, Int(2), Eof]);
    }

    #[test]
    fn bad_numbers() {
        let e = lex_err("1e");
        assert_eq!(e.message, "invalid number `1e`");
        assert_eq!(e.span, Span::new(0, 2));
        assert_eq!(lex_err("x + 1e+").message, "invalid number `1e+`");
        assert_eq!(lex_err("1abc").message, "invalid number `1abc`");
        assert_eq!(lex_err("1.2.3").message, "invalid number `1.2.3`");
        let e = lex_err("9223372036854775808");
        assert!(e.message.contains("too large"), "{}", e.message);
        assert_eq!(e.span, Span::new(0, 19));
    }

    #[test]
    fn names_keywords_and_strings() {
        use TokenKind::*;
        assert_eq!(
            kinds("true True false False None inf _a1"),
            vec![
                Bool(true),
                Bool(true),
                Bool(false),
                Bool(false),
                None,
                Name("inf".into()),
                Name("_a1".into()),
                Eof
            ]
        );
        assert_eq!(
            kinds(r#""cpu" 'g"pu' "a\"b\\c" 'it\'s' "é""#),
            vec![
                Str("cpu".into()),
                Str("g\"pu".into()),
                Str("a\"b\\c".into()),
                Str("it's".into()),
                Str("é".into()),
                Eof
            ]
        );
        let tokens = tokenize(" \"é\" x").unwrap_or_default();
        assert_eq!(tokens[0].span, Span::new(1, 5));
        assert_eq!(tokens[1].span, Span::new(6, 7));
        assert_eq!(lex_err("\"abc").message, "unterminated string literal");
        assert_eq!(lex_err("'abc\\").message, "unterminated string literal");
        assert_eq!(lex_err("'a\\qb'").span, Span::new(2, 4));
    }

    #[test]
    fn operators() {
        use TokenKind::*;
        assert_eq!(
            kinds("a**b*c//d/e%f@g&h|i^~j==k!=l<m<=n>o>=p=q"),
            vec![
                Name("a".into()),
                DoubleStar,
                Name("b".into()),
                Star,
                Name("c".into()),
                DoubleSlash,
                Name("d".into()),
                Slash,
                Name("e".into()),
                Percent,
                Name("f".into()),
                At,
                Name("g".into()),
                Amp,
                Name("h".into()),
                Pipe,
                Name("i".into()),
                Caret,
                Tilde,
                Name("j".into()),
                EqEq,
                Name("k".into()),
                NotEq,
                Name("l".into()),
                Lt,
                Name("m".into()),
                Le,
                Name("n".into()),
                Gt,
                Name("o".into()),
                Ge,
                Name("p".into()),
                Assign,
                Name("q".into()),
                Eof
            ]
        );
        assert_eq!(
            kinds("x[..., :, 0]()"),
            vec![
                Name("x".into()),
                LBracket,
                Ellipsis,
                Comma,
                Colon,
                Comma,
                Int(0),
                RBracket,
                LParen,
                RParen,
                Eof
            ]
        );
        let tokens = tokenize("  a  ").unwrap_or_default();
        assert_eq!(tokens[1].span, Span::new(5, 5));
    }

    #[test]
    fn unexpected_characters() {
        let e = lex_err("a $ b");
        assert_eq!(e.message, "unexpected character `$`");
        assert_eq!(e.span, Span::new(2, 3));
        let e = lex_err("a + é");
        assert_eq!(e.message, "unexpected character `é`");
        assert_eq!(e.span, Span::new(4, 6));
        assert!(lex_err("!a").hint.is_some());
        assert_eq!(lex_err("x.T").message, "unexpected character `.`");
        assert_eq!(lex_err("x..").message, "unexpected character `.`");
    }

    #[test]
    fn token_display() {
        assert_eq!(TokenKind::RBracket.to_string(), "]");
        assert_eq!(TokenKind::Name("foo".into()).to_string(), "foo");
        assert_eq!(TokenKind::Eof.to_string(), "end of input");
        assert_eq!(TokenKind::Int(3).symbol(), None);
    }
}
