//! Reading the printed IR back: [`IrGraph::parse`] turns the text that `Display for IrGraph`
//! prints into the same graph, so that tests can be written as text in, text out.
//!
//! The syntax is documented on [`IrGraph::parse`].
//!
//! Errors are values ([`ParseError`]) with the line and column; no input makes the parser
//! panic.

use std::fmt;

use crate::error::IrError;
use crate::graph::{IrGraph, NodeId};
use crate::op::{catalog, Axes, Op, ReduceOp, SliceAxis};
use crate::{DType, Device, Scalar, Shape, TensorType};

/// A graph read back from its printed form by [`IrGraph::parse`], with what the text named:
/// the node each printed id became, and the outputs of the `return` line.
///
/// Prints as the graph followed by its `return` line ([`IrGraph::display_with_outputs`]).
#[derive(Clone, Debug)]
pub struct ParsedGraph {
    graph: IrGraph,
    ids: Vec<NodeId>,
    outputs: Vec<NodeId>,
}

impl ParsedGraph {
    /// The graph.
    pub fn graph(&self) -> &IrGraph {
        &self.graph
    }

    /// The graph, dropping the id mapping and the outputs.
    pub fn into_graph(self) -> IrGraph {
        self.graph
    }

    /// The outputs the `return` line named, in its order; empty without a `return` line.
    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    /// The node that the printed id `%printed` became, or `None` if the text defines no such id.
    /// Differs from `%printed` only after a duplicate line (see [`IrGraph::parse`]).
    pub fn node(&self, printed: usize) -> Option<NodeId> {
        self.ids.get(printed).copied()
    }

    /// The node each printed id became, indexed by printed id.
    pub fn ids(&self) -> &[NodeId] {
        &self.ids
    }
}

impl fmt::Display for ParsedGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.graph.display_with_outputs(&self.outputs), f)
    }
}

/// Why a text is not a graph: where (line and column, both counted from 1, columns in
/// characters) and what, printed as `line 3, column 6: unknown op `foo``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    line: usize,
    column: usize,
    message: String,
    ir: Option<IrError>,
}

