//! The `cre-cockpit` binary: everything lives in the library so tests and
//! benchmarks drive the same code.

fn main() -> std::process::ExitCode {
    cre_cockpit::cli::main()
}
