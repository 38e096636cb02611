//! The `switchyard` command-line tool.
//!
//! Exit codes:
//! - `0`: success, `--help` and `--version` (printed to stdout), and a broken pipe: when the
//!   reader of stdout goes away (`switchyard ... | head -1`), output stops quietly;
//! - `1`: an error: bad input, no such device, an evaluation that fails, or output that
//!   cannot be written (`> /dev/full`); stderr gets one `error: ...` message;
//! - `2`: a usage error, found while reading the command line (unknown option, missing or
//!   non-UTF-8 argument, an expression that begins with `-` not after `--`); stderr gets clap's
//!   `error: ...` message and usage.
//!
//! Nothing here panics: all output goes through fallible writes.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

/// Exit code of a failed command.
const FAILURE: u8 = 1;
/// Exit code of a command line that does not parse.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return command_line_error(&e),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = cli::run(args, &mut out).and_then(|()| out.flush().map_err(cli::Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.is_broken_pipe() => ExitCode::SUCCESS,
        Err(f) => {
            // With stderr gone too there is nobody left to tell.
            let _ = writeln!(io::stderr(), "error: {f}");
            ExitCode::from(FAILURE)
        }
    }
}

/// `--help`/`--version` (stdout, exit 0) or a usage error (stderr, exit 2), printed by clap.
fn command_line_error(e: &clap::Error) -> ExitCode {
    let printed = e.print().and_then(|()| io::stdout().flush());
    if !e.use_stderr() {
        return match printed {
            Ok(()) => ExitCode::SUCCESS,
            Err(io) if io.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(io) => {
                let _ = writeln!(io::stderr(), "error: {}", cli::Failure::from(io));
                ExitCode::from(FAILURE)
            }
        };
    }
    ExitCode::from(USAGE)
}
