use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    server::cli::run(server::cli::Cli::parse()).await
}