impl ParseError {
    /// The line, counted from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column, counted from 1 in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The IR error behind this one, when a line was well formed but [`IrGraph::add`] refused
    /// the node (ill-typed, eager-only, ...).
    pub fn ir_error(&self) -> Option<&IrError> {
        self.ir.as_ref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.ir.as_ref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl IrGraph {
    /// Parses the printed form of a graph, what `Display for IrGraph` writes (and
    /// [`IrGraph::display_with_outputs`], with the outputs), by re-adding every node through
    /// [`IrGraph::add`]. Errors say where (line and column) and what; no input makes it panic.
    ///
    /// The syntax is the printed form, one node per line, plus comments and an outputs line:
    ///
    /// ```text
    /// # A comment line; blank lines are allowed too.
    /// %0 = input("x") : f32[2,3]
    /// %1 = full(1.0) : f32[]
    /// %2 = add(%0, %1) : f32[2,3]    # a comment after a node
    /// %3 = sum(%2, axes=[1], keepdims=true) : f32[2,1]
    /// return %3, %2
    /// ```
    ///
    /// - Ids are numbered in order from `%0`: the k-th node line defines `%k`, and a node uses
    ///   only ids defined on earlier lines.
    /// - Each line is re-added through `IrGraph::add`, so it is type-checked like any node built
    ///   in code, and the type after ` : ` must equal the inferred one. Source ops take from it
    ///   what their printed attributes leave out: `input`'s dtype and shape, `full`'s shape and
    ///   the dtype of its value, `arange`'s dtype and length.
    /// - Attributes are written as printed. Those the printer leaves out at their default may be
    ///   left out: `keepdims=false`, `correction=0`, and `nonzero`'s `fill=-1`.
    /// - The optional last line `return %a, %b, ...` names the graph's outputs, in order (an id
    ///   may repeat). Only comments may follow it. Without it there are no outputs.
    /// - Duplicate lines: a line with the same op and operands as an earlier one becomes that
    ///   earlier node, as `IrGraph::add` hash-conses; both printed ids then map to it
    ///   ([`ParsedGraph::node`]), and the graph prints with fewer lines, renumbered.
    pub fn parse(text: &str) -> Result<ParsedGraph, ParseError> {
        let mut parser = Parser { graph: IrGraph::new(), ids: Vec::new(), outputs: None };
        for (index, line) in text.lines().enumerate() {
            let mut cur = Cursor { text: line, number: index + 1, pos: 0 };
            cur.skip_ws();
            if matches!(cur.peek(), None | Some('#')) {
                continue;
            }
            if parser.outputs.is_some() {
                return Err(cur.error(cur.pos, "only comments may follow the `return` line"));
            }
            let (at, word) = cur.word();
            if word == "return" {
                parser.outputs = Some(parser.outputs_line(&mut cur)?);
            } else if word.starts_with('%') {
                parser.node_line(&mut cur, at, word)?;
            } else {
                return Err(cur.error(
                    at,
                    format!(
                        "expected a node `%N = op(...) : type` or `return %N, ...`, found {}",
                        found(word, cur.peek())
                    ),
                ));
            }
        }
        Ok(ParsedGraph { graph: parser.graph, ids: parser.ids, outputs: parser.outputs.unwrap_or_default() })
    }

    /// The printed graph followed by a `return` line naming `outputs` (no such line when
    /// `outputs` is empty): the text [`IrGraph::parse`] reads back as this graph and outputs.
    pub fn display_with_outputs<'a>(&'a self, outputs: &'a [NodeId]) -> impl fmt::Display + 'a {
        WithOutputs { graph: self, outputs }
    }
}

struct WithOutputs<'a> {
    graph: &'a IrGraph,
    outputs: &'a [NodeId],
}

impl fmt::Display for WithOutputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.graph, f)?;
        if let Some((first, rest)) = self.outputs.split_first() {
            write!(f, "return {first}")?;
            for id in rest {
                write!(f, ", {id}")?;
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

/// How deeply lists and tuples may nest (the printed form nests two deep).
const MAX_DEPTH: usize = 8;

/// The state of one parse: the graph so far and the node each printed id became.
struct Parser {
    graph: IrGraph,
    ids: Vec<NodeId>,
    outputs: Option<Vec<NodeId>>,
}

impl Parser {
    /// The node a printed id names, if an earlier line defined it.
    fn resolve(&self, cur: &Cursor<'_>, at: usize, printed: usize) -> Result<NodeId, ParseError> {
        self.ids.get(printed).copied().ok_or_else(|| {
            cur.error(
                at,
                format!("`%{printed}` is not defined: a node uses only ids defined on earlier lines"),
            )
        })
    }

    /// `return %a, %b, ...` after the keyword.
    fn outputs_line(&self, cur: &mut Cursor<'_>) -> Result<Vec<NodeId>, ParseError> {
        let mut outputs = Vec::new();
        loop {
            let (at, word) = cur.word();
            let printed = node_id(cur, at, word, "an output id like `%3`")?;
            outputs.push(self.resolve(cur, at, printed)?);
            if !cur.eat(',') {
                break;
            }
        }
        cur.end("after the outputs")?;
        Ok(outputs)
    }

    /// `%N = op(operands, attributes) : type`, after the id.
    fn node_line(&mut self, cur: &mut Cursor<'_>, at: usize, word: &str) -> Result<(), ParseError> {
        let printed = node_id(cur, at, word, "a node id like `%3`")?;
        let next = self.ids.len();
        if printed != next {
            return Err(cur.error(
                at,
                format!("expected `%{next}` here: nodes are numbered in order from `%0`, one per line"),
            ));
        }
        cur.expect('=', "after the node id")?;
        let (name_at, name) = cur.word();
        let Some(template) = catalog().into_iter().find(|op| op.name() == name) else {
            let message = if name.is_empty() {
                format!("expected an op name, found {}", found(name, cur.peek()))
            } else {
                format!("unknown op `{name}`")
            };
            return Err(cur.error(name_at, message));
        };
        cur.expect('(', "after the op name")?;
        let args = cur.args()?;
        cur.expect(':', "and a type after the operands")?;
        let (ty_at, declared) = cur.tensor_type()?;
        cur.end("after the type")?;

        let mut inputs = Vec::new();
        let mut attrs = Attrs { op: template.name(), at: name_at, positional: None, keyed: Vec::new() };
        for arg in args {
            match arg {
                Arg::Operand { at, printed } => {
                    if attrs.positional.is_some() || !attrs.keyed.is_empty() {
                        return Err(cur.error(at, "operands come before attributes"));
                    }
                    inputs.push(self.resolve(cur, at, printed)?);
                }
                Arg::Positional(value) => {
                    if attrs.positional.is_some() {
                        return Err(cur.error(
                            value.at,
                            format!("`{}` takes at most one value without a name", attrs.op),
                        ));
                    }
                    attrs.positional = Some(value);
                }
                Arg::Attr { key, at, value } => {
                    if attrs.keyed.iter().any(|(k, _, _)| *k == key) {
                        return Err(cur.error(at, format!("attribute `{key}` is given twice")));
                    }
                    attrs.keyed.push((key, at, value));
                }
            }
        }
        let operand_dtype = inputs.first().and_then(|&i| self.graph.get(i)).map(|n| n.dtype());
        let site = Site { cur, ty_at, declared: &declared, operand_dtype };
        let op = build_op(&site, template, attrs)?;
        let id = self.graph.add(op, &inputs).map_err(|e| {
            let mut err = cur.error(name_at, e.to_string());
            err.ir = Some(e);
            err
        })?;
        if let Some(node) = self.graph.get(id) {
            if *node.ty() != declared {
                return Err(cur.error(
                    ty_at,
                    format!("`%{printed}` is declared as {declared}, but `{name}` infers {}", node.ty()),
                ));
            }
        }
        self.ids.push(id);
        Ok(())
    }
}

/// The printed id `%N` in `word`.
fn node_id(cur: &Cursor<'_>, at: usize, word: &str, what: &str) -> Result<usize, ParseError> {
    word.strip_prefix('%')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| cur.error(at, format!("expected {what}, found {}", found(word, cur.peek()))))
}

/// Names what was found instead: the word, else the next character, else the end of line.
fn found(word: &str, next: Option<char>) -> String {
    match (word.is_empty(), next) {
        (false, _) => format!("`{word}`"),
        (true, Some(c)) => format!("`{c}`"),
        (true, None) => "the end of the line".into(),
    }
}

/// A position in one line of the text.
struct Cursor<'a> {
    text: &'a str,
    number: usize,
    /// Byte offset; always on a character boundary.
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn error(&self, at: usize, message: impl Into<String>) -> ParseError {
        let column = self.text.get(..at).unwrap_or(self.text).chars().count() + 1;
        ParseError { line: self.number, column, message: message.into(), ir: None }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Skips whitespace, then consumes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        let hit = self.peek() == Some(c);
        if hit {
            self.bump();
        }
        hit
    }

    fn expect(&mut self, c: char, context: &str) -> Result<(), ParseError> {
        if self.eat(c) {
            return Ok(());
        }
        let (at, word) = self.peek_word();
        Err(self.error(at, format!("expected `{c}` {context}, found {}", found(word, self.peek()))))
    }

    /// Skips whitespace and consumes the longest run of characters that are not delimiters
    /// (possibly none); returns where it starts and the run.
    fn word(&mut self) -> (usize, &'a str) {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| !c.is_whitespace() && !"()[],=\"#".contains(c)) {
            self.bump();
        }
        (start, self.text.get(start..self.pos).unwrap_or(""))
    }

    /// The next word without consuming it.
    fn peek_word(&mut self) -> (usize, &'a str) {
        let pos = self.pos;
        let word = self.word();
        self.pos = pos;
        self.skip_ws();
        word
    }

    /// Nothing but whitespace or a comment may remain.
    fn end(&mut self, context: &str) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            None | Some('#') => Ok(()),
            Some(_) => {
                let (at, word) = self.peek_word();
                Err(self.error(at, format!("unexpected {} {context}", found(word, self.peek()))))
            }
        }
    }

    /// The operand and attribute list after `(`, through `)`.
    fn args(&mut self) -> Result<Vec<Arg<'a>>, ParseError> {
        let mut args = Vec::new();
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            args.push(self.arg()?);
            if self.eat(',') {
                continue;
            }
            if self.eat(')') {
                return Ok(args);
            }
            let (at, word) = self.peek_word();
            return Err(self.error(at, format!("expected `,` or `)`, found {}", found(word, self.peek()))));
        }
    }

    fn arg(&mut self) -> Result<Arg<'a>, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some('"' | '[' | '(') => return Ok(Arg::Positional(self.value(0)?)),
            Some('%') => {
                let (at, word) = self.word();
                let printed = node_id(self, at, word, "an operand like `%3`")?;
                return Ok(Arg::Operand { at, printed });
            }
            _ => {}
        }
        let (at, word) = self.word();
        if word.is_empty() {
            return Err(self.error(
                at,
                format!("expected an operand or an attribute, found {}", found(word, self.peek())),
            ));
        }
        if !self.eat('=') {
            return Ok(Arg::Positional(Value { at, kind: ValueKind::Atom(word) }));
        }
        let identifier = word.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(self.error(at, format!("expected an attribute name, found `{word}`")));
        }
        Ok(Arg::Attr { key: word, at, value: self.value(0)? })
    }

    /// A string, a `[...]` list, a `(...)` tuple or a plain word.
    fn value(&mut self, depth: usize) -> Result<Value<'a>, ParseError> {
        self.skip_ws();
        let at = self.pos;
        let kind = match self.peek() {
            Some('"') => ValueKind::Str(self.string()?),
            Some('[') => ValueKind::List(self.sequence(']', depth)?),
            Some('(') => ValueKind::Tuple(self.sequence(')', depth)?),
            _ => {
                let (at, word) = self.word();
                if word.is_empty() {
                    return Err(
                        self.error(at, format!("expected a value, found {}", found(word, self.peek())))
                    );
                }
                ValueKind::Atom(word)
            }
        };
        Ok(Value { at, kind })
    }

    /// The items of a list or tuple, from its opening bracket through `close`.
    fn sequence(&mut self, close: char, depth: usize) -> Result<Vec<Value<'a>>, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(self.pos, "values are nested too deeply"));
        }
        self.bump();
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat(',') {
                continue;
            }
            if self.eat(close) {
                return Ok(items);
            }
            let (at, word) = self.peek_word();
            return Err(
                self.error(at, format!("expected `,` or `{close}`, found {}", found(word, self.peek())))
            );
        }
    }

    /// A string as Rust's `{:?}` writes it, from its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.bump();
        let mut s = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(self.error(open, "unterminated string: the closing `\"` is missing")),
                Some('"') => return Ok(s),
                Some('\\') => {
                    let c = match self.bump() {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('0') => '\0',
                        Some(c @ ('\\' | '"' | '\'')) => c,
                        Some('u') => self.unicode_escape(at)?,
                        _ => {
                            return Err(self.error(at, "unknown escape in a string: expected one of \\n \\t \\r \\0 \\\\ \\\" \\' \\u{...}"))
                        }
                    };
                    s.push(c);
                }
                Some(c) => s.push(c),
            }
        }
    }

    /// `{hex}` after `\u`, as a character.
    fn unicode_escape(&mut self, at: usize) -> Result<char, ParseError> {
        let bad = |cur: &Cursor<'_>| {
            cur.error(at, "bad unicode escape: expected `\\u{...}` with 1 to 6 hex digits of a character")
        };
        if self.bump() != Some('{') {
            return Err(bad(self));
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.bump();
        }
        let hex = self.text.get(start..self.pos).unwrap_or("");
        if self.bump() != Some('}') || hex.is_empty() || hex.len() > 6 {
            return Err(bad(self));
        }
        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).ok_or_else(|| bad(self))
    }

    /// `f32[2,3]`, and where it starts.
    fn tensor_type(&mut self) -> Result<(usize, TensorType), ParseError> {
        let (at, word) = self.word();
        let dtype = DType::parse(word).ok_or_else(|| {
            self.error(
                at,
                format!("expected a dtype (bool, i32, i64, f32, f64), found {}", found(word, self.peek())),
            )
        })?;
        self.skip_ws();
        if self.peek() != Some('[') {
            let (at, word) = self.peek_word();
            return Err(self.error(
                at,
                format!(
                    "expected the shape, like `[2,3]`, after the dtype, found {}",
                    found(word, self.peek())
                ),
            ));
        }
        let shape = self.value(0)?;
        Ok((at, TensorType { dtype, shape: self.shape(&shape)? }))
    }

    fn atom<'v>(&self, v: &Value<'v>, what: &str) -> Result<&'v str, ParseError> {
        match v.kind {
            ValueKind::Atom(s) => Ok(s),
            _ => Err(self.error(v.at, format!("expected {what}, found {}", v.describe()))),
        }
    }

    fn list<'v, 'w>(&self, v: &'v Value<'w>, what: &str) -> Result<&'v [Value<'w>], ParseError> {
        match &v.kind {
            ValueKind::List(items) => Ok(items),
            _ => Err(self.error(v.at, format!("expected {what}, found {}", v.describe()))),
        }
    }

    fn number<T: std::str::FromStr>(&self, v: &Value<'_>, what: &str) -> Result<T, ParseError> {
        let s = self.atom(v, what)?;
        s.parse().map_err(|_| self.error(v.at, format!("expected {what}, found `{s}`")))
    }

    fn axes(&self, v: &Value<'_>) -> Result<Axes, ParseError> {
        let items = self.list(v, "a list of axes like `[0,1]`")?;
        items.iter().map(|a| self.number(a, "an axis (a non-negative integer)")).collect()
    }

    fn shape(&self, v: &Value<'_>) -> Result<Shape, ParseError> {
        let items = self.list(v, "a shape like `[2,3]`")?;
        let dims = items
            .iter()
            .map(|d| self.number(d, "an extent (a non-negative integer)"))
            .collect::<Result<Vec<usize>, _>>()?;
        Shape::new(&dims).map_err(|e| self.error(v.at, e.to_string()))
    }

    fn bool(&self, v: &Value<'_>) -> Result<bool, ParseError> {
        match self.atom(v, "`true` or `false`")? {
            "true" => Ok(true),
            "false" => Ok(false),
            s => Err(self.error(v.at, format!("expected `true` or `false`, found `{s}`"))),
        }
    }

    fn scalar(&self, v: &Value<'_>, dtype: DType) -> Result<Scalar, ParseError> {
        let what = match dtype {
            DType::Bool => "a bool value".to_string(),
            d => format!("an {d} value"),
        };
        Ok(match dtype {
            DType::Bool => Scalar::Bool(self.bool(v).map_err(|_| self.expected(v, &what))?),
            DType::I32 => Scalar::I32(self.number(v, &what)?),
            DType::I64 => Scalar::I64(self.number(v, &what)?),
            DType::F32 => Scalar::F32(self.number(v, &what)?),
            DType::F64 => Scalar::F64(self.number(v, &what)?),
        })
    }

    fn expected(&self, v: &Value<'_>, what: &str) -> ParseError {
        self.error(v.at, format!("expected {what}, found {}", v.describe()))
    }

    /// `start+step*i<len`.
    fn slice_axis(&self, v: &Value<'_>) -> Result<SliceAxis, ParseError> {
        const WHAT: &str = "a slice axis `start+step*i<len`";
        let s = self.atom(v, WHAT)?;
        let parsed = s.split_once('+').and_then(|(start, rest)| {
            let (step, len) = rest.split_once("*i<")?;
            Some(SliceAxis { start: start.parse().ok()?, step: step.parse().ok()?, len: len.parse().ok()? })
        });
        parsed.ok_or_else(|| self.expected(v, WHAT))
    }

    /// `(before,after)`.
    fn width(&self, v: &Value<'_>) -> Result<(usize, usize), ParseError> {
        const WHAT: &str = "a pad width `(before,after)`";
        match &v.kind {
            ValueKind::Tuple(items) => match items.as_slice() {
                [b, a] => Ok((
                    self.number(b, "a width (a non-negative integer)")?,
                    self.number(a, "a width (a non-negative integer)")?,
                )),
                _ => Err(self.expected(v, WHAT)),
            },
            _ => Err(self.expected(v, WHAT)),
        }
    }
}

