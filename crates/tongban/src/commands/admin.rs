//! Administration from the command line: regions, accounts, passwords, tokens, roles.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::admin::service::{self as admin, By, NewAccountRequest};
use tongban_app::identity::model::Role;
use tongban_app::identity::service as identity;
use tongban_app::identity::store as identity_store;
use tongban_app::{AppState, Config};
use tongban_core::SystemClock;

use crate::cli::*;

pub(crate) async fn administer(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    if let AdminCommand::ListRoles = command {
        for role in Role::ALL {
            println!(
                "{:<20} staff={:<5} administrator={}",
                role.as_str(),
                role.is_staff(),
                role.is_trio()
            );
        }
        return Ok(());
    }
    let state: AppState = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let result = match command {
        AdminCommand::CreateUser {
            username,
            display_name,
            role,
            region,
            department,
        } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role; see `tongban admin list-roles`"))?;
            let region_code = region
                .map(|r| r.parse())
                .transpose()
                .map_err(|e| anyhow::anyhow!("region: {e}"))?;
            let request = NewAccountRequest {
                username,
                display_name,
                role,
                department_id: department,
                region_code,
                person_id: None,
                enterprise_id: None,
                password: None,
            };
            admin::create_account(&state, By::Operator, request)
                .await
                .map(|created| {
                    println!("created {} ({role})", created.account.username);
                    if let Some(password) = created.password {
                        println!("password: {password}");
                    }
                    if let Some(secret) = created.totp_secret {
                        println!("totp secret (base32, add to an authenticator app): {secret}");
                    }
                })
        }
        AdminCommand::ResetPassword { username } => {
            let account = identity_store::account_by_username(state.pool(), &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("no such account")?;
            admin::reset_password(&state, By::Operator, &account.id, None)
                .await
                .map(|password| {
                    if let Some(password) = password {
                        println!("new password for {username}: {password}");
                    }
                })
        }
        AdminCommand::Deliveries => tongban_app::identity::activation::take_deliveries(&state)
            .await
            .map(|taken| {
                for delivery in taken {
                    match &delivery.recipient {
                        Some(person) => println!(
                            "— to {} ({}), by the phone on the record of person {person}",
                            delivery.username, delivery.account_id
                        ),
                        None => {
                            println!(
                                "— to {} ({}), in person",
                                delivery.username, delivery.account_id
                            )
                        }
                    }
                    println!("{}", delivery.body.as_str());
                }
            }),
        AdminCommand::CreateToken { username, label } => {
            let account = identity_store::account_by_username(state.pool(), &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("no such account")?;
            identity::issue_token(&state, &account.id, &label, None)
                .await
                .map(|token| println!("{token}"))
        }
        AdminCommand::CreateRegion {
            code,
            name,
            name_en,
        } => {
            let code = code.parse().map_err(|e| anyhow::anyhow!("code: {e}"))?;
            admin::create_region(
                &state,
                By::Operator,
                admin::NewRegion {
                    code,
                    name,
                    name_en,
                },
            )
            .await
            .map(|region| println!("created region {}", region.code))
        }
        AdminCommand::ListRoles => Ok(()),
    };
    state.db.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))
}
