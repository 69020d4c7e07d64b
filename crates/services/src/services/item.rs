//! A service item (政务服务事项) with the fields of the national implementation list, and the
//! consistency rules every save must pass, each with its own message.

use serde::{Deserialize, Serialize};

/// 事项类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// 行政许可.
    AdministrativeLicence,
    /// 行政给付.
    AdministrativePayment,
    /// 行政确认.
    AdministrativeConfirmation,
    /// 行政征收.
    AdministrativeLevy,
    /// 其他行政权力.
    OtherPower,
    /// 公共服务.
    PublicService,
}

/// 办件类型: 即办件 (handled on the spot) or 承诺件 (within a promised time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandlingKind {
    Immediate,
    Promised,
}

/// 行使层级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    National,
    Provincial,
    City,
    County,
    Township,
}

/// A time limit: a number of working days, or 即办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "unit", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeLimit {
    Immediate,
    WorkingDays { days: u32 },
}

impl TimeLimit {
    /// Working days, with 即办 as zero.
    fn days(self) -> u32 {
        match self {
            TimeLimit::Immediate => 0,
            TimeLimit::WorkingDays { days } => days,
        }
    }
}

/// 材料形式.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    Original,
    Copy,
    Electronic,
}

/// 来源渠道: who provides a material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The applicant provides it.
    Applicant,
    /// The certificate library provides it (免证办), given `certificate_type`.
    CertificateLibrary,
    /// Another department provides it through data sharing.
    Department,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub name: String,
    pub form: MaterialForm,
    pub required: bool,
    pub source: Source,
    /// The certificate type that satisfies the material, where one exists.
    #[serde(default)]
    pub certificate_type: Option<String>,
}

/// A fee, its standard (amount) and the basis for charging it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    pub standard: String,
    pub basis: String,
}

/// 通办范围.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ItemScope)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// 全市通办.
    City,
    /// 全省通办.
    Province,
    /// 跨省通办.
    CrossProvince,
}

/// How another region's applicant reaches a 跨省通办 item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CrossMode {
    /// 全程网办.
    Online,
    /// 异地代收代办.
    Proxy,
    /// 多地联办: this region does its part, then the item `joint_next` names does the next in
    /// a region the applicant names.
    Joint,
}

/// 办理结果类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// An electronic certificate of `certificate_type`, issued to the applicant's wallet.
    Certificate,
    /// A decision document (批文).
    Approval,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    pub kind: ResultKind,
    pub name: String,
    #[serde(default)]
    pub certificate_type: Option<String>,
}

pub use tongban_forms::{FieldKind, FormField, Prefill};

/// 办理地点: a window where the item is handled in person, its hours and telephone. An
/// address stays in Chinese, as it is written on the street; the English fields give a name
/// and hours a visitor can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub name: String,
    pub address: String,
    /// 办理时间, e.g. 工作日 9:00–12:00、13:30–17:00.
    pub hours: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_en: Option<String>,
}

/// The item's text in English, for a bilingual catalogue: the name, guide, conditions and
/// result, and the materials and form labels by their Chinese name or field code. Whatever is
/// missing is shown in Chinese, marked as such.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct English {
    pub name: String,
    pub guide: String,
    #[serde(default)]
    pub acceptance_conditions: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub visits_reason: Option<String>,
    /// Material names: 中文名 → English.
    #[serde(default)]
    pub materials: std::collections::BTreeMap<String, String>,
    /// Form labels: field code → English.
    #[serde(default)]
    pub form: std::collections::BTreeMap<String, String>,
}

/// The steps a licence item's workflow must have.
pub const LICENCE_STEPS: [&str; 4] = ["accept", "review", "decide", "deliver"];

