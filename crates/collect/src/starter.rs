//! The starter XLSForm a designer downloads from `/collect` (`/collect/starter.xlsx`): one
//! question of each kind the subset reads — a constraint with its message, a choice list,
//! skip logic, a group, a repeat, a person's ID number with the name and phone prefilled from
//! it, answers saved to an entity list — and a `说明` sheet explaining each column. It is a
//! valid form as it stands (tests read it back), so a designer starts from something that
//! works and changes it.

use tongban_tables::xlsx::write::workbook_of;

/// A sheet's rows from literal cells (the starter's sheets, and the demo's forms).
pub(crate) fn rows(table: &[&[&str]]) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

/// The workbook.
pub fn workbook() -> Vec<u8> {
    let survey = rows(&[
        &[
            "type",
            "name",
            "label",
            "hint",
            "required",
            "constraint",
            "constraint_message",
            "relevant",
            "prefill",
            "save_to",
        ],
        &[
            "text",
            "resident_id",
            "户主身份证号",
            "输入后点“查找并填入”",
            "yes",
            "string-length(.) = 18",
            "请填写18位身份证号",
            "",
            "person.resident_id",
            "",
        ],
        &[
            "text",
            "head_name",
            "户主姓名",
            "",
            "yes",
            "",
            "",
            "",
            "person.name",
            "head_name",
        ],
        &[
            "text",
            "phone",
            "联系电话",
            "",
            "",
            "",
            "",
            "",
            "person.phone",
            "phone",
        ],
        &[
            "integer",
            "members",
            "家庭人数",
            "",
            "yes",
            ". >= 1 and . <= 20",
            "1至20人",
            "",
            "",
            "members",
        ],
        &[
            "select_one yn",
            "has_elderly",
            "是否有80岁以上老人",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "",
        ],
        &[
            "select_multiple needs",
            "needs",
            "需要的帮助",
            "可多选",
            "",
            "",
            "",
            "${has_elderly} = 'yes'",
            "",
            "",
        ],
        &[
            "begin group",
            "house",
            "住房情况",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        &[
            "decimal",
            "area",
            "住房面积（平方米）",
            "",
            "",
            ". > 0",
            "",
            "",
            "",
            "",
        ],
        &["end group", "", "", "", "", "", "", "", "", ""],
        &[
            "begin repeat",
            "member",
            "家庭成员",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        &["text", "member_name", "姓名", "", "yes", "", "", "", "", ""],
        &[
            "date",
            "birthday",
            "出生日期",
            "",
            "",
            ". <= today()",
            "不能晚于今天",
            "",
            "",
            "",
        ],
        &["end repeat", "", "", "", "", "", "", "", "", ""],
        &[
            "date",
            "visit_day",
            "走访日期",
            "",
            "yes",
            ". <= today()",
            "",
            "",
            "",
            "",
        ],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
        &["needs", "meals", "助餐"],
        &["needs", "medical", "助医"],
        &["needs", "cleaning", "助洁"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version", "instance_name"],
        &[
            "入户走访（示例）",
            "household_visit",
            "1",
            "concat(${head_name}, ' 户')",
        ],
    ]);
    let entities = rows(&[
        &["list_name", "label"],
        &["households", "concat(${head_name}, ' 户')"],
    ]);
    let guide = rows(&[
        &["列", "说明"],
        &[
            "type",
            "题型：text 文本、integer 整数、decimal 小数、date 日期、select_one 列表名 单选、select_multiple 列表名 多选、select_one_from_file 名单.csv 从实体名单中选、begin group / end group 分组、begin repeat / end repeat 可重复的一组",
        ],
        &["name", "题目的英文名：字母或下划线开头，表内不重复"],
        &["label / hint", "题目与提示"],
        &["required", "yes 为必填"],
        &[
            "constraint / constraint_message",
            "答案须满足的条件（. 表示本题答案，${name} 引用其他题）与不满足时的提示",
        ],
        &["relevant", "显示本题的条件（跳题）"],
        &[
            "prefill",
            "从平台已有数据预填：person.resident_id 标出身份证号题，person.name / person.phone / person.address / person.region 由它查出；enterprise.uscc 与 enterprise.name；entity.名单.属性 从所选实体预填",
        ],
        &[
            "save_to",
            "把答案存为实体名单（entities 表所列）的一个属性，供以后的表单选用",
        ],
        &[
            "choices 表",
            "选项：list_name 列表名、name 选项值、label 选项文字",
        ],
        &[
            "settings 表",
            "form_title 标题、form_id 表单编号、version 版本（每次修改都要变）",
        ],
        &[
            "entities 表",
            "每份提交在名单 list_name 中建一个实体，label 是它的名称",
        ],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
        ("entities", &entities),
        ("说明", &guide),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_is_a_valid_form_with_every_part_it_explains() {
        let form = tongban_xform::xlsform::read(&super::workbook(), "starter").expect("reads");
        assert_eq!(form.id, "household_visit");
        assert_eq!(
            form.entity.as_ref().map(|e| e.dataset.as_str()),
            Some("households")
        );
        let kinds: Vec<String> = form
            .nodes()
            .iter()
            .map(|(_, n)| format!("{:?}", n.kind))
            .collect();
        for kind in [
            "Group",
            "Repeat",
            "SelectOne",
            "SelectMultiple",
            "Date",
            "Decimal",
        ] {
            assert!(
                kinds.iter().any(|k| k.starts_with(kind)),
                "{kind} in {kinds:?}"
            );
        }
        assert!(tongban_xform::Checker::new(form).is_ok());
    }
}
