//! Error type shared by the lexer, the parser and later lowering stages.

use std::fmt;

use super::ast::Span;

/// An error located in the expression source, with an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// One-line description of what went wrong.
    pub message: String,
    /// The offending part of the source (byte offsets).
    pub span: Span,
    /// Optional suggestion on how to fix it.
    pub hint: Option<String>,
}

impl ExprError {
    /// Creates an error with `message` located at `span` and no hint.
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        ExprError { message: message.into(), span, hint: None }
    }

    /// Returns the error with `hint` attached (replacing any previous hint).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders the message, the source line with a caret diagram under the
    /// span, and the hint (if any), e.g.
    ///
    /// ```text
    /// unknown name `z`
    ///   exp(z*2)
    ///       ^
    /// ```
    ///
    /// Columns are counted in characters. Spans that are out of range or not on
    /// character boundaries are clamped; this never panics.
    pub fn render(&self, source: &str) -> String {
        let start = floor_boundary(source, self.span.start);
        let end = floor_boundary(source, self.span.end).max(start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
        let line: String =
            source[line_start..line_end].chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let column = source[line_start..start].chars().count();
        let width = source[start..end.min(line_end)].chars().count().max(1);
        let mut out =
            format!("{}\n  {}\n  {}{}", self.message, line.trim_end(), " ".repeat(column), "^".repeat(width));
        if let Some(hint) = &self.hint {
            out.push_str("\n  hint: ");
            out.push_str(hint);
        }
        out
    }
}

/// Shows the message followed by the hint (if any), without a diagram.
impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExprError {}

/// 1-based character column of byte `offset` within its line of `source`
/// (offsets are clamped into range).
pub fn column(source: &str, offset: usize) -> usize {
    let offset = floor_boundary(source, offset);
    let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    source[line_start..offset].chars().count() + 1
}

/// Largest char boundary of `source` that is `<= offset`.
fn floor_boundary(source: &str, offset: usize) -> usize {
    let mut i = offset.min(source.len());
    while i > 0 && !source.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_simple() {
        let err = ExprError::new("unknown name `z`", Span::new(4, 5)).with_hint("did you mean `x`?");
        assert_eq!(
            err.render("exp(z*2)"),
            "unknown name `z`\n  exp(z*2)\n      ^\n  hint: did you mean `x`?"
        );
    }

    #[test]
    fn render_wide_span_without_hint() {
        let err = ExprError::new("bad operands", Span::new(0, 5));
        assert_eq!(err.render("a + b * c"), "bad operands\n  a + b * c\n  ^^^^^");
    }

    #[test]
    fn render_end_of_input() {
        let err = ExprError::new("unexpected end of input", Span::new(6, 6));
        assert_eq!(err.render("exp(x "), "unexpected end of input\n  exp(x\n        ^");
        let err = ExprError::new("unexpected end of input", Span::new(5, 5));
        assert_eq!(err.render("exp(x"), "unexpected end of input\n  exp(x\n       ^");
    }

    #[test]
    fn render_non_ascii_prefix() {
        // "é" is two bytes, "→" three: the caret must still land under `z`.
        let src = "\"é→\" + z";
        let z = src.find('z').unwrap_or(0);
        let err = ExprError::new("unknown name `z`", Span::new(z, z + 1));
        assert_eq!(err.render(src), "unknown name `z`\n  \"é→\" + z\n         ^");
    }

    #[test]
    fn render_multiline_and_bad_spans() {
        let src = "a +\n\tb";
        let err = ExprError::new("m", Span::new(5, 6));
        assert_eq!(err.render(src), "m\n   b\n   ^");
        // Out of range and mid-character spans never panic.
        let err = ExprError::new("m", Span::new(100, 7));
        assert_eq!(err.render(src), "m\n   b\n    ^");
        let err = ExprError::new("m", Span::new(1, 2));
        assert_eq!(err.render("é"), "m\n  é\n  ^");
        let err = ExprError::new("m", Span::new(2, 1));
        assert_eq!(err.render("é"), "m\n  é\n   ^");
        assert_eq!(ExprError::new("m", Span::new(0, 3)).render(""), "m\n  \n  ^");
    }

    #[test]
    fn display_and_column() {
        let err = ExprError::new("oops", Span::new(0, 1));
        assert_eq!(err.to_string(), "oops");
        assert_eq!(err.clone().with_hint("try this").to_string(), "oops (hint: try this)");
        let boxed: Box<dyn std::error::Error> = Box::new(err);
        assert_eq!(boxed.to_string(), "oops");
        assert_eq!(column("exp(x", 3), 4);
        assert_eq!(column("é(x", 2), 2);
        assert_eq!(column("a\nbc", 3), 2);
        assert_eq!(column("ab", 99), 3);
    }
}
