//! The `switchyard` command-line tool. Errors go to stderr as `error: ...` with exit code 1.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(message) = cli::run(args) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
