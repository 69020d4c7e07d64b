//! The demo city's intake resource: its government-services administration takes other
//! regions' 跨省通办 packages and answers its catalogue through the gateway.

use tongban_exchange::catalogue::model::{DataItem, OpenType, ResourceDraft, ShareType};

use crate::error::AppResult;
use crate::state::AppState;

pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    let Some(intake) = city.departments.iter().find(|d| {
        d.kind == "government_services" && d.region_code.as_str() == tongban_platform::demo::CITY
    }) else {
        return Ok(());
    };
    let draft = ResourceDraft {
        name: "跨省通办收件与回执".into(),
        description:
            "其他地区政务服务管理部门送达的跨省通办申请包与办理进度，以及本地区跨省通办事项清单。"
                .into(),
        share_type: ShareType::Conditional,
        share_conditions: Some(
            "仅向签订跨省通办合作的地区政务服务管理部门授权，用于收件、回执与事项清单。".into(),
        ),
        legal_basis: None,
        open_type: OpenType::None,
        update_cycle: "realtime".into(),
        format: "api".into(),
        service: Some(crate::PROVIDER.into()),
        items: crate::intake::ITEMS
            .iter()
            .map(|(code, name, kind)| DataItem {
                code: (*code).into(),
                name: (*name).into(),
                kind: (*kind).into(),
                length: None,
                personal: None,
            })
            .collect(),
    };
    tongban_exchange::catalogue::demo::seed_resource(
        state,
        crate::INTAKE_RESOURCE,
        &intake.id,
        draft,
    )
    .await
}
