//! The `unitd` binary: a thin wrapper around [`unitd::cli`].

fn main() -> std::process::ExitCode {
    unitd::cli::main()
}
