use clap::Parser;

/// mimalloc instead of the system allocator: bulk jobs (the renewal run) spend a third of their time in
/// glibc's malloc and free otherwise.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    server::cli::run(server::cli::Cli::parse()).await
}
