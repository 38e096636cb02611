//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! A `.npy` file is the magic string `\x93NUMPY`, a major and minor version byte, the header
//! length (u16 little-endian for version 1, u32 for versions 2 and 3), a header that is a
//! Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`
//! padded with spaces and ending in `\n`, and then the raw array data.
//!
//! Supported: little-endian, C-order arrays of `bool`, `int32`, `int64`, `float32` and
//! `float64`. Everything else is refused with a [`RuntimeErrorKind::Npy`] error that names the
//! problem. Files are written exactly as NumPy's `np.save` writes them.

use std::path::Path;

use switchyard_ir::{DType, Shape};

use crate::array::Array;
use crate::error::{RuntimeError, RuntimeErrorKind};

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy pads the preamble (magic, version, length and header) to a multiple of this.
const ARRAY_ALIGN: usize = 64;
/// NumPy leaves room for the first axis to grow to this many digits (numpy >= 1.23).
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// How deeply the header literal may nest before it is refused.
const MAX_DEPTH: usize = 32;
/// How much of a header value an error message quotes.
const MAX_QUOTE_CHARS: usize = 120;
/// The descrs this module reads, for error messages.
const SUPPORTED: &str = "'|b1' (bool), '<i4' (int32), '<i8' (int64), '<f4' (float32) and '<f8' (float64)";

/// Decodes the bytes of a `.npy` file into an [`Array`].
///
/// Accepts format versions 1.0, 2.0 and 3.0 and the descrs `'|b1'` (also `'<b1'`, `'b1'`,
/// `'?'`, `'|?'`), `'<i4'`, `'<i8'`, `'<f4'` and `'<f8'` (`'='`, `'|'` and no prefix count as
/// little-endian). The header dict may list its keys in any order, use either quote style
/// and spacing freely. Fails with [`RuntimeErrorKind::Npy`] for anything else: a bad magic
/// string, an unsupported version, a truncated or malformed header, big-endian or
/// Fortran-order data, an unsupported dtype, a shape whose size overflows `usize`, missing or
/// extra data bytes, or bool bytes other than 0 and 1.
pub fn decode_npy(bytes: &[u8]) -> Result<Array, RuntimeError> {
    let (header, data) = split_preamble(bytes)?;
    let header = parse_header(&header)?;
    let numel_bytes = header.shape.numel().checked_mul(header.dtype.size_bytes()).ok_or_else(|| {
        npy_error(format!(
            "the byte size of shape {} with dtype {} overflows usize",
            shape_repr(header.shape.dims()),
            header.dtype
        ))
    })?;
    if data.len() < numel_bytes {
        return Err(npy_error(format!(
            "truncated data: expected {numel_bytes} bytes of data, found {} ({}{} in the header)",
            data.len(),
            header.dtype,
            header.shape,
        )));
    }
    if data.len() > numel_bytes {
        return Err(npy_error(format!(
            "trailing data: expected {numel_bytes} bytes of data, found {} ({} extra bytes after {}{})",
            data.len(),
            data.len() - numel_bytes,
            header.dtype,
            header.shape,
        )));
    }
    if header.dtype == DType::Bool {
        if let Some((i, &b)) = data.iter().enumerate().find(|&(_, &b)| b > 1) {
            return Err(npy_error(format!("bool element {i} has byte value {b}; bool bytes must be 0 or 1")));
        }
    }
    Array::from_bytes(header.dtype, header.shape, data).map_err(|e| npy_error(e.to_string()))
}

