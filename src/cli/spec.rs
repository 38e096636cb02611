//! `--input NAME=SPEC` arguments: SPEC is a `.npy` file or `DTYPE[DIMS]` (`f32[4096,4096]`).

use std::path::{Path, PathBuf};

use switchyard::{DType, Shape};

/// What an input is bound to.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Read from a `.npy` file.
    File(PathBuf),
    /// A declared type; `eval` fills it with seeded random values.
    Typed(DType, Shape),
}

/// One `--input`.
#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    /// The name used in the expression.
    pub name: String,
    /// Where its data or type comes from.
    pub source: Source,
}

/// Parses `NAME=SPEC`.
pub fn parse_input(arg: &str) -> Result<InputSpec, String> {
    let (name, spec) = arg
        .split_once('=')
        .ok_or_else(|| format!("--input `{arg}`: expected NAME=FILE.npy or NAME=DTYPE[DIMS]"))?;
    let name = name.trim();
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("--input `{arg}`: `{name}` is not a valid name (letters, digits, _)"));
    }
    let spec = spec.trim();
    let source = match spec.split_once('[') {
        Some((dtype, rest)) if rest.ends_with(']') && !Path::new(spec).exists() => {
            let dtype = DType::parse(dtype.trim()).ok_or_else(|| {
                format!("--input `{arg}`: unknown dtype `{dtype}` (expected bool, i32, i64, f32, f64)")
            })?;
            let inner = &rest[..rest.len() - 1];
            let mut dims = Vec::new();
            for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                dims.push(
                    part.parse::<usize>().map_err(|_| format!("--input `{arg}`: bad dimension `{part}`"))?,
                );
            }
            let shape = Shape::new(&dims).map_err(|e| format!("--input `{arg}`: {e}"))?;
            Source::Typed(dtype, shape)
        }
        _ => Source::File(PathBuf::from(spec)),
    };
    Ok(InputSpec { name: name.to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_and_file_specs() {
        assert_eq!(
            parse_input("x=f32[4096, 4096]").unwrap().source,
            Source::Typed(DType::F32, Shape::new(&[4096, 4096]).unwrap())
        );
        assert_eq!(parse_input("s=f64[]").unwrap().source, Source::Typed(DType::F64, Shape::scalar()));
        assert_eq!(parse_input("x=data/x.npy").unwrap().source, Source::File("data/x.npy".into()));
        assert!(parse_input("x").unwrap_err().contains("NAME="));
        assert!(parse_input("x=f16[3]").unwrap_err().contains("f16"));
        assert!(parse_input("x=f32[3,a]").unwrap_err().contains("`a`"));
        assert!(parse_input("1x=f32[3]").is_err());
        assert!(parse_input(&format!("x=f32[{},{}]", usize::MAX, 2)).unwrap_err().contains("is too large"));
    }
}