/// One item of a node's parenthesized list.
enum Arg<'a> {
    /// `%3`.
    Operand { at: usize, printed: usize },
    /// A value without a name: `input`'s name, `full`'s value, `slice`'s axes.
    Positional(Value<'a>),
    /// `key=value`.
    Attr { key: &'a str, at: usize, value: Value<'a> },
}

/// An attribute value as written, before the op says what it means.
struct Value<'a> {
    at: usize,
    kind: ValueKind<'a>,
}

enum ValueKind<'a> {
    Str(String),
    Atom(&'a str),
    List(Vec<Value<'a>>),
    Tuple(Vec<Value<'a>>),
}

impl Value<'_> {
    fn describe(&self) -> String {
        match &self.kind {
            ValueKind::Str(s) => format!("the string {s:?}"),
            ValueKind::Atom(s) => format!("`{s}`"),
            ValueKind::List(_) => "a list".into(),
            ValueKind::Tuple(_) => "a tuple".into(),
        }
    }
}

/// The attributes of one node, taken one by one as the op asks for them.
struct Attrs<'a> {
    op: &'static str,
    /// Where the op name starts.
    at: usize,
    positional: Option<Value<'a>>,
    keyed: Vec<(&'a str, usize, Value<'a>)>,
}

impl<'a> Attrs<'a> {
    fn take(&mut self, key: &str) -> Option<Value<'a>> {
        let i = self.keyed.iter().position(|(k, _, _)| *k == key)?;
        Some(self.keyed.remove(i).2)
    }

    fn required(&mut self, cur: &Cursor<'_>, key: &str, example: &str) -> Result<Value<'a>, ParseError> {
        self.take(key).ok_or_else(|| {
            cur.error(self.at, format!("`{}` needs the attribute `{key}`, like `{example}`", self.op))
        })
    }

    fn positional(&mut self, cur: &Cursor<'_>, example: &str) -> Result<Value<'a>, ParseError> {
        self.positional
            .take()
            .ok_or_else(|| cur.error(self.at, format!("`{}` needs a value, like `{example}`", self.op)))
    }

    /// Refuses whatever the op did not take; `keys` are the attributes it has.
    fn finish(self, cur: &Cursor<'_>, keys: &[&str]) -> Result<(), ParseError> {
        if let Some(v) = self.positional {
            return Err(cur.error(v.at, format!("`{}` takes no value without a name", self.op)));
        }
        if let Some((key, at, _)) = self.keyed.first() {
            let takes = if keys.is_empty() { "none".to_string() } else { keys.join(", ") };
            return Err(cur.error(
                *at,
                format!("`{key}` is not an attribute of `{}` (its attributes: {takes})", self.op),
            ));
        }
        Ok(())
    }
}

/// What building an op from its attributes may need besides them.
struct Site<'c, 'a> {
    cur: &'c Cursor<'a>,
    /// Where the declared type starts.
    ty_at: usize,
    declared: &'c TensorType,
    /// The dtype of the first operand, if there is one.
    operand_dtype: Option<DType>,
}

/// The op of a line: `template` (the catalog op of that name) with the line's attributes.
fn build_op(site: &Site<'_, '_>, template: Op, mut attrs: Attrs<'_>) -> Result<Op, ParseError> {
    let cur = site.cur;
    let declared = site.declared;
    let (op, keys): (Op, &[&str]) = match template {
        Op::Input { .. } => {
            let v = attrs.positional(cur, "input(\"x\")")?;
            let ValueKind::Str(name) = v.kind else {
                return Err(cur.expected(&v, "a quoted name like \"x\""));
            };
            (Op::Input { name, dtype: declared.dtype, shape: declared.shape.clone() }, &[])
        }
        Op::Full { .. } => {
            let value = cur.scalar(&attrs.positional(cur, "full(1.0)")?, declared.dtype)?;
            (Op::Full { value, shape: declared.shape.clone() }, &[])
        }
        Op::Arange { .. } => {
            let start = cur.scalar(&attrs.required(cur, "start", "start=0")?, declared.dtype)?;
            let step = cur.scalar(&attrs.required(cur, "step", "step=1")?, declared.dtype)?;
            let &[len] = declared.shape.dims() else {
                return Err(cur.error(site.ty_at, format!("`arange` gives a rank-1 array, not {declared}")));
            };
            (Op::Arange { start, step, len }, &["start", "step"])
        }
        Op::Reduce { op, .. } => {
            let axes = cur.axes(&attrs.required(cur, "axes", "axes=[0]")?)?;
            let keepdims = attrs.take("keepdims").map(|v| cur.bool(&v)).transpose()?.unwrap_or(false);
            let moment = matches!(op, ReduceOp::Var | ReduceOp::Std);
            let correction = match attrs.take("correction") {
                Some(v) if moment => cur.number(&v, "a correction (a non-negative integer)")?,
                Some(v) => {
                    return Err(
                        cur.error(v.at, format!("`{}` takes no correction (only var and std do)", op.name()))
                    )
                }
                None => 0,
            };
            let keys: &[&str] =
                if moment { &["axes", "keepdims", "correction"] } else { &["axes", "keepdims"] };
            (Op::Reduce { op, axes, keepdims, correction }, keys)
        }
        Op::Cast(_) => {
            let v = attrs.required(cur, "dtype", "dtype=f32")?;
            let s = cur.atom(&v, "a dtype")?;
            let dtype = DType::parse(s).ok_or_else(|| {
                cur.error(v.at, format!("expected a dtype (bool, i32, i64, f32, f64), found `{s}`"))
            })?;
            (Op::Cast(dtype), &["dtype"])
        }
        Op::Reshape(_) => {
            (Op::Reshape(cur.shape(&attrs.required(cur, "shape", "shape=[2,3]")?)?), &["shape"])
        }
        Op::BroadcastTo(_) => {
            (Op::BroadcastTo(cur.shape(&attrs.required(cur, "shape", "shape=[2,3]")?)?), &["shape"])
        }
        Op::PermuteDims(_) => {
            (Op::PermuteDims(cur.axes(&attrs.required(cur, "axes", "axes=[1,0]")?)?), &["axes"])
        }
        Op::Squeeze(_) => (Op::Squeeze(cur.axes(&attrs.required(cur, "axes", "axes=[0]")?)?), &["axes"]),
        Op::Flip(_) => (Op::Flip(cur.axes(&attrs.required(cur, "axes", "axes=[0]")?)?), &["axes"]),
        Op::ExpandDims(_) | Op::Concat(_) | Op::Stack(_) => {
            let axis =
                cur.number(&attrs.required(cur, "axis", "axis=0")?, "an axis (a non-negative integer)")?;
            let op = match template {
                Op::ExpandDims(_) => Op::ExpandDims(axis),
                Op::Concat(_) => Op::Concat(axis),
                _ => Op::Stack(axis),
            };
            (op, &["axis"])
        }
        Op::Slice(_) => {
            let v = attrs.positional(cur, "slice(%0, [0+1*i<4])")?;
            let items = cur.list(&v, "a list of slice axes like `[0+1*i<4]`")?;
            let spec = items.iter().map(|s| cur.slice_axis(s)).collect::<Result<Vec<_>, _>>()?;
            (Op::Slice(spec), &[])
        }
        Op::Pad { .. } => {
            let v = attrs.required(cur, "widths", "widths=[(1,1)]")?;
            let widths = cur
                .list(&v, "a list of pad widths like `[(1,1)]`")?
                .iter()
                .map(|w| cur.width(w))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype = site.operand_dtype.unwrap_or(declared.dtype);
            let value = cur.scalar(&attrs.required(cur, "value", "value=0.0")?, dtype)?;
            (Op::Pad { widths, value }, &["widths", "value"])
        }
        Op::ToDevice(_) => {
            let v = attrs.required(cur, "device", "device=gpu:0")?;
            let s = cur.atom(&v, "a device like `cpu` or `gpu:0`")?;
            let device = Device::parse(s).map_err(|e| cur.error(v.at, e))?;
            (Op::ToDevice(device), &["device"])
        }
        Op::Nonzero { .. } => {
            let size =
                attrs.take("size").map(|v| cur.number(&v, "a size (a non-negative integer)")).transpose()?;
            let fill = attrs.take("fill").map(|v| cur.number(&v, "a fill index (an integer)")).transpose()?;
            (Op::Nonzero { size, fill: fill.unwrap_or(-1) }, &["size", "fill"])
        }
        op @ (Op::Unary(_)
        | Op::Binary(_)
        | Op::Where
        | Op::Clip
        | Op::Matmul
        | Op::UniqueValues
        | Op::UniqueCounts
        | Op::BooleanMask) => (op, &[]),
    };
    attrs.finish(cur, keys)?;
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{BinaryOp, UnaryOp};
    use crate::{IrErrorKind, Laziness, SeededRng};
    use expect_test::{expect, Expect};

    /// Prints `g` with `outputs`, parses it back and checks that the result is the same graph
    /// (node for node, floats by bits), prints the same text and names the same outputs.
    fn assert_round_trip(g: &IrGraph, outputs: &[NodeId]) -> String {
        let text = g.display_with_outputs(outputs).to_string();
        let parsed = IrGraph::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.graph().len(), g.len(), "{text}");
        for ((id, a), (_, b)) in g.nodes().zip(parsed.graph().nodes()) {
            assert_eq!(a, b, "{id} of\n{text}");
        }
        assert_eq!(parsed.outputs(), outputs);
        let identity: Vec<NodeId> = (0..g.len()).map(NodeId::from_index).collect();
        assert_eq!(parsed.ids(), identity.as_slice());
        text
    }

    fn shape(dims: &[usize]) -> Shape {
        Shape::new(dims).unwrap()
    }

    /// A graph with every lazy op of the catalog and every attribute form of the printer.
    fn every_op() -> (IrGraph, Vec<NodeId>) {
        let mut g = IrGraph::new();
        let mut add = |op: Op, inputs: &[NodeId]| g.add(op, inputs).unwrap_or_else(|e| panic!("{e}"));
        let input = |name: &str, dtype: DType, dims: &[usize]| Op::Input {
            name: name.into(),
            dtype,
            shape: shape(dims),
        };
        let x = add(input("x", DType::F32, &[2, 3]), &[]);
        let y = add(input("y", DType::F32, &[3]), &[]);
        let k = add(input("k", DType::I32, &[2, 3]), &[]);
        let p = add(input("p", DType::Bool, &[2, 3]), &[]);
        let w = add(input("w", DType::F32, &[3, 2]), &[]);
        let s = add(input("a \"quoted\"\\ name\n\t\u{7f}é\u{301}", DType::F64, &[]), &[]);
        let mut outputs = vec![s];
        let values = [
            Scalar::F32(0.0),
            Scalar::F32(-0.0),
            Scalar::F32(1e-5),
            Scalar::F32(f32::from_bits(1)),
            Scalar::F32(16777216.0),
            Scalar::F32(0.1),
            Scalar::F64(f64::NAN),
            Scalar::F64(f64::INFINITY),
            Scalar::F64(f64::NEG_INFINITY),
            Scalar::F64(1e20),
            Scalar::F64(0.1),
            Scalar::F64(f64::MAX),
            Scalar::I32(-3),
            Scalar::I64(i64::MIN),
            Scalar::Bool(true),
        ];
        for value in values {
            outputs.push(add(Op::Full { value, shape: Shape::scalar() }, &[]));
        }
        outputs.push(add(Op::Full { value: Scalar::F32(2.5), shape: shape(&[2, 0, 3]) }, &[]));
        outputs.push(add(Op::Arange { start: Scalar::I64(0), step: Scalar::I64(1), len: 4 }, &[]));
        outputs.push(add(Op::Arange { start: Scalar::F64(0.5), step: Scalar::F64(-0.25), len: 3 }, &[]));
        outputs.push(add(Op::Arange { start: Scalar::I32(10), step: Scalar::I32(-3), len: 0 }, &[]));
        for u in UnaryOp::ALL {
            outputs.push(add(Op::Unary(u), &[if u == UnaryOp::LogicalNot { p } else { x }]));
        }
        for b in BinaryOp::ALL {
            let operands = if b.rule() == crate::DTypeRule::BoolSame { [p, p] } else { [x, y] };
            outputs.push(add(Op::Binary(b), &operands));
        }
        outputs.push(add(Op::Where, &[p, x, y]));
        outputs.push(add(Op::Cast(DType::F64), &[x]));
        outputs.push(add(Op::Clip, &[x, y, y]));
        let reduce = |op, axes: &[usize], keepdims, correction| Op::Reduce {
            op,
            axes: axes.iter().copied().collect(),
            keepdims,
            correction,
        };
        for r in ReduceOp::ALL {
            let operand = if matches!(r, ReduceOp::Any | ReduceOp::All) { p } else { x };
            outputs.push(add(reduce(r, &[1], false, 0), &[operand]));
        }
        outputs.push(add(reduce(ReduceOp::Sum, &[0, 1], true, 0), &[k]));
        outputs.push(add(reduce(ReduceOp::Sum, &[], false, 0), &[x]));
        outputs.push(add(reduce(ReduceOp::Var, &[0], true, 1), &[x]));
        outputs.push(add(reduce(ReduceOp::Std, &[0, 1], false, 2), &[x]));
        outputs.push(add(Op::Reshape(shape(&[6])), &[x]));
        outputs.push(add(Op::Reshape(shape(&[1, 1])), &[s]));
        outputs.push(add(Op::PermuteDims([1, 0].into_iter().collect()), &[x]));
        outputs.push(add(Op::BroadcastTo(shape(&[4, 3])), &[y]));
        let e = add(Op::ExpandDims(0), &[x]);
        outputs.push(add(Op::Squeeze([0].into_iter().collect()), &[e]));
        outputs.push(add(Op::Squeeze(Axes::new()), &[x]));
        let slice = |axes: &[(usize, isize, usize)]| {
            Op::Slice(axes.iter().map(|&(start, step, len)| SliceAxis { start, step, len }).collect())
        };
        outputs.push(add(slice(&[(1, -1, 2), (0, 2, 2)]), &[x]));
        outputs.push(add(slice(&[(0, 1, 0)]), &[y]));
        outputs.push(add(slice(&[]), &[s]));
        outputs.push(add(Op::Concat(1), &[x, x, x]));
        outputs.push(add(Op::Stack(0), &[y, y]));
        outputs.push(add(Op::Stack(1), &[y]));
        outputs.push(add(Op::Flip([0, 1].into_iter().collect()), &[x]));
        outputs.push(add(Op::Pad { widths: vec![(1, 0), (2, 3)], value: Scalar::F32(f32::NAN) }, &[x]));
        outputs.push(add(Op::Pad { widths: vec![(0, 0), (0, 1)], value: Scalar::I32(-7) }, &[k]));
        outputs.push(add(Op::Pad { widths: vec![], value: Scalar::F64(-0.0) }, &[s]));
        outputs.push(add(Op::Pad { widths: vec![(1, 1), (1, 1)], value: Scalar::Bool(false) }, &[p]));
        outputs.push(add(Op::Matmul, &[x, w]));
        outputs.push(add(Op::ToDevice(Device::CPU), &[x]));
        outputs.push(add(Op::ToDevice(Device::gpu(0)), &[x]));
        outputs.push(add(Op::ToDevice(Device::gpu(3)), &[y]));
        outputs.push(add(Op::Nonzero { size: Some(4), fill: -1 }, &[p]));
        outputs.push(add(Op::Nonzero { size: Some(0), fill: 7 }, &[y]));
        (g, outputs)
    }

    #[test]
    fn every_op_and_attribute_form_round_trips() {
        let (g, outputs) = every_op();
        for op in catalog().into_iter().filter(|op| op.info().laziness == Laziness::Lazy) {
            assert!(g.nodes().any(|(_, n)| n.op().name() == op.name()), "{op} is not covered");
        }
        assert_round_trip(&g, &outputs);
        let text = assert_round_trip(&g, &[outputs[0], outputs[1], outputs[0]]);
        assert_round_trip(&g, &[]);
        // Every line but the attribute-free elementwise ops (all of which appear), and the outputs.
        let attribute_forms: String = text
            .lines()
            .zip(g.nodes().map(|(_, n)| Some(n)).chain([None]))
            .filter(|(_, n)| !n.is_some_and(|n| matches!(n.op(), Op::Unary(_) | Op::Binary(_))))
            .map(|(line, _)| format!("{line}\n"))
            .collect();
        expect![[r#"
            %0 = input("x") : f32[2,3]
            %1 = input("y") : f32[3]
            %2 = input("k") : i32[2,3]
            %3 = input("p") : bool[2,3]
            %4 = input("w") : f32[3,2]
            %5 = input("a \"quoted\"\\ name\n\t\u{7f}é\u{301}") : f64[]
            %6 = full(0.0) : f32[]
            %7 = full(-0.0) : f32[]
            %8 = full(1e-5) : f32[]
            %9 = full(1e-45) : f32[]
            %10 = full(16777216.0) : f32[]
            %11 = full(0.1) : f32[]
            %12 = full(nan) : f64[]
            %13 = full(inf) : f64[]
            %14 = full(-inf) : f64[]
            %15 = full(1e20) : f64[]
            %16 = full(0.1) : f64[]
            %17 = full(1.7976931348623157e308) : f64[]
            %18 = full(-3) : i32[]
            %19 = full(-9223372036854775808) : i64[]
            %20 = full(true) : bool[]
            %21 = full(2.5) : f32[2,0,3]
            %22 = arange(start=0, step=1) : i64[4]
            %23 = arange(start=0.5, step=-0.25) : f64[3]
            %24 = arange(start=10, step=-3) : i32[0]
            %68 = where(%3, %0, %1) : f32[2,3]
            %69 = cast(%0, dtype=f64) : f64[2,3]
            %70 = clip(%0, %1, %1) : f32[2,3]
            %71 = sum(%0, axes=[1]) : f32[2]
            %72 = prod(%0, axes=[1]) : f32[2]
            %73 = max(%0, axes=[1]) : f32[2]
            %74 = min(%0, axes=[1]) : f32[2]
            %75 = mean(%0, axes=[1]) : f32[2]
            %76 = var(%0, axes=[1]) : f32[2]
            %77 = std(%0, axes=[1]) : f32[2]
            %78 = argmax(%0, axes=[1]) : i64[2]
            %79 = argmin(%0, axes=[1]) : i64[2]
            %80 = any(%3, axes=[1]) : bool[2]
            %81 = all(%3, axes=[1]) : bool[2]
            %82 = sum(%2, axes=[0,1], keepdims=true) : i64[1,1]
            %83 = sum(%0, axes=[]) : f32[2,3]
            %84 = var(%0, axes=[0], keepdims=true, correction=1) : f32[1,3]
            %85 = std(%0, axes=[0,1], correction=2) : f32[]
            %86 = reshape(%0, shape=[6]) : f32[6]
            %87 = reshape(%5, shape=[1,1]) : f64[1,1]
            %88 = permute_dims(%0, axes=[1,0]) : f32[3,2]
            %89 = broadcast_to(%1, shape=[4,3]) : f32[4,3]
            %90 = expand_dims(%0, axis=0) : f32[1,2,3]
            %91 = squeeze(%90, axes=[0]) : f32[2,3]
            %92 = squeeze(%0, axes=[]) : f32[2,3]
            %93 = slice(%0, [1+-1*i<2, 0+2*i<2]) : f32[2,2]
            %94 = slice(%1, [0+1*i<0]) : f32[0]
            %95 = slice(%5, []) : f64[]
            %96 = concat(%0, %0, %0, axis=1) : f32[2,9]
            %97 = stack(%1, %1, axis=0) : f32[2,3]
            %98 = stack(%1, axis=1) : f32[3,1]
            %99 = flip(%0, axes=[0,1]) : f32[2,3]
            %100 = pad(%0, widths=[(1,0),(2,3)], value=nan) : f32[3,8]
            %101 = pad(%2, widths=[(0,0),(0,1)], value=-7) : i32[2,4]
            %102 = pad(%5, widths=[], value=-0.0) : f64[]
            %103 = pad(%3, widths=[(1,1),(1,1)], value=false) : bool[4,5]
            %104 = matmul(%0, %4) : f32[2,2]
            %105 = to_device(%0, device=cpu) : f32[2,3]
            %106 = to_device(%0, device=gpu:0) : f32[2,3]
            %107 = to_device(%1, device=gpu:3) : f32[3]
            %108 = nonzero(%3, size=4, fill=-1) : i64[2,4]
            %109 = nonzero(%1, size=0, fill=7) : i64[1,0]
            return %5, %6, %5
        "#]]
        .assert_eq(&attribute_forms);
    }

    /// A random well-typed graph: ops drawn from the whole catalog with random attributes
    /// over random earlier nodes; ill-typed draws are skipped.
    fn random_graph(rng: &mut SeededRng, attempts: usize) -> (IrGraph, Vec<NodeId>) {
        let mut g = IrGraph::new();
        let dtypes = DType::ALL;
        let dims_pool: [&[usize]; 6] = [&[], &[3], &[2, 3], &[1, 3], &[2, 1, 2], &[0, 2]];
        let mut nodes: Vec<NodeId> = Vec::new();
        let templates = catalog();
        for step in 0..attempts {
            let value = |rng: &mut SeededRng, dtype: DType| match dtype {
                DType::Bool => Scalar::Bool(rng.chance(0.5)),
                DType::I32 => Scalar::I32(rng.next_u64() as i32 >> rng.below(32)),
                DType::I64 => Scalar::I64(rng.next_u64() as i64 >> rng.below(64)),
                // Random bits cover every printed float form; NaN is canonical (see the report
                // of lossy printing: the printed `nan` keeps neither sign nor payload).
                DType::F32 => match f32::from_bits(rng.next_u64() as u32) {
                    v if v.is_nan() => Scalar::F32(f32::NAN),
                    v => Scalar::F32(*rng.pick(&[v, 0.5, -0.0, f32::INFINITY, 1e-5, 3.0])),
                },
                DType::F64 => match f64::from_bits(rng.next_u64()) {
                    v if v.is_nan() => Scalar::F64(f64::NAN),
                    v => Scalar::F64(*rng.pick(&[v, 0.1, -2.0, f64::NEG_INFINITY, 1e16, f64::NAN])),
                },
            };
            if nodes.is_empty() || rng.below(8) == 0 {
                let dtype = *rng.pick(&dtypes);
                let dims = *rng.pick(&dims_pool);
                let sh = shape(dims);
                let op = match rng.below(3) {
                    0 => Op::Input { name: format!("in{}\"{}", step % 4, rng.below(3)), dtype, shape: sh },
                    1 => Op::Full { value: value(rng, dtype), shape: sh },
                    _ => Op::Arange { start: value(rng, dtype), step: value(rng, dtype), len: rng.below(4) },
                };
                if let Ok(id) = g.add(op, &[]) {
                    nodes.push(id);
                }
                continue;
            }
            let a = *rng.pick(&nodes);
            let ty = g.node(a).ty().clone();
            let rank = ty.shape.rank();
            let dims = ty.shape.dims().to_vec();
            let subset = |rng: &mut SeededRng| (0..rank).filter(|_| rng.chance(0.5)).collect::<Axes>();
            let op = match rng.pick(&templates) {
                Op::Reduce { op, .. } => Op::Reduce {
                    op: *op,
                    axes: subset(rng),
                    keepdims: rng.chance(0.5),
                    correction: if matches!(op, ReduceOp::Var | ReduceOp::Std) {
                        rng.below(3) as u32
                    } else {
                        0
                    },
                },
                Op::Cast(_) => Op::Cast(*rng.pick(&dtypes)),
                Op::Reshape(_) => Op::Reshape(shape(&[1, ty.shape.numel()])),
                Op::PermuteDims(_) => Op::PermuteDims((0..rank).rev().collect()),
                Op::BroadcastTo(_) => Op::BroadcastTo(shape(&[[2].as_slice(), &dims].concat())),
                Op::ExpandDims(_) => Op::ExpandDims(rng.below(rank + 1)),
                Op::Squeeze(_) => Op::Squeeze((0..rank).filter(|&i| dims[i] == 1).collect()),
                Op::Flip(_) => Op::Flip(subset(rng)),
                Op::Concat(_) => Op::Concat(rng.below(rank.max(1))),
                Op::Stack(_) => Op::Stack(rng.below(rank + 1)),
                Op::Slice(_) => Op::Slice(
                    dims.iter()
                        .map(|&d| match d {
                            0 => SliceAxis { start: 0, step: 1, len: 0 },
                            d if rng.chance(0.5) => {
                                SliceAxis { start: d - 1, step: -1, len: 1 + rng.below(d) }
                            }
                            d => SliceAxis { start: rng.below(d), step: 2, len: 1 },
                        })
                        .collect(),
                ),
                Op::Pad { .. } => Op::Pad {
                    widths: (0..rank).map(|_| (rng.below(2), rng.below(3))).collect(),
                    value: value(rng, ty.dtype),
                },
                Op::ToDevice(_) => {
                    Op::ToDevice(if rng.chance(0.5) { Device::CPU } else { Device::gpu(rng.below(3) as u32) })
                }
                Op::Nonzero { .. } => Op::Nonzero { size: Some(rng.below(5)), fill: rng.below(9) as i64 - 4 },
                other => other.clone(),
            };
            let arity = match op.info().arity {
                crate::Arity::Fixed(n) => n,
                crate::Arity::AtLeast(n) => n + rng.below(3),
            };
            let mut inputs = vec![a];
            while inputs.len() < arity {
                inputs.push(*rng.pick(&nodes));
            }
            inputs.truncate(arity);
            if let Ok(id) = g.add(op, &inputs) {
                if !nodes.contains(&id) {
                    nodes.push(id);
                }
            }
        }
        let outputs = (0..rng.below(4)).filter_map(|_| nodes.get(rng.below(nodes.len())).copied()).collect();
        (g, outputs)
    }

    #[test]
    fn random_graphs_round_trip() {
        let mut ops_seen = std::collections::BTreeSet::new();
        for seed in 0..400 {
            let mut rng = SeededRng::new(seed);
            let (g, outputs) = random_graph(&mut rng, 40);
            assert_round_trip(&g, &outputs);
            ops_seen.extend(g.nodes().map(|(_, n)| n.op().name()));
        }
        let lazy = catalog().into_iter().filter(|op| op.info().laziness == Laziness::Lazy).count();
        assert_eq!(ops_seen.len(), lazy, "the generator reaches every lazy op: {ops_seen:?}");
    }

    /// Mutated texts (characters dropped, repeated or replaced by syntax characters, lines cut
    /// short) parse or fail with an error, never a panic.
    #[test]
    fn mangled_texts_never_panic() {
        let (g, outputs) = every_op();
        let text = g.display_with_outputs(&outputs).to_string();
        let chars: Vec<char> = text.chars().collect();
        let noise = ['%', '(', ')', '[', ']', ',', '=', ':', '"', '\\', '#', '-', '9', 'e', ' ', '\n', 'é'];
        let mut rng = SeededRng::new(11);
        for _ in 0..3000 {
            let mut mangled = chars.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(mangled.len());
                match rng.below(4) {
                    0 => drop(mangled.remove(i)),
                    1 => mangled.insert(i, mangled[i]),
                    2 => mangled[i] = *rng.pick(&noise),
                    _ => mangled.truncate(i),
                }
                if mangled.is_empty() {
                    break;
                }
            }
            let mangled: String = mangled.into_iter().collect();
            if let Err(e) = IrGraph::parse(&mangled) {
                assert!(e.line() >= 1 && e.column() >= 1 && !e.message().is_empty());
            }
        }
        let deep =
            format!("%0 = input(\"x\") : f32[2]\n%1 = pad(%0, widths={}) : f32[2]", "[".repeat(100_000));
        assert_eq!(IrGraph::parse(&deep).unwrap_err().message(), "values are nested too deeply");
    }

    #[test]
    fn comments_blank_lines_indentation_and_outputs_are_read() {
        let text = "# A test case.\r\n\n    %0 = input(\"x\") : f32[4]   # the input\r\n\t%1 = exp(%0):f32[4]\n  # done\n\
                    return %1,%0 , %1  # outputs\n\n# trailing comment\n";
        let parsed = IrGraph::parse(text).unwrap();
        expect![[r#"
            %0 = input("x") : f32[4]
            %1 = exp(%0) : f32[4]
            return %1, %0, %1
        "#]]
        .assert_eq(&parsed.to_string());
        assert_eq!(parsed.outputs(), &[NodeId::from_index(1), NodeId::from_index(0), NodeId::from_index(1)]);
        let empty = IrGraph::parse("# nothing\n\n").unwrap();
        assert!(empty.graph().is_empty() && empty.outputs().is_empty());
    }

    #[test]
    fn defaults_the_printer_leaves_out_may_be_left_out_or_written() {
        let text = "%0 = input(\"p\") : bool[2,3]\n\
                    %1 = any(%0, axes=[1], keepdims=false) : bool[2]\n\
                    %2 = cast(%0, dtype=f64) : f64[2,3]\n\
                    %3 = var(%2, axes=[0], correction=0) : f64[3]\n\
                    %4 = nonzero(%0, size=2) : i64[2,2]\n";
        expect![[r#"
            %0 = input("p") : bool[2,3]
            %1 = any(%0, axes=[1]) : bool[2]
            %2 = cast(%0, dtype=f64) : f64[2,3]
            %3 = var(%2, axes=[0]) : f64[3]
            %4 = nonzero(%0, size=2, fill=-1) : i64[2,2]
        "#]]
        .assert_eq(&IrGraph::parse(text).unwrap().to_string());
    }

    /// Duplicate lines become one node, as `IrGraph::add` hash-conses: each printed id maps to
    /// the node it became, and the graph prints renumbered.
    #[test]
    fn duplicate_lines_map_to_the_node_they_became() {
        let text = "%0 = input(\"x\") : f32[4]\n\
                    %1 = input(\"x\") : f32[4]\n\
                    %2 = exp(%0) : f32[4]\n\
                    %3 = exp(%1) : f32[4]\n\
                    %4 = add(%2, %3) : f32[4]\n\
                    return %3, %4\n";
        let parsed = IrGraph::parse(text).unwrap();
        let n = NodeId::from_index;
        assert_eq!(parsed.ids(), &[n(0), n(0), n(1), n(1), n(2)]);
        assert_eq!(parsed.node(3), Some(n(1)));
        assert_eq!(parsed.node(5), None);
        expect![[r#"
            %0 = input("x") : f32[4]
            %1 = exp(%0) : f32[4]
            %2 = add(%1, %1) : f32[4]
            return %1, %2
        "#]]
        .assert_eq(&parsed.to_string());
    }

    #[test]
    fn errors_from_graph_add_keep_the_ir_error() {
        let err =
            IrGraph::parse("%0 = input(\"x\") : f32[4]\n%1 = boolean_mask(%0, %0) : f32[4]").unwrap_err();
        assert_eq!(err.ir_error().map(|e| e.kind()), Some(IrErrorKind::NotLazy));
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!((err.line(), err.column()), (2, 6));
        let err = IrGraph::parse("%0 = input(\"x\") : f32[4]\n%1 = exp(%0) : f64[4]").unwrap_err();
        assert_eq!(err.ir_error(), None, "a type mismatch is the parser's own error");
    }

    fn check_error(text: &str, expect: Expect) {
        let err = IrGraph::parse(text).map(|p| p.to_string()).unwrap_err();
        expect.assert_eq(&err.to_string());
    }

    #[test]
    fn malformed_texts_are_refused_with_their_position() {
        let x = "%0 = input(\"x\") : f32[4]\n";
        check_error(
            &format!("{x}%1 = frobnicate(%0) : f32[4]"),
            expect!["line 2, column 6: unknown op `frobnicate`"],
        );
        check_error(
            &format!("{x}%1 = exp(%2) : f32[4]"),
            expect!["line 2, column 10: `%2` is not defined: a node uses only ids defined on earlier lines"],
        );
        check_error(
            &format!("{x}%2 = exp(%0) : f32[4]"),
            expect![
                "line 2, column 1: expected `%1` here: nodes are numbered in order from `%0`, one per line"
            ],
        );
        check_error(
            &format!("{x}%1 = exp(%0) : f64[4]"),
            expect!["line 2, column 16: `%1` is declared as f64[4], but `exp` infers f32[4]"],
        );
        check_error(
            &format!("{x}%1 = sum(%0, axes=1) : f32[]"),
            expect!["line 2, column 19: expected a list of axes like `[0,1]`, found `1`"],
        );
        check_error(
            &format!("{x}%1 = sum(%0, axes=[0], keepdim=true) : f32[]"),
            expect![
                "line 2, column 24: `keepdim` is not an attribute of `sum` (its attributes: axes, keepdims)"
            ],
        );
        check_error(
            &format!("{x}%1 = sum(%0, axes=[0], axes=[0]) : f32[]"),
            expect!["line 2, column 24: attribute `axes` is given twice"],
        );
        check_error(
            &format!("{x}%1 = sum(%0) : f32[]"),
            expect!["line 2, column 6: `sum` needs the attribute `axes`, like `axes=[0]`"],
        );
        check_error(&format!("{x}%1 = sum(%0, axes=[1]) : f32[]"), expect!["line 2, column 6: sum: axis 1 is out of range for f32[4] (valid: 0..1, or negative from the end)"]);
        check_error(
            &format!("{x}%1 = sum(%0, correction=1, axes=[0]) : f32[]"),
            expect!["line 2, column 25: `sum` takes no correction (only var and std do)"],
        );
        check_error(
            &format!("{x}%1 = full(1.0) : i32[]"),
            expect!["line 2, column 11: expected an i32 value, found `1.0`"],
        );
        check_error(
            &format!("{x}%1 = full(yes) : bool[]"),
            expect!["line 2, column 11: expected a bool value, found `yes`"],
        );
        check_error(
            &format!("{x}%1 = cast(%0, dtype=f16) : f32[4]"),
            expect!["line 2, column 21: expected a dtype (bool, i32, i64, f32, f64), found `f16`"],
        );
        check_error(
            &format!("{x}%1 = slice(%0, [0+1*j<4]) : f32[4]"),
            expect!["line 2, column 17: expected a slice axis `start+step*i<len`, found `0+1*j<4`"],
        );
        check_error(
            &format!("{x}%1 = pad(%0, widths=[(1,2,3)], value=0.0) : f32[7]"),
            expect!["line 2, column 22: expected a pad width `(before,after)`, found a tuple"],
        );
        check_error(
            &format!("{x}%1 = to_device(%0, device=tpu) : f32[4]"),
            expect!["line 2, column 27: unknown device `tpu`; expected `cpu`, `gpu` or `gpu:N`"],
        );
        check_error(
            &format!("{x}%1 = exp(axes=[0], %0) : f32[4]"),
            expect!["line 2, column 20: operands come before attributes"],
        );
        check_error(&format!("{x}%1 = unique_values(%0) : f32[4]"), expect!["line 2, column 6: unique_values: `unique_values` cannot be built lazily: its output shape depends on the input values, which a lazy graph does not know (hint: use evaluate x first and call unique_values on the result eagerly)"]);
        check_error(&format!("{x}%1 = input(\"x\") : f64[4]"), expect!["line 2, column 6: input: input `x` is declared as f32[4] and again as f64[4] (hint: give each input one name and one type)"]);
        check_error(
            &format!("{x}%1 = arange(start=0, step=1) : i64[2,2]"),
            expect!["line 2, column 32: `arange` gives a rank-1 array, not i64[2,2]"],
        );
        check_error(
            "%0 = input(\"x) : f32[4]",
            expect![[r#"line 1, column 12: unterminated string: the closing `"` is missing"#]],
        );
        check_error(
            "%0 = input(\"\\x\") : f32[4]",
            expect![[
                r#"line 1, column 13: unknown escape in a string: expected one of \n \t \r \0 \\ \" \' \u{...}"#
            ]],
        );
        check_error("%0 = input(\"x\") : f32[99999999999,99999999999]", expect!["line 1, column 22: shape [99999999999, 99999999999] is too large: 9999999999800000000001 elements need 67.8 ZiB at 8 bytes each (the widest dtype), more than one address space holds (at most 1152921504606846975 elements)"]);
        check_error("%0 = input(\"x\") : f32", expect!["line 1, column 22: expected the shape, like `[2,3]`, after the dtype, found the end of the line"]);
        check_error(
            "%0 = input(\"x\") : f32[4] junk",
            expect!["line 1, column 26: unexpected `junk` after the type"],
        );
        check_error(
            "%0 = input(\"x\")",
            expect![
                "line 1, column 16: expected `:` and a type after the operands, found the end of the line"
            ],
        );
        check_error(
            "%0 = exp(%0 %0) : f32[4]",
            expect!["line 1, column 13: expected `,` or `)`, found `%0`"],
        );
        check_error(
            "hello world",
            expect![
                "line 1, column 1: expected a node `%N = op(...) : type` or `return %N, ...`, found `hello`"
            ],
        );
        check_error(
            "%x = input(\"x\") : f32[4]",
            expect!["line 1, column 1: expected a node id like `%3`, found `%x`"],
        );
        check_error(
            &format!("{x}return"),
            expect!["line 2, column 7: expected an output id like `%3`, found the end of the line"],
        );
        check_error(
            &format!("{x}return %1"),
            expect!["line 2, column 8: `%1` is not defined: a node uses only ids defined on earlier lines"],
        );
        check_error(
            &format!("{x}return %0\n%1 = exp(%0) : f32[4]"),
            expect!["line 3, column 1: only comments may follow the `return` line"],
        );
    }
}
