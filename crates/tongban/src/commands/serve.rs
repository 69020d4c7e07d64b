//! Serving the platform, with or without the demo city.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::{Application, Config, demo};
use tongban_core::SystemClock;

/// Serves; with `demo = Some(n)`, first seeds the demo city and `n` synthetic load holders.
pub(crate) async fn serve(mut config: Config, demo: Option<usize>) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    if demo.is_some() {
        tongban_app::keys::master::load_or_generate_for_demo(&config)?;
        // The demo deployment serves 临江市 unless configured otherwise: its health authority
        // is the city's.
        if config.region_code == tongban_core::RegionCode::NATIONAL {
            config.region_code = demo::CITY.into();
        }
    }
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let app = Application::build(state.clone())
        .await
        .context("binding the listen address")?;
    let base_url = state.config.public_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            app.local_addr().map(|a| a.to_string()).unwrap_or_default()
        )
    });
    if let Some(load_holders) = demo {
        let mut credentials = demo::seed(&state, &base_url)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        if load_holders > 0 {
            println!("making {load_holders} synthetic holders for load tests …");
            credentials.load_tokens = demo::seed_load_holders(&state, load_holders)
                .await
                .map_err(|e| anyhow::anyhow!("seeding load holders: {e}"))?;
        }
        let path = demo::write_credentials(&data_dir, &credentials)?;
        println!("tongban demo city 临江市 is at {base_url}");
        println!(
            "demo accounts (passwords, TOTP secrets and API tokens) are in {}",
            path.display()
        );
        for account in &credentials.accounts {
            println!(
                "  {:<20} {:<22} {}",
                account.role, account.username, account.password
            );
        }
    } else {
        println!("tongban is serving at {base_url}");
    }
    tracing::info!(%base_url, engine = state.db.engine().as_str(), "serving");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
