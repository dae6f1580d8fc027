//! The `ledger` binary: see `ledger --help`.

fn main() -> std::process::ExitCode {
    ledger::cli::main()
}
