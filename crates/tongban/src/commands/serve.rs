//! Serving the platform, with or without the demo city.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::{Application, Config, demo};
use tongban_core::SystemClock;

/// The demo: the demo city, and with `partner` a second region beside it.
pub(crate) async fn demo(
    mut config: Config,
    load_holders: usize,
    partner: Option<String>,
) -> anyhow::Result<()> {
    let Some(partner) = partner else {
        return serve(config, Some(load_holders)).await;
    };
    anyhow::ensure!(
        partner.len() == 6 && partner.bytes().all(|b| b.is_ascii_digit()),
        "--partner takes a six-digit region code"
    );
    // The partner reaches this region's gateway at the address its trust list publishes.
    if config.public_url.is_none() {
        let mut reachable = config.bind;
        if reachable.ip().is_unspecified() {
            reachable.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        config.public_url = Some(format!("http://{reachable}"));
    }
    serve_with(config, Some(load_holders), Some(partner)).await
}

/// Serves; with `demo = Some(n)`, first seeds the demo city and `n` synthetic load holders.
pub(crate) async fn serve(config: Config, demo: Option<usize>) -> anyhow::Result<()> {
    serve_with(config, demo, None).await
}

async fn serve_with(
    mut config: Config,
    demo: Option<usize>,
    partner: Option<String>,
) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    if demo.is_some() {
        tongban_app::keys::master::load_or_generate_for_demo(&config)?;
        // The demo deployment serves 临江市 unless configured otherwise: its health authority
        // is the city's.
        if config.region_code == tongban_core::RegionCode::NATIONAL {
            config.region_code = demo::CITY.into();
        }
        // The operations view's map of the demo city's districts, unless one is given.
        if config.ops_boundaries.is_none() && config.region_code.as_str() == demo::CITY {
            std::fs::create_dir_all(&config.data_dir)?;
            config.ops_boundaries =
                Some(tongban_app::ops::boundaries::write_demo(&config.data_dir)?);
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
        for resident in &credentials.unregistered {
            println!(
                "  to register at /register: {} ({}); `tongban admin deliveries` shows the code sent",
                resident.name, resident.resident_id
            );
        }
        if let Some(code) = partner {
            let local = app.local_addr()?;
            let tokens = tokens_of(&credentials);
            let served = tokio::spawn(app.run_until(shutdown_signal()));
            if let Err(error) = start_partner(&state, &base_url, &tokens, local, &code).await {
                eprintln!("the partner region {code} did not start: {error:#}");
            }
            tracing::info!(%base_url, engine = state.db.engine().as_str(), "serving");
            served.await.context("serving")??;
            return Ok(());
        }
    } else {
        println!("tongban is serving at {base_url}");
    }
    tracing::info!(%base_url, engine = state.db.engine().as_str(), "serving");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

fn tokens_of(credentials: &demo::DemoCredentials) -> Vec<(String, String)> {
    credentials
        .accounts
        .iter()
        .map(|a| (a.username.clone(), a.api_token.clone()))
        .collect()
}

/// Starts a second demo region at the next port (its data in `partner-{code}` under the data
/// folder) and, the first time, makes the 跨省通办 agreement between the two.
async fn start_partner(
    home: &tongban_app::state::AppState,
    home_url: &str,
    home_tokens: &[(String, String)],
    home_addr: std::net::SocketAddr,
    code: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        code != home.config.region_code,
        "the partner needs a region code of its own"
    );
    let port = home_addr.port().checked_add(1).context("no next port")?;
    let bind = std::net::SocketAddr::new(home_addr.ip(), port);
    let base_url = format!("http://{bind}");
    let config = Config {
        data_dir: home.config.data_dir.join(format!("partner-{code}")),
        bind,
        public_url: Some(base_url.clone()),
        database_url: None,
        master_key: None,
        region_code: code.to_owned(),
        ..(*home.config).clone()
    };
    tongban_app::keys::master::load_or_generate_for_demo(&config)?;
    let data_dir = config.data_dir.clone();
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let app = Application::build(state.clone())
        .await
        .with_context(|| format!("binding {bind}"))?;
    let credentials = demo::seed(&state, &base_url)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the partner: {e}"))?;
    let path = demo::write_credentials(&data_dir, &credentials)?;
    tokio::spawn(app.run_until(shutdown_signal()));
    let agreed = tongban_app::crossregion::partners::list(home)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .iter()
        .any(|p| p.region == code);
    if !agreed {
        let client = tongban_app::outbound::plain()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let tokens = tokens_of(&credentials);
        let (a, b) = (
            tongban_harness::agreement::Region {
                state: home,
                base: home_url,
                tokens: home_tokens,
            },
            tongban_harness::agreement::Region {
                state: &state,
                base: &base_url,
                tokens: &tokens,
            },
        );
        tongban_harness::agreement::agree(&client, &a, &b).await?;
    }
    println!(
        "partner region {code} is at {base_url} (跨省通办 with {}; its accounts are in {})",
        home.config.region_code,
        path.display()
    );
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