/// A service item as administrators edit it and citizens read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    /// 实施编码 (up to 36 characters): the item's key.
    pub code: String,
    /// 基本编码 (12 characters).
    pub basic_code: String,
    /// 业务办理项编码.
    #[serde(default)]
    pub handling_code: Option<String>,
    pub name: String,
    pub item_type: ItemType,
    pub handling_kind: HandlingKind,
    /// 设定依据.
    pub legal_basis: String,
    pub exercise_level: Level,
    /// The implementing department's USCC.
    pub department: String,
    /// 法定办结时限 and 承诺办结时限.
    pub statutory_limit: TimeLimit,
    pub promised_limit: TimeLimit,
    /// 受理条件.
    pub acceptance_conditions: String,
    pub materials: Vec<Material>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// 网办深度, I–IV (IV: 全程网办).
    pub online_depth: u8,
    /// 到办事现场次数, and why when not zero.
    pub visits: u8,
    #[serde(default)]
    pub visits_reason: Option<String>,
    pub scope: Scope,
    /// For a 跨省通办 item, the modes other regions may use: `online` (全程网办: applied for
    /// from the applicant's own region) and `proxy` (异地代收代办: received at a window there).
    #[serde(default)]
    pub cross_modes: Vec<CrossMode>,
    /// For a joint item (多地联办) that is not the last part: the code of the item another
    /// region handles next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_next: Option<String>,
    pub result: ResultSpec,
    /// The workflow's steps in order (accept, review, decide, deliver, …).
    pub steps: Vec<String>,
    /// 主题 and 人生事件, for browsing; keywords for search.
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub life_events: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// 办事指南: the plain-language guide.
    pub guide: String,
    /// 办理地点: where to go when the item needs a visit or the applicant prefers one.
    #[serde(default)]
    pub places: Vec<Place>,
    /// 咨询电话 and 监督投诉电话.
    #[serde(default)]
    pub consultation_phone: Option<String>,
    #[serde(default)]
    pub complaint_phone: Option<String>,
    /// The item in English, where the catalogue is bilingual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<English>,
    /// The application form's fields (besides the materials).
    #[serde(default)]
    pub form: Vec<FormField>,
    /// Certificate types the legal basis lets the department use without the holder's
    /// consent (授权用证).
    #[serde(default)]
    pub consent_free_types: Vec<String>,
}

/// A broken rule: the field, the rule's text key (for a page in the reader's language, with
/// `{}` standing for the subject: a fee, a material, a field), and the message in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: &'static str,
    pub rule: &'static str,
    pub subject: String,
    pub message: String,
}

fn violation(rule: &'static str, field: &'static str, message: impl Into<String>) -> Violation {
    violation_about(rule, field, "", message)
}

fn violation_about(
    rule: &'static str,
    field: &'static str,
    subject: &str,
    message: impl Into<String>,
) -> Violation {
    Violation {
        field,
        rule,
        subject: subject.to_owned(),
        message: message.into(),
    }
}

/// A telephone number as people write it: 3–20 digits with spaces, + or -.
fn phone_like(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (3..=20).contains(&digits)
        && text.chars().count() <= 30
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'))
}

fn text_ok(text: &str, max: usize) -> bool {
    let n = text.trim().chars().count();
    n > 0 && n <= max
}

