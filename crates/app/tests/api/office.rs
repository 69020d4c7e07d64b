//! 协同办公: document numbers (发文字号) issued without a gap or a repeat while many issuers
//! work at once — on PostgreSQL as on several nodes, since every issuer has a connection of its
//! own — and while some of them fail after taking a number.

use tongban_app::error::{AppError, retrying};
use tongban_app::office::{numbering, store};

use crate::helpers::spawn_app;

#[tokio::test]
async fn ten_thousand_documents_numbered_at_once_have_no_gap_and_no_repeat() {
    let app = spawn_app().await;
    let issued = 10_000;
    let issuers = 32;
    let mut work = tokio::task::JoinSet::new();
    for issuer in 0..issuers {
        let state = app.state.clone();
        work.spawn(async move {
            let mut kept = 0usize;
            for n in (issuer..issued).step_by(issuers) {
                // One in ten fails after taking its number: the number must come back.
                let fails = n % 10 == 7;
                let outcome = retrying(|| {
                    let state = state.clone();
                    async move {
                        let mut tx = state.pool().begin().await?;
                        let number = numbering::issue(&mut tx, "临政发", 2026).await?;
                        let document = store::Document {
                            id: format!("doc-{n}"),
                            department_id: "linjiang-zwfw".into(),
                            draft: tongban_app::office::examples::notice(n),
                            state: "numbered".into(),
                            number: Some(number),
                            created_by: "demo.deptadmin".into(),
                            created_at: 0,
                            modified_at: 0,
                        };
                        store::insert_document(&mut *tx, &document).await?;
                        if fails {
                            tx.rollback().await?;
                            return Err(AppError::Conflict("failed on purpose".into()));
                        }
                        tx.commit().await?;
                        Ok(())
                    }
                })
                .await;
                match outcome {
                    Ok(()) => kept += 1,
                    Err(AppError::Conflict(_)) if fails => {}
                    Err(other) => panic!("issuing {n}: {other}"),
                }
            }
            kept
        });
    }
    let mut kept = 0;
    while let Some(done) = work.join_next().await {
        kept += done.expect("issuer");
    }
    assert_eq!(kept, issued - issued / 10);
    let numbers = store::numbers_of(app.state.pool(), "临政发", 2026)
        .await
        .expect("numbers");
    let expected: Vec<i64> = (1..=kept as i64).collect();
    assert_eq!(
        numbers, expected,
        "numbers run from 1 without a gap or a repeat"
    );
    // Another year and another code start again from 1.
    let mut tx = app.state.pool().begin().await.expect("tx");
    let next_year = numbering::issue(&mut tx, "临政发", 2027)
        .await
        .expect("issue");
    let other_code = numbering::issue(&mut tx, "临政办函", 2026)
        .await
        .expect("issue");
    tx.commit().await.expect("commit");
    assert_eq!(next_year.to_string(), "临政发〔2027〕1号");
    assert_eq!(other_code.to_string(), "临政办函〔2026〕1号");
}