/// Encodes an array as the bytes of a `.npy` file, exactly as NumPy's `np.save` writes it:
/// format version 1.0 (2.0 when the header needs more than 65535 bytes), descr `'|b1'`,
/// `'<i4'`, `'<i8'`, `'<f4'` or `'<f8'`, C order, and the preamble padded with spaces to a
/// multiple of 64 bytes.
pub fn encode_npy(array: &Array) -> Vec<u8> {
    let descr = match array.dtype() {
        DType::Bool => "|b1",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    };
    let dims = array.shape().dims();
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}", shape_repr(dims));
    // Like numpy, leave room for the first axis to grow in place.
    if let Some(first) = dims.first() {
        let digits = first.to_string().len();
        header.extend(std::iter::repeat_n(' ', GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    // The header ends in '\n'; numpy counts it before padding (and pads a full 64 bytes when
    // the preamble would already be aligned).
    let hlen = header.len() + 1;
    let pad_v1 = ARRAY_ALIGN - (MAGIC.len() + 2 + 2 + hlen) % ARRAY_ALIGN;
    let (version, len_field, padlen) = match u16::try_from(hlen + pad_v1) {
        Ok(n) => (1u8, n.to_le_bytes().to_vec(), pad_v1),
        Err(_) => {
            let pad_v2 = ARRAY_ALIGN - (MAGIC.len() + 2 + 4 + hlen) % ARRAY_ALIGN;
            // A header over 4 GiB would need a shape of more than a billion axes, which
            // cannot exist in memory; saturating keeps this total.
            let n = u32::try_from(hlen + pad_v2).unwrap_or(u32::MAX);
            (2u8, n.to_le_bytes().to_vec(), pad_v2)
        }
    };
    let data = array.as_bytes();
    let mut out = Vec::with_capacity(MAGIC.len() + 2 + len_field.len() + hlen + padlen + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    out.extend_from_slice(&len_field);
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + padlen, b' ');
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

/// Reads a `.npy` file. IO failures are [`RuntimeErrorKind::Io`] errors naming the path;
/// format problems are [`RuntimeErrorKind::Npy`] errors (see [`decode_npy`]), also naming it.
pub fn read_npy(path: &Path) -> Result<Array, RuntimeError> {
    let bytes = std::fs::read(path).map_err(|e| {
        RuntimeError::new(RuntimeErrorKind::Io, format!("cannot read {}: {e}", path.display()))
    })?;
    decode_npy(&bytes).map_err(|e| RuntimeError::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Writes an array to a `.npy` file (see [`encode_npy`]), replacing any file already there.
/// IO failures are [`RuntimeErrorKind::Io`] errors naming the path.
pub fn write_npy(path: &Path, array: &Array) -> Result<(), RuntimeError> {
    std::fs::write(path, encode_npy(array))
        .map_err(|e| RuntimeError::new(RuntimeErrorKind::Io, format!("cannot write {}: {e}", path.display())))
}

fn npy_error(message: impl Into<String>) -> RuntimeError {
    RuntimeError::new(RuntimeErrorKind::Npy, message)
}

/// Python's repr of a tuple of ints: `()`, `(3,)`, `(3, 4)`.
fn shape_repr(dims: &[usize]) -> String {
    match dims {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        _ => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Checks the magic, version and header length; returns the header text and the data bytes.
fn split_preamble(bytes: &[u8]) -> Result<(String, &[u8]), RuntimeError> {
    let prefix_len = bytes.len().min(MAGIC.len());
    if bytes.is_empty() || bytes[..prefix_len] != MAGIC[..prefix_len] {
        return Err(npy_error("not a .npy file: it does not start with the magic string \\x93NUMPY"));
    }
    if bytes.len() < MAGIC.len() + 2 {
        return Err(npy_error(format!(
            "truncated header: the file ends after {} bytes, inside the .npy preamble",
            bytes.len()
        )));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let len_size = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(npy_error(format!(
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let start = MAGIC.len() + 2 + len_size;
    let Some(len_bytes) = bytes.get(MAGIC.len() + 2..start) else {
        return Err(npy_error(format!(
            "truncated header: the file ends after {} bytes, inside the header length",
            bytes.len()
        )));
    };
    let header_len = match *len_bytes {
        [a, b] => usize::from(u16::from_le_bytes([a, b])),
        [a, b, c, d] => usize::try_from(u32::from_le_bytes([a, b, c, d])).unwrap_or(usize::MAX),
        _ => 0,
    };
    let available = bytes.len() - start;
    if header_len > available {
        return Err(npy_error(format!(
            "truncated header: the header length field says {header_len} bytes, but only {available} follow"
        )));
    }
    let (raw, data) = bytes[start..].split_at(header_len);
    let text = if major == 3 {
        std::str::from_utf8(raw)
            .map_err(|e| npy_error(format!("malformed header: not valid UTF-8 ({e})")))?
            .to_string()
    } else {
        // Versions 1 and 2 use latin-1, which maps each byte to the char of the same value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    Ok((text, data))
}

/// What the header says.
struct Header {
    dtype: DType,
    shape: Shape,
}

fn malformed(message: impl std::fmt::Display) -> RuntimeError {
    npy_error(format!("malformed header: {message}"))
}

fn parse_header(text: &str) -> Result<Header, RuntimeError> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_space();
    if let Some(c) = parser.peek() {
        return Err(malformed(format!("unexpected {c:?} after the header dict at byte {}", parser.pos)));
    }
    let Value::Dict(entries) = value else {
        return Err(malformed(format!("expected a dict literal, found {}", quote(&value))));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        let slot = match &key {
            Value::Str(k) if k == "descr" => &mut descr,
            Value::Str(k) if k == "fortran_order" => &mut fortran,
            Value::Str(k) if k == "shape" => &mut shape,
            _ => {
                return Err(malformed(format!(
                    "unexpected key {} (expected 'descr', 'fortran_order' and 'shape')",
                    quote(&key)
                )))
            }
        };
        if slot.is_some() {
            return Err(malformed(format!("key {} appears twice", quote(&key))));
        }
        *slot = Some(value);
    }
    let missing = |key: &str| malformed(format!("no '{key}' key"));
    let dtype = parse_descr(&descr.ok_or_else(|| missing("descr"))?)?;
    match fortran.ok_or_else(|| missing("fortran_order"))? {
        Value::Bool(false) => {}
        Value::Bool(true) => {
            return Err(npy_error(
                "Fortran-order (column-major) arrays are not supported (fortran_order: True); \
                 save a C-order copy instead, e.g. np.save(path, np.ascontiguousarray(arr))",
            ))
        }
        other => {
            return Err(malformed(format!("'fortran_order' must be True or False, found {}", quote(&other))))
        }
    }
    let shape = parse_shape(&shape.ok_or_else(|| missing("shape"))?)?;
    Ok(Header { dtype, shape })
}

fn parse_descr(descr: &Value) -> Result<DType, RuntimeError> {
    let s = match descr {
        Value::Str(s) => s,
        Value::List(_) | Value::Tuple(_) | Value::Dict(_) => {
            return Err(npy_error(format!(
                "unsupported structured dtype (descr {}); supported dtypes are {SUPPORTED}",
                quote(descr)
            )))
        }
        other => return Err(malformed(format!("'descr' must be a string, found {}", quote(other)))),
    };
    let (order, base) = match s.chars().next() {
        Some(c @ ('<' | '>' | '=' | '|' | '!')) => (Some(c), &s[1..]),
        _ => (None, s.as_str()),
    };
    let dtype = match base {
        "b1" | "?" => DType::Bool,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => {
            return Err(npy_error(format!(
                "unsupported dtype {}; supported dtypes are {SUPPORTED}",
                quote(descr)
            )))
        }
    };
    match order {
        Some('>' | '!') if dtype != DType::Bool => Err(npy_error(format!(
            "big-endian data ({}) is not supported; convert it to little-endian before saving, \
             e.g. arr.astype('<{base}')",
            quote(descr)
        ))),
        _ => Ok(dtype),
    }
}

fn parse_shape(shape: &Value) -> Result<Shape, RuntimeError> {
    let (Value::Tuple(items) | Value::List(items)) = shape else {
        return Err(malformed(format!("'shape' must be a tuple of integers, found {}", quote(shape))));
    };
    let mut dims = Vec::with_capacity(items.len());
    for item in items {
        let Value::Int(text) = item else {
            return Err(malformed(format!("'shape' must be a tuple of integers, found {}", quote(shape))));
        };
        if text.starts_with('-') && text.bytes().any(|b| b != b'-' && b != b'0') {
            return Err(malformed(format!("negative dimension {text} in shape {}", quote(shape))));
        }
        let digits = text.trim_start_matches(['-', '+']);
        let dim = digits
            .parse::<usize>()
            .map_err(|_| npy_error(format!("dimension {text} in shape {} overflows usize", quote(shape))))?;
        dims.push(dim);
    }
    Shape::new(&dims).map_err(|e| npy_error(format!("shape {}: {e}", quote(shape))))
}

/// The subset of Python literals a header can hold.
#[derive(Debug)]
enum Value {
    Str(String),
    /// An integer's text: an optional sign and decimal digits.
    Int(String),
    Bool(bool),
    None,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

/// A value shortened for an error message.
fn quote(value: &Value) -> String {
    let mut out = String::new();
    render(value, &mut out);
    if out.chars().count() > MAX_QUOTE_CHARS {
        out = out.chars().take(MAX_QUOTE_CHARS).collect();
        out.push_str("...");
    }
    out
}

/// Writes a value the way Python's repr would (stopping early once it is too long to quote).
fn render(value: &Value, out: &mut String) {
    if out.len() > 4 * MAX_QUOTE_CHARS {
        return;
    }
    let seq = |items: &[Value], open: &str, close: &str, out: &mut String| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            render(item, out);
        }
        if open == "(" && items.len() == 1 {
            out.push(',');
        }
        out.push_str(close);
    };
    match value {
        Value::Str(s) => {
            out.push('\'');
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("\\'"),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
                    c => out.push(c),
                }
            }
            out.push('\'');
        }
        Value::Int(text) => out.push_str(text),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::None => out.push_str("None"),
        Value::Tuple(items) => seq(items, "(", ")", out),
        Value::List(items) => seq(items, "[", "]", out),
        Value::Dict(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(k, out);
                out.push_str(": ");
                render(v, out);
            }
            out.push('}');
        }
    }
}

/// A recursive-descent parser for Python literals; every failure is an error, never a panic.
struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next char (always on a char boundary).
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r' | '\x0c')) {
            self.pos += 1;
        }
    }

    fn unexpected(&self, wanted: &str) -> RuntimeError {
        match self.peek() {
            Some(c) => malformed(format!("expected {wanted} at byte {}, found {c:?}", self.pos)),
            None => malformed(format!("expected {wanted}, but the header ends")),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, RuntimeError> {
        if depth > MAX_DEPTH {
            return Err(malformed(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.skip_space();
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek() == Some('}') {
                        self.pos += 1;
                        return Ok(Value::Dict(entries));
                    }
                    let key = self.value(depth + 1)?;
                    self.skip_space();
                    if self.peek() != Some(':') {
                        return Err(self.unexpected("':' after a dict key"));
                    }
                    self.pos += 1;
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                    if !self.separator('}')? {
                        return Ok(Value::Dict(entries));
                    }
                }
            }
            Some(open @ ('(' | '[')) => {
                self.pos += 1;
                let close = if open == '(' { ')' } else { ']' };
                let mut items = Vec::new();
                let mut trailing_comma = false;
                loop {
                    self.skip_space();
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    trailing_comma = self.separator(close)?;
                    if !trailing_comma {
                        break;
                    }
                }
                if open == '[' {
                    Ok(Value::List(items))
                } else if items.len() == 1 && !trailing_comma {
                    // `(x)` is just `x` in Python.
                    Ok(items.pop().unwrap_or(Value::None))
                } else {
                    Ok(Value::Tuple(items))
                }
            }
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                self.string(q)
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                match word {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::None),
                    // Python 2 unicode and bytes string prefixes.
                    "u" | "b" | "U" | "B" if matches!(self.peek(), Some('\'' | '"')) => {
                        let q = self.bump().unwrap_or('\'');
                        self.string(q)
                    }
                    _ => Err(malformed(format!("unexpected name {word:?} at byte {start}"))),
                }
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    /// After an item: consumes `,` (true: more may follow) or `close` (false: done).
    fn separator(&mut self, close: char) -> Result<bool, RuntimeError> {
        self.skip_space();
        match self.peek() {
            Some(',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.unexpected(&format!("',' or '{close}'"))),
        }
    }

    /// A string body after its opening quote `q`.
    fn string(&mut self, q: char) -> Result<Value, RuntimeError> {
        let start = self.pos;
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(malformed(format!("unterminated string starting at byte {}", start - 1))),
                Some(c) if c == q => return Ok(Value::Str(s)),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('0') => s.push('\0'),
                    Some(c @ ('\\' | '\'' | '"')) => s.push(c),
                    Some(c) => {
                        s.push('\\');
                        s.push(c);
                    }
                    None => {
                        return Err(malformed(format!("unterminated string starting at byte {}", start - 1)))
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }

    /// An integer literal: optional sign, decimal digits, and Python 2's optional `L` suffix.
    fn int(&mut self) -> Result<Value, RuntimeError> {
        let start = self.pos;
        if matches!(self.peek(), Some('-' | '+')) {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(self.unexpected("digits"));
        }
        let text = self.text[start..self.pos].to_string();
        if matches!(self.peek(), Some('L' | 'l')) {
            self.pos += 1;
        }
        if matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '.' || c == '_') {
            return Err(self.unexpected("an integer"));
        }
        Ok(Value::Int(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with the given version and raw header text (no padding added) and data.
    fn file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
        } else {
            out.extend_from_slice(&u32::try_from(header.len()).unwrap().to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn header(descr: &str, fortran: &str, shape: &str) -> String {
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n")
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Decodes and expects an `Npy` error whose message contains every `needle`.
    fn refused(bytes: &[u8], needles: &[&str]) -> String {
        let err = decode_npy(bytes).unwrap_err();
        assert_eq!(err.kind(), RuntimeErrorKind::Npy, "{err}");
        let msg = err.to_string();
        for needle in needles {
            assert!(msg.contains(needle), "message {msg:?} does not mention {needle:?}");
        }
        msg
    }

    fn sample(dtype: DType, dims: &[usize]) -> Array {
        let n: usize = dims.iter().product();
        match dtype {
            DType::Bool => Array::from_vec(dims, (0..n).map(|i| i % 3 == 0).collect()).unwrap(),
            DType::I32 => Array::from_vec(dims, (0..n).map(|i| i as i32 * 7 - 50).collect()).unwrap(),
            DType::I64 => Array::from_vec(dims, (0..n).map(|i| (i as i64 - 3) << 40).collect()).unwrap(),
            DType::F32 => Array::from_vec(dims, (0..n).map(|i| i as f32 * 0.25 - 1.5).collect()).unwrap(),
            DType::F64 => Array::from_vec(dims, (0..n).map(|i| (i as f64).sqrt() - 2.0).collect()).unwrap(),
        }
    }

    #[test]
    fn every_dtype_round_trips() {
        let shapes: [&[usize]; 6] = [&[], &[1], &[5], &[0], &[2, 0, 3], &[2, 3, 4]];
        for dtype in DType::ALL {
            for dims in shapes {
                let a = sample(dtype, dims);
                let bytes = encode_npy(&a);
                assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
                let preamble = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
                assert_eq!(preamble % 64, 0, "{dtype}{dims:?}");
                assert_eq!(bytes[preamble - 1], b'\n');
                assert_eq!(&bytes[preamble..], a.as_bytes());
                assert_eq!(decode_npy(&bytes).unwrap(), a, "{dtype}{dims:?}");
            }
        }
    }

    #[test]
    fn special_floats_keep_their_bits() {
        let a = Array::from_vec(&[4], vec![f64::NAN, -0.0, f64::INFINITY, f64::MIN_POSITIVE / 4.0]).unwrap();
        assert_eq!(decode_npy(&encode_npy(&a)).unwrap(), a);
    }

    #[test]
    fn encoding_matches_numpy_byte_for_byte() {
        // np.save(f, np.array([1, 2, 3], dtype='<f4'))
        let a = Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap();
        let mut expected = b"\x93NUMPY\x01\x00v\x00".to_vec();
        expected.extend_from_slice(b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
        expected.resize(127, b' ');
        expected.push(b'\n');
        expected.extend_from_slice(&f32_bytes(&[1.0, 2.0, 3.0]));
        assert_eq!(encode_npy(&a), expected);

        // np.save(f, np.float64(2.5)): no growth padding for rank 0.
        let s = Array::scalar(2.5f64);
        let mut expected = b"\x93NUMPY\x01\x00v\x00".to_vec();
        expected.extend_from_slice(b"{'descr': '<f8', 'fortran_order': False, 'shape': (), }");
        expected.resize(127, b' ');
        expected.push(b'\n');
        expected.extend_from_slice(&2.5f64.to_le_bytes());
        assert_eq!(encode_npy(&s), expected);

        let b = Array::from_vec(&[2, 1], vec![true, false]).unwrap();
        let text = String::from_utf8(encode_npy(&b)[10..128].to_vec()).unwrap();
        assert!(text.starts_with("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 1), }   "));
    }

    #[test]
    fn numpy_pads_a_full_line_when_already_aligned() {
        // Header text (97 chars), growth padding (20) and '\n' make 118 bytes: with the 10-byte
        // prefix that is already 128, and numpy's `_wrap_header` still adds 64 spaces.
        let a = Array::from_bytes(
            DType::F32,
            Shape::new(&[0, 100, 100, 100, 100, 100, 100, 100, 1000]).unwrap(),
            &[],
        )
        .unwrap();
        let bytes = encode_npy(&a);
        assert_eq!(bytes.len(), 192);
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 182);
        assert!(bytes[10..].starts_with(
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 100, 100, 100, 100, 100, 100, 100, 1000), }  "
        ));
        assert!(bytes[107..191].iter().all(|&b| b == b' '));
        assert_eq!(bytes[191], b'\n');
        assert_eq!(decode_npy(&bytes).unwrap(), a);
    }

    #[test]
    fn huge_headers_use_version_2() {
        let dims = vec![1usize; 30_000];
        let a = Array::from_vec(&dims, vec![7i32]).unwrap();
        let bytes = encode_npy(&a);
        assert_eq!(&bytes[6..8], &[2, 0]);
        let preamble = 12 + u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        assert!(preamble > 65535);
        assert_eq!(preamble % 64, 0);
        assert_eq!(decode_npy(&bytes).unwrap(), a);
    }

    #[test]
    fn files_round_trip_and_io_errors_name_the_path() {
        let dir = std::env::temp_dir().join(format!("switchyard-npy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npy");
        let a = sample(DType::F64, &[3, 2]);
        write_npy(&path, &a).unwrap();
        assert_eq!(read_npy(&path).unwrap(), a);

        std::fs::write(&path, b"hello").unwrap();
        let err = read_npy(&path).unwrap_err();
        assert_eq!(err.kind(), RuntimeErrorKind::Npy);
        assert!(err.to_string().contains("a.npy") && err.to_string().contains("not a .npy file"), "{err}");

        let missing = dir.join("missing.npy");
        let err = read_npy(&missing).unwrap_err();
        assert_eq!(err.kind(), RuntimeErrorKind::Io);
        assert!(err.to_string().contains("missing.npy"), "{err}");

        let err = write_npy(&dir.join("no-such-dir").join("b.npy"), &a).unwrap_err();
        assert_eq!(err.kind(), RuntimeErrorKind::Io);
        assert!(err.to_string().contains("b.npy"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn headers_are_parsed_tolerantly() {
        let data = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let want = Array::from_vec(&[2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let headers = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            "{\"shape\":(2,3),\"descr\":\"<f4\",\"fortran_order\":False}",
            "  { 'fortran_order' : False ,\n 'shape' : ( 2 , 3 , ) , 'descr' : '=f4' }  \n",
            "{'descr': 'f4', 'fortran_order': False, 'shape': [2, 3]}",
            "{u'descr': u'<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
            "{'descr': '|f4', 'fortran_order': False, 'shape': (2, +3), }\t\r\n",
        ];
        for h in headers {
            assert_eq!(decode_npy(&file(1, h, &data)).unwrap(), want, "{h}");
        }
        assert_eq!(decode_npy(&file(2, headers[0], &data)).unwrap(), want);
        let utf8 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } # é";
        let err = decode_npy(&file(3, utf8, &data)).unwrap_err();
        assert!(err.to_string().contains("'#'"), "{err}");
        assert_eq!(decode_npy(&file(3, &format!("{}\n", headers[0]), &data)).unwrap(), want);
        assert!(decode_npy(&file(
            3,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'é': 1}",
            &data
        ))
        .unwrap_err()
        .to_string()
        .contains("'é'"));

        let scalar = decode_npy(&file(
            1,
            "{'descr':'<i8','fortran_order':False,'shape':()}",
            &[9, 0, 0, 0, 0, 0, 0, 0],
        ))
        .unwrap();
        assert_eq!(scalar, Array::scalar(9i64));
    }

    #[test]
    fn bool_spellings_are_accepted() {
        let want = Array::from_vec(&[3], vec![true, false, true]).unwrap();
        for descr in ["|b1", "<b1", "b1", "?", "|?", "=b1", ">b1", "=?"] {
            let bytes = file(1, &header(descr, "False", "(3,)"), &[1, 0, 1]);
            assert_eq!(decode_npy(&bytes).unwrap(), want, "{descr}");
        }
        refused(&file(1, &header("|b1", "False", "(3,)"), &[1, 2, 1]), &["bool", "byte value 2", "0 or 1"]);
    }

    #[test]
    fn int_descrs_are_accepted() {
        let bytes = file(1, &header("=i4", "False", "(2,)"), &[1, 0, 0, 0, 255, 255, 255, 255]);
        assert_eq!(decode_npy(&bytes).unwrap(), Array::from_vec(&[2], vec![1i32, -1]).unwrap());
        let bytes = file(1, &header("<i8", "False", "(1,)"), &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode_npy(&bytes).unwrap(), Array::from_vec(&[1], vec![2i64]).unwrap());
    }

    #[test]
    fn refuses_bad_magic() {
        for bytes in [&b""[..], b"PK\x03\x04", b"\x93NUMPz\x01\x00", b"hello world, not numpy"] {
            refused(bytes, &["not a .npy file"]);
        }
    }

    #[test]
    fn refuses_unsupported_versions() {
        let mut bytes = encode_npy(&Array::scalar(1i32));
        bytes[6] = 4;
        refused(&bytes, &["unsupported .npy format version 4.0"]);
        bytes[6] = 1;
        bytes[7] = 1;
        refused(&bytes, &["version 1.1"]);
        bytes[6] = 0;
        bytes[7] = 0;
        refused(&bytes, &["version 0.0"]);
    }

    #[test]
    fn refuses_truncated_headers() {
        let bytes = encode_npy(&Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap());
        for len in [3, 7, 8, 9] {
            refused(&bytes[..len], &["truncated header"]);
        }
        refused(&bytes[..100], &["truncated header", "118", "90"]);
        let v2 = file(2, &header("<f4", "False", "(2,)"), &[]);
        refused(&v2[..11], &["truncated header"]);
        // An incomplete header literal.
        refused(
            &file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", &[]),
            &["malformed header"],
        );
    }

    #[test]
    fn refuses_truncated_data() {
        let bytes = encode_npy(&Array::from_vec(&[2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap());
        refused(&bytes[..bytes.len() - 1], &["truncated data", "expected 16 bytes of data", "found 15"]);
        refused(&bytes[..128], &["expected 16 bytes of data, found 0"]);
    }

    #[test]
    fn refuses_trailing_data() {
        let mut bytes = encode_npy(&Array::from_vec(&[2], vec![1i64, 2]).unwrap());
        bytes.extend_from_slice(&[0, 0, 0]);
        refused(&bytes, &["trailing data", "expected 16 bytes", "found 19", "3 extra"]);
    }

    #[test]
    fn refuses_big_endian() {
        let bytes = file(1, &header(">f4", "False", "(1,)"), &[0x3f, 0x80, 0, 0]);
        refused(&bytes, &["big-endian", "'>f4'", "not supported", "arr.astype('<f4')"]);
        let bytes = file(1, &header("!i8", "False", "(1,)"), &[0; 8]);
        refused(&bytes, &["big-endian", "'!i8'", "arr.astype('<i8')"]);
    }

    #[test]
    fn refuses_fortran_order() {
        let bytes = file(1, &header("<f8", "True", "(2, 3)"), &[0; 48]);
        refused(&bytes, &["Fortran", "fortran_order: True", "np.ascontiguousarray"]);
    }

    #[test]
    fn refuses_unsupported_dtypes() {
        for descr in ["<f2", "<u1", "|O", "<c8", "|u1", "<U3", ">f2", "|V16", "<m8[s]", "<i2"] {
            let bytes = file(1, &header(descr, "False", "(1,)"), &[0; 8]);
            refused(&bytes, &["unsupported dtype", &format!("'{descr}'"), "'<f4'", "'|b1'", "'<i8'"]);
        }
        let structured = "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }";
        refused(
            &file(1, structured, &[0; 8]),
            &["structured dtype", "[('x', '<f4'), ('y', '<i4')]", "'<f8'"],
        );
    }

    #[test]
    fn refuses_overflowing_shapes() {
        let big = usize::MAX.to_string();
        let h = header("<f4", "False", &format!("({big}, 2)"));
        refused(&file(1, &h, &[]), &[&big, "is too large"]);
        // Fits usize as an element count, but not as bytes: refused before any size is used.
        let h = header("<f8", "False", &format!("({},)", usize::MAX / 4));
        refused(&file(1, &h, &[]), &["is too large", "EiB"]);
        let h = header("<f8", "False", "(99999999999999999999999999, 0)");
        refused(&file(1, &h, &[]), &["dimension 99999999999999999999999999", "overflows usize"]);
        // A zero dim makes a shape empty, but does not excuse huge others (their strides).
        let h = header("<f8", "False", &format!("({big}, 0)"));
        refused(&file(1, &h, &[]), &["is too large"]);
        let h = header("<f8", "False", &format!("({}, 0)", 1u64 << 40));
        assert!(decode_npy(&file(1, &h, &[])).unwrap().is_empty());
    }

    #[test]
    fn refuses_malformed_headers() {
        let cases: [(&str, &[&str]); 16] = [
            ("", &["malformed header", "ends"]),
            ("[1, 2]", &["expected a dict literal", "[1, 2]"]),
            ("{'descr': '<f4', 'shape': (1,)}", &["no 'fortran_order' key"]),
            ("{'fortran_order': False, 'shape': (1,)}", &["no 'descr' key"]),
            ("{'descr': '<f4', 'fortran_order': False}", &["no 'shape' key"]),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
                &["unexpected key 'extra'"],
            ),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
                &["'descr' appears twice"],
            ),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
                &["'fortran_order' must be True or False"],
            ),
            ("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", &["'descr' must be a string"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", &["'shape' must be a tuple", "1"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 'a')}", &["'shape' must be a tuple"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", &["negative dimension -1"]),
            ("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", &["malformed header"]),
            ("{'descr': '<f4' 'fortran_order': False}", &["expected ',' or '}'"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", &["expected an integer"]),
            ("{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", &["unexpected name \"false\""]),
        ];
        for (h, needles) in cases {
            refused(&file(1, h, &[0; 4]), needles);
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        refused(&file(1, &deep, &[]), &["nested more than"]);
        refused(&file(3, "", &[]).into_iter().chain([0xff, 0xfe]).collect::<Vec<_>>(), &["malformed header"]);
        let mut bad_utf8 = file(3, "{}", &[]);
        bad_utf8[12] = 0xff;
        refused(&bad_utf8, &["not valid UTF-8"]);
    }

    #[test]
    fn mangled_files_never_panic() {
        let good = encode_npy(&Array::from_vec(&[2, 2], vec![1i32, 2, 3, 4]).unwrap());
        for len in 0..good.len() {
            assert!(decode_npy(&good[..len]).is_err());
        }
        for i in 0..good.len() {
            for b in [0u8, b' ', b'(', b')', b'\'', b'"', b',', b'{', b'}', b'\\', b'9', b'-', 0x80, 0xff] {
                let mut bytes = good.clone();
                bytes[i] = b;
                let _ = decode_npy(&bytes);
            }
        }
    }
}