impl ServiceDefinition {
    /// Every rule the item breaks, in the order of the fields (empty when it is consistent).
    /// Rules that need the database (the department and certificate types exist) are checked
    /// where the item is saved.
    pub fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        let code_chars = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !(1..=36).contains(&self.code.len()) || !code_chars(&self.code) {
            found.push(violation(
                "rule.code",
                "code",
                "the implementation code is 1–36 letters, digits or hyphens",
            ));
        }
        if self.basic_code.len() != 12
            || !self.basic_code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            found.push(violation(
                "rule.basic_code",
                "basic_code",
                "the basic code is 12 letters or digits",
            ));
        }
        if !text_ok(&self.name, 100) {
            found.push(violation(
                "rule.name",
                "name",
                "give the item's name (1–100 characters)",
            ));
        }
        if !text_ok(&self.legal_basis, 2000) {
            found.push(violation(
                "rule.legal_basis",
                "legal_basis",
                "give the legal basis",
            ));
        }
        let immediate_limit = self.promised_limit == TimeLimit::Immediate;
        match (self.handling_kind, immediate_limit) {
            (HandlingKind::Immediate, false) => found.push(violation(
                "rule.immediate_limit",
                "promised_limit",
                "an immediate item (即办件) has the promised limit 即办",
            )),
            (HandlingKind::Promised, true) => found.push(violation(
                "rule.promised_days",
                "promised_limit",
                "only an immediate item (即办件) may promise 即办; a promised item (承诺件) gives working days",
            )),
            _ => {}
        }
        for (field, limit) in [
            ("statutory_limit", self.statutory_limit),
            ("promised_limit", self.promised_limit),
        ] {
            if limit == (TimeLimit::WorkingDays { days: 0 }) || limit.days() > 365 {
                found.push(violation(
                    "rule.limit_range",
                    field,
                    "a limit in working days is 1–365; use 即办 for none",
                ));
            }
        }
        if self.promised_limit.days() > self.statutory_limit.days() {
            found.push(violation(
                "rule.promised_over",
                "promised_limit",
                "the promised limit may not exceed the statutory limit",
            ));
        }
        if !(1..=4).contains(&self.online_depth) {
            found.push(violation(
                "rule.depth",
                "online_depth",
                "the online depth is I–IV (1–4)",
            ));
        }
        if (self.scope == Scope::CrossProvince) == self.cross_modes.is_empty() {
            found.push(violation(
                "rule.cross_modes",
                "cross_modes",
                "a 跨省通办 item names its modes (online, proxy, joint), and only such an item",
            ));
        }
        if self.joint_next.is_some() && !self.cross_modes.contains(&CrossMode::Joint) {
            found.push(violation(
                "rule.joint_only",
                "joint_next",
                "only an item handled jointly (cross mode joint) names a next part",
            ));
        }
        if self
            .joint_next
            .as_ref()
            .is_some_and(|next| next == &self.code || next.is_empty() || next.chars().count() > 36)
        {
            found.push(violation(
                "rule.joint_code",
                "joint_next",
                "the next part is another item's code (up to 36 characters)",
            ));
        }
        if self.cross_modes.contains(&CrossMode::Online) && self.online_depth != 4 {
            found.push(violation(
                "rule.cross_online",
                "cross_modes",
                "only a fully online item (level IV) is handled online across regions",
            ));
        }
        if self.online_depth == 4 && self.visits > 0 {
            found.push(violation(
                "rule.no_visit",
                "visits",
                "a fully online item (level IV, 全程网办) requires no visit",
            ));
        }
        let has_reason = self
            .visits_reason
            .as_deref()
            .is_some_and(|r| text_ok(r, 500));
        if self.visits > 0 && !has_reason {
            found.push(violation(
                "rule.visit_reason",
                "visits_reason",
                "give the reason the applicant must come in person",
            ));
        }
        for fee in &self.fees {
            if !text_ok(&fee.name, 100) || !text_ok(&fee.standard, 200) || !text_ok(&fee.basis, 500)
            {
                found.push(violation_about(
                    "rule.fee",
                    "fees",
                    fee.name.trim(),
                    format!(
                        "the fee {} needs its name, its standard and the basis for charging it",
                        fee.name.trim()
                    ),
                ));
            }
        }
        for material in &self.materials {
            if !text_ok(&material.name, 100) {
                found.push(violation(
                    "rule.material_name",
                    "materials",
                    "every material needs a name",
                ));
            }
            if material.source == Source::CertificateLibrary && material.certificate_type.is_none()
            {
                found.push(violation_about(
                    "rule.material_type",
                    "materials",
                    &material.name,
                    format!(
                        "{} comes from the certificate library: name its certificate type",
                        material.name
                    ),
                ));
            }
        }
        if self.result.kind == ResultKind::Certificate && self.result.certificate_type.is_none() {
            found.push(violation(
                "rule.result_type",
                "result",
                "a certificate result names its certificate type",
            ));
        }
        if self.item_type == ItemType::AdministrativeLicence {
            let missing: Vec<&str> = LICENCE_STEPS
                .into_iter()
                .filter(|step| !self.steps.iter().any(|s| s == step))
                .collect();
            if !missing.is_empty() {
                found.push(violation_about(
                    "rule.licence_steps",
                    "steps",
                    &missing.join(", "),
                    format!(
                        "a licence item's workflow has at least accept, review, decide and deliver; missing: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        if self.steps.is_empty() {
            found.push(violation(
                "rule.steps",
                "steps",
                "the workflow needs at least one step",
            ));
        }
        let mut codes = std::collections::HashSet::new();
        for field in &self.form {
            let code_ok = !field.code.is_empty()
                && field.code.len() <= 40
                && field
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !code_ok || !codes.insert(field.code.as_str()) || !text_ok(&field.label, 100) {
                found.push(violation_about(
                    "rule.form_field",
                    "form",
                    &field.code,
                    format!(
                        "form field {}: a unique code of lower-case letters, digits or _ and a label",
                        field.code
                    ),
                ));
            }
        }
        if !text_ok(&self.guide, 20_000) {
            found.push(violation(
                "rule.guide",
                "guide",
                "write the plain-language guide",
            ));
        }
        for place in &self.places {
            let phone_ok = place.phone.as_deref().is_none_or(phone_like);
            if !text_ok(&place.name, 100)
                || !text_ok(&place.address, 200)
                || !text_ok(&place.hours, 200)
                || !phone_ok
            {
                found.push(violation(
                    "rule.place",
                    "places",
                    "every place needs its name, address and hours; a phone is digits, spaces, + or -",
                ));
            }
        }
        for (field, phone) in [
            ("consultation_phone", &self.consultation_phone),
            ("complaint_phone", &self.complaint_phone),
        ] {
            if phone.as_deref().is_some_and(|p| !phone_like(p)) {
                found.push(violation(
                    "rule.phone",
                    field,
                    "a telephone number is 3–20 digits, spaces, + or -",
                ));
            }
        }
        if let Some(en) = &self.en {
            if !text_ok(&en.name, 200) || !text_ok(&en.guide, 20_000) {
                found.push(violation(
                    "rule.en",
                    "en",
                    "the English text gives at least the name and the guide",
                ));
            }
            let unknown_material = en
                .materials
                .keys()
                .find(|name| !self.materials.iter().any(|m| &m.name == *name));
            if let Some(name) = unknown_material {
                found.push(violation_about(
                    "rule.en_material",
                    "en",
                    name.as_str(),
                    format!("the English text names a material the item does not have: {name}"),
                ));
            }
            let unknown_field = en
                .form
                .keys()
                .find(|code| !self.form.iter().any(|f| &f.code == *code));
            if let Some(code) = unknown_field {
                found.push(violation_about(
                    "rule.en_field",
                    "en",
                    code.as_str(),
                    format!("the English text labels a form field the item does not have: {code}"),
                ));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule a save can break has its words in both languages, with its subject.
    #[test]
    fn every_broken_rule_has_words_for_the_page() {
        let seed: Vec<ServiceDefinition> =
            serde_json::from_str(include_str!("../../seed/service_items.json")).expect("seed");
        let mut item = seed
            .into_iter()
            .find(|i| i.item_type == ItemType::AdministrativeLicence)
            .expect("a licence item");
        item.code = "bad code!".into();
        item.basic_code = "1".into();
        item.name = String::new();
        item.legal_basis = String::new();
        item.promised_limit = TimeLimit::WorkingDays { days: 400 };
        item.online_depth = 4;
        item.visits = 1;
        item.visits_reason = None;
        item.fees = vec![Fee {
            name: "工本费".into(),
            standard: String::new(),
            basis: String::new(),
        }];
        item.steps = vec!["accept".into()];
        item.guide = String::new();
        item.consultation_phone = Some("call us".into());
        item.en = Some(English {
            name: String::new(),
            ..English::default()
        });
        let broken = item.violations();
        assert!(broken.len() >= 10, "{broken:?}");
        let texts: std::collections::HashMap<&str, (&str, &str)> = crate::texts::TEXTS
            .iter()
            .map(|(key, zh, en)| (*key, (*zh, *en)))
            .collect();
        for v in &broken {
            let (zh, en) = texts
                .get(v.rule)
                .unwrap_or_else(|| panic!("no words for {}", v.rule));
            assert_eq!(
                zh.contains("{}"),
                !v.subject.is_empty(),
                "{}: a subject where the words have a place for it",
                v.rule
            );
            assert_eq!(zh.contains("{}"), en.contains("{}"), "{}", v.rule);
        }
    }
}
