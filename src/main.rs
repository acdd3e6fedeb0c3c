//! The native `athanor` binary: the CLI layer on the file system.

use std::io::Write;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let out = athanor::cli::run(&argv, &athanor::cli::NativeHost);
    // A closed pipe (`athanor history | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    std::process::exit(out.status);
}
