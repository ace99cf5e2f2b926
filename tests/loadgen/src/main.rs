//! `loadgen`: drives a widget server with many Socket.IO visitors and agents; see
//! `loadgen --help` and the crate's module map in `lib.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    loadgen::cli::main().await
}
