//! XLSForms read, written as XForms, and submissions checked against them.

use tongban_tables::xlsx::fixtures::workbook_of;
use tongban_xform::check::Refusal;
use tongban_xform::xpath::Env;
use tongban_xform::{Checker, Kind, Rule, xform, xlsform};

fn rows(table: &[&[&str]]) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

const SURVEY_HEADER: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "required",
    "constraint",
    "constraint_message",
    "relevant",
    "default",
    "calculation",
];

/// A household visit: the questions a community worker asks, with a repeat of members.
fn household() -> Vec<u8> {
    let survey = rows(&[
        SURVEY_HEADER,
        &[
            "text",
            "head_name",
            "户主姓名",
            "",
            "yes",
            "string-length(.) <= 20",
            "不超过20字",
            "",
            "",
            "",
        ],
        &[
            "integer",
            "members",
            "家庭人数",
            "",
            "yes",
            ". > 0 and . < 30",
            "",
            "",
            "",
            "",
        ],
        &[
            "select_one yn",
            "vaccinated",
            "是否接种",
            "",
            "true()",
            "",
            "",
            "${members} > 0",
            "",
            "",
        ],
        &[
            "select_multiple symptoms",
            "symptoms",
            "症状",
            "",
            "",
            "",
            "",
            "selected(${vaccinated}, 'no')",
            "",
            "",
        ],
        &[
            "decimal",
            "temp",
            "体温",
            "",
            "",
            "${temp} >= 35 and ${temp} <= 43",
            "",
            "",
            "36.5",
            "",
        ],
        &[
            "date",
            "visit",
            "走访日期",
            "",
            "",
            ". <= today()",
            "不能晚于今天",
            "",
            "",
            "",
        ],
        &[
            "begin group",
            "addr",
            "地址",
            "",
            "",
            "",
            "",
            "${members} > 1",
            "",
            "",
        ],
        &["text", "street", "街道", "", "", "", "", "", "", ""],
        &["end group", "", "", "", "", "", "", "", "", ""],
        &["begin repeat", "person", "成员", "", "", "", "", "", "", ""],
        &["text", "pname", "姓名", "", "yes", "", "", "", "", ""],
        &[
            "integer",
            "age",
            "年龄",
            "",
            "",
            "${age} < 150",
            "",
            "",
            "",
            "",
        ],
        &["end repeat", "", "", "", "", "", "", "", "", ""],
        &[
            "calculate",
            "double",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "${members} * 2",
        ],
        &["note", "thanks", "谢谢", "", "", "", "", "", "", ""],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
        &["symptoms", "fever", "发热"],
        &["symptoms", "cough", "咳嗽"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version", "instance_name"],
        &[
            "家庭走访",
            "household",
            "2026120601",
            "concat('走访-', ${head_name})",
        ],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
    ])
}

fn env() -> Env {
    Env {
        today: time::macros::date!(2026 - 12 - 06),
    }
}

#[test]
fn an_xlsform_is_read_with_its_tree_and_references_as_paths() {
    let form = xlsform::read(&household(), "upload").expect("the form reads");
    assert_eq!(form.id, "household");
    assert_eq!(form.title, "家庭走访");
    assert_eq!(form.version.as_deref(), Some("2026120601"));
    let names: Vec<&str> = form.children.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "head_name",
            "members",
            "vaccinated",
            "symptoms",
            "temp",
            "visit",
            "addr",
            "person",
            "double",
            "thanks"
        ]
    );
    let vaccinated = &form.children[2];
    assert_eq!(vaccinated.kind, Kind::SelectOne("yn".into()));
    assert_eq!(vaccinated.required.as_deref(), Some("true()"));
    assert_eq!(vaccinated.relevant.as_deref(), Some(" /data/members  > 0"));
    // Inside a repeat, a reference to a question of the same repeat is relative.
    let age = &form.children[7].children[1];
    assert_eq!(age.constraint.as_deref(), Some(" ../age  < 150"));
    assert_eq!(form.children[4].default.as_deref(), Some("36.5"));
    assert_eq!(
        form.instance_name.as_deref(),
        Some("concat('走访-',  /data/head_name )")
    );
    // The file name stands in for a missing settings sheet.
    let bare = workbook_of(&[(
        "survey",
        &rows(&[&["type", "name", "label"], &["text", "q", "问"]]),
    )]);
    let form = xlsform::read(&bare, "my_form").expect("reads");
    assert_eq!(
        (form.id.as_str(), form.title.as_str()),
        ("my_form", "my_form")
    );
}

#[test]
fn the_xform_has_the_instance_binds_choices_and_controls() {
    let form = xlsform::read(&household(), "upload").expect("reads");
    let xml = xform::write(&form);
    for part in [
        r#"<data id="household" version="2026120601">"#,
        "<temp>36.5</temp>",
        r#"<person jr:template=""><pname/><age/></person><person><pname/><age/></person>"#,
        "<meta><instanceID/><instanceName/></meta>",
        r#"<instance id="yn"><root><item><name>yes</name><label>是</label></item>"#,
        r#"<bind nodeset="/data/members" type="int" required="true()" constraint=". &gt; 0 and . &lt; 30"/>"#,
        r#"<bind nodeset="/data/addr" relevant=" /data/members  &gt; 1"/>"#,
        r#"<bind nodeset="/data/thanks" type="string" readonly="true()"/>"#,
        r#"<bind nodeset="/data/double" type="string" calculate=" /data/members  * 2"/>"#,
        r#"jr:preload="uid""#,
        r#"<select1 ref="/data/vaccinated"><label>是否接种</label><itemset nodeset="instance('yn')/root/item">"#,
        r#"<group ref="/data/person"><label>成员</label><repeat nodeset="/data/person">"#,
    ] {
        assert!(xml.contains(part), "the XForm lacks {part}\n{xml}");
    }
    // The XForm is well-formed: it reads back as an instance document.
    let back = tongban_xform::Instance::parse(&xml).expect("well-formed");
    assert_eq!(back.name(tongban_xform::Instance::ROOT), "html");
}

fn submission(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" id="household" version="2026120601">{body}<meta><instanceID>uuid:6b2f0c1e-1</instanceID></meta></data>"#
    )
}

const GOOD: &str = "<head_name>王芳</head_name><members>3</members><vaccinated>no</vaccinated><symptoms>fever cough</symptoms><temp>36.8</temp><visit>2026-12-01</visit><addr><street>解放路 12 号</street></addr><person><pname>王芳</pname><age>41</age></person><person><pname>李强</pname><age>12</age></person><double>6</double><thanks/>";

#[test]
fn a_valid_submission_is_accepted_with_its_answers() {
    let checker = Checker::new(xlsform::read(&household(), "x").expect("reads")).expect("compiles");
    let checked = checker.check(&submission(GOOD), &env()).expect("valid");
    assert_eq!(checked.instance_id, "uuid:6b2f0c1e-1");
    assert_eq!(checked.version.as_deref(), Some("2026120601"));
    assert_eq!(checked.instance_name.as_deref(), Some("走访-王芳"));
    let answer = |path: &str| {
        checked
            .answers
            .iter()
            .find(|a| a.path == path)
            .map(|a| a.value.as_str())
    };
    assert_eq!(answer("/data/person[2]/age"), Some("12"));
    assert_eq!(answer("/data/addr/street"), Some("解放路 12 号"));
    assert_eq!(
        checked
            .answers
            .iter()
            .filter(|a| a.field == "/data/person/pname")
            .count(),
        2
    );
    // Entities in text are resolved.
    let with_entity = GOOD.replace("解放路 12 号", "A &amp; B &#x4E00;");
    let checked = checker
        .check(&submission(&with_entity), &env())
        .expect("valid");
    assert!(checked.answers.iter().any(|a| a.value == "A & B 一"));
}

fn refused(body: &str) -> Vec<(String, Rule)> {
    let checker = Checker::new(xlsform::read(&household(), "x").expect("reads")).expect("compiles");
    match checker.check(&submission(body), &env()) {
        Err(Refusal::Invalid(list)) => list.into_iter().map(|i| (i.path, i.rule)).collect(),
        other => panic!("expected invalid answers, got {other:?}"),
    }
}

#[test]
fn each_rule_is_checked_and_named() {
    // Required and empty; a constraint with its message; a value not of the type.
    let body = GOOD
        .replace("<head_name>王芳</head_name>", "<head_name></head_name>")
        .replace("<visit>2026-12-01</visit>", "<visit>2026-12-31</visit>")
        .replace("<members>3</members>", "<members>three</members>");
    let found = refused(&body);
    assert!(found.contains(&("/data/head_name".into(), Rule::Required)));
    assert!(found.contains(&(
        "/data/visit".into(),
        Rule::Constraint(Some("不能晚于今天".into()))
    )));
    assert!(found.contains(&("/data/members".into(), Rule::Type("int"))));
    // A choice not in the list, in a select_one and in a select_multiple.
    let found = refused(&GOOD.replace(
        "<vaccinated>no</vaccinated>",
        "<vaccinated>maybe</vaccinated>",
    ));
    assert_eq!(
        found,
        [("/data/vaccinated".into(), Rule::NotAChoice("maybe".into()))]
    );
    let found = refused(&GOOD.replace("fever cough", "fever rash"));
    assert_eq!(
        found,
        [("/data/symptoms".into(), Rule::NotAChoice("rash".into()))]
    );
    // A constraint inside the second repeat instance, with the instance numbered.
    let found = refused(&GOOD.replace("<age>12</age>", "<age>151</age>"));
    assert_eq!(
        found,
        [("/data/person[2]/age".into(), Rule::Constraint(None))]
    );
    // Required inside a repeat; an element the form does not have.
    let found = refused(&GOOD.replace("<pname>李强</pname>", "<pname/><extra>1</extra>"));
    assert!(found.contains(&("/data/person[2]/pname".into(), Rule::Required)));
    assert!(found.contains(&("/data/person/extra".into(), Rule::Unknown)));
    // A question left out entirely counts as unanswered.
    let found = refused(&GOOD.replace("<members>3</members>", ""));
    assert!(found.contains(&("/data/members".into(), Rule::Required)));
}

#[test]
fn questions_that_are_not_relevant_are_not_checked() {
    let checker = Checker::new(xlsform::read(&household(), "x").expect("reads")).expect("compiles");
    // One member: the address group is not relevant, so its answers are not checked or kept;
    // vaccinated "yes": the symptoms question is not relevant.
    let body = GOOD
        .replace("<members>3</members>", "<members>1</members>")
        .replace(
            "<vaccinated>no</vaccinated>",
            "<vaccinated>yes</vaccinated>",
        )
        .replace("fever cough", "not-a-choice");
    let checked = checker.check(&submission(&body), &env()).expect("valid");
    assert!(
        !checked
            .answers
            .iter()
            .any(|a| a.field == "/data/addr/street")
    );
    assert!(!checked.answers.iter().any(|a| a.field == "/data/symptoms"));
    // Read as a draft, the same answers say which questions to hide; the group hides with
    // its children.
    let review = checker
        .review(&submission(&body), &env())
        .expect("readable");
    assert!(review.invalid.is_empty(), "{:?}", review.invalid);
    assert_eq!(
        review.hidden,
        ["/data/symptoms", "/data/addr", "/data/addr/street"]
    );
    let shown = checker.review(&submission(GOOD), &env()).expect("readable");
    assert_eq!(shown.hidden, Vec::<String>::new());
    // With no members, vaccinated is not relevant and its required rule does not apply.
    let body = GOOD
        .replace("<members>3</members>", "<members>0</members>")
        .replace("<vaccinated>no</vaccinated>", "<vaccinated/>");
    let found = match checker.check(&submission(&body), &env()) {
        Err(Refusal::Invalid(list)) => list,
        other => panic!("members 0 breaks its constraint: {other:?}"),
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "/data/members");
}

#[test]
fn submissions_for_another_form_or_without_an_instance_id_or_malformed_are_refused() {
    let checker = Checker::new(xlsform::read(&household(), "x").expect("reads")).expect("compiles");
    let other = submission(GOOD).replace(r#"id="household""#, r#"id="other""#);
    assert_eq!(
        checker.check(&other, &env()),
        Err(Refusal::OtherForm("other".into()))
    );
    let no_id = submission(GOOD).replace("uuid:6b2f0c1e-1", "");
    assert_eq!(checker.check(&no_id, &env()), Err(Refusal::NoInstanceId));
    for broken in [
        "",
        "<data id=\"household\">",
        "<data id=\"household\"></data><data/>",
        "<!DOCTYPE data [<!ENTITY x \"y\">]><data id=\"household\">&x;</data>",
        "<data id=\"household\">&unknown;</data>",
        "not xml at all",
    ] {
        assert!(
            matches!(checker.check(broken, &env()), Err(Refusal::Xml(_))),
            "{broken:?} should be refused as XML"
        );
    }
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert!(matches!(checker.check(&deep, &env()), Err(Refusal::Xml(_))));
}

fn problems(survey: &[&[&str]], choices: Option<&[&[&str]]>) -> Vec<String> {
    let survey = rows(survey);
    let choices = choices.map(rows);
    let mut sheets: Vec<(&str, &[Vec<String>])> = vec![("survey", &survey)];
    if let Some(c) = &choices {
        sheets.push(("choices", c));
    }
    match xlsform::read(&workbook_of(&sheets), "f") {
        Ok(form) => panic!("expected refusal, read {form:?}"),
        Err(list) => list.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn malformed_xlsforms_are_refused_with_sheet_row_and_column() {
    let header: &[&str] = &["type", "name", "label", "constraint", "relevant"];
    let found = problems(
        &[
            header,
            &["text", "a", "A", "", ""],
            &["barcode", "b", "B", "", ""],
            &["integer", "c", "C", ". > ", ""],
            &["integer", "d", "D", "", "${nowhere} = 1"],
            &["select_one missing", "e", "E", "", ""],
            &["text", "a", "again", "", ""],
            &["text", "1bad", "bad name", "", ""],
            &["integer", "f", "F", "frobnicate(.)", ""],
            &["begin group", "g", "G", "", ""],
        ],
        None,
    );
    let expect = [
        "sheet survey, row 3, column type: the type \"barcode\" is unknown",
        "sheet survey, row 4, column constraint: the expression \". >\" cannot be read: the expression ends too early",
        "sheet survey, row 5, column relevant: ${nowhere} names no question",
        "sheet survey, row 6, column type: the choice list missing is not on the choices sheet",
        "sheet survey, row 7, column name: the name a is already used on row 2",
        "sheet survey, row 8, column name: \"1bad\" cannot name a question",
        "sheet survey, row 9, column constraint: the expression \"frobnicate(.)\" cannot be read: the function frobnicate() is not in the supported subset",
        "sheet survey, row 10, column type: g is never closed",
    ];
    for wanted in expect {
        assert!(
            found.iter().any(|f| f.starts_with(wanted)),
            "missing {wanted:?} in {found:#?}"
        );
    }
    // No survey sheet at all; a stray end; several languages; a choice without a label.
    let none = xlsform::read(&workbook_of(&[("sheet1", &rows(&[&["a"]]))]), "f");
    assert_eq!(
        none.map_err(|e| e[0].to_string()).err().as_deref(),
        Some("the workbook has no sheet named survey")
    );
    let found = problems(
        &[
            &["type", "name", "label::English (en)"],
            &["end group", "", ""],
            &["select_one yn", "q", "Q"],
        ],
        Some(&[&["list_name", "name", "label"], &["yn", "yes", ""]]),
    );
    for wanted in [
        "sheet survey, row 2, column type: end group closes nothing",
        "sheet survey, row 3, column label::English (en): forms in several languages are not supported yet",
        "sheet choices, row 2, column label: the choice has no label",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(wanted)),
            "missing {wanted:?} in {found:#?}"
        );
    }
    // Not a workbook.
    let junk = xlsform::read(b"PK\x03\x04 not really", "f").expect_err("refused");
    assert!(junk[0].problem.starts_with("the workbook cannot be read"));
}

#[test]
fn prefilled_questions_name_what_fills_them_and_need_their_key() {
    let header: &[&str] = &["type", "name", "label", "prefill"];
    // A good declaration reads, and the XForm says nothing of it (ODK's tools ignore it).
    let good = rows(&[
        header,
        &["text", "id", "身份证号", "person.resident_id"],
        &["text", "who", "姓名", "person.name"],
        &["text", "phone", "电话", "person.phone"],
    ]);
    let form = xlsform::read(&workbook_of(&[("survey", &good)]), "p").expect("reads");
    let prefill: Vec<Option<&str>> = form.children.iter().map(|n| n.prefill.as_deref()).collect();
    assert_eq!(
        prefill,
        [
            Some("person.resident_id"),
            Some("person.name"),
            Some("person.phone")
        ]
    );
    assert!(!tongban_xform::xform::write(&form).contains("prefill"));
    // Unknown sources, non-text questions, repeats, a missing key, two keys: refused.
    let found = problems(
        &[
            header,
            &["text", "a", "A", "person.salary"],
            &["integer", "b", "B", "person.name"],
            &["begin repeat", "r", "R", ""],
            &["text", "c", "C", "person.phone"],
            &["end repeat", "", "", ""],
            &["text", "d", "D", "enterprise.name"],
            &["text", "e", "E", "person.resident_id"],
            &["text", "f", "F", "person.resident_id"],
        ],
        None,
    );
    let expect = [
        "sheet survey, row 2, column prefill: \"person.salary\" is not something the platform prefills",
        "sheet survey, row 3, column prefill: a prefilled question is a text question",
        "sheet survey, row 5, column prefill: questions inside a repeat are not prefilled",
        "sheet survey, row 7, column prefill: enterprise.name is looked up by the question marked enterprise.uscc, and there is none",
        "sheet survey, row 8, column prefill: person.resident_id marks one question only",
        "sheet survey, row 9, column prefill: person.resident_id marks one question only",
    ];
    for (got, want) in found.iter().zip(expect) {
        assert!(got.starts_with(want), "{got}\n  expected {want}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn a_form_saves_answers_to_an_entity_and_chooses_from_an_entity_list() {
    let survey = rows(&[
        &["type", "name", "label", "save_to", "prefill"],
        &["text", "head", "户主", "head_name", ""],
        &["integer", "members", "人数", "members", ""],
        &["select_one_from_file households.csv", "hh", "原户", "", ""],
        &[
            "integer",
            "before",
            "原人数",
            "",
            "entity.households.members",
        ],
        &[
            "text",
            "before_head",
            "原户主",
            "",
            "entity.households.label",
        ],
    ]);
    let entities = rows(&[
        &["list_name", "label"],
        &["households", "concat(${head}, ' 户')"],
    ]);
    let book = workbook_of(&[("survey", &survey), ("entities", &entities)]);
    let form = xlsform::read(&book, "reg").expect("reads");
    let declared = form.entity.as_ref().expect("an entity declaration");
    assert_eq!(declared.dataset, "households");
    assert_eq!(declared.label, "concat( /data/head , ' 户')");
    let saved: Vec<Option<&str>> = form.children.iter().map(|n| n.save_to.as_deref()).collect();
    assert_eq!(
        saved,
        [Some("head_name"), Some("members"), None, None, None]
    );
    assert_eq!(
        form.children[2].kind,
        Kind::SelectOneFromFile("households.csv".into())
    );
    assert_eq!(form.files(), ["households.csv"]);
    let xml = xform::write(&form);
    for part in [
        r#"xmlns:entities="http://www.opendatakit.org/xforms/entities""#,
        r#"entities:entities-version="2024.1.0""#,
        r#"<meta><entity dataset="households" create="1" id=""><label/></entity><instanceID/></meta>"#,
        r#"<instance id="households" src="jr://file-csv/households.csv"/>"#,
        r#"<bind nodeset="/data/head" type="string" entities:saveto="head_name"/>"#,
        r#"<setvalue ref="/data/meta/entity/@id" event="odk-instance-first-load" value="uuid()"/>"#,
        r#"calculate="concat( /data/head , &apos; 户&apos;)""#,
        r#"<itemset nodeset="instance('households')/root/item">"#,
    ] {
        assert!(xml.contains(part), "missing {part} in {xml}");
    }
    // The entity's id and label in meta are not questions: a submission with them is checked
    // as any other, the chosen entity one token.
    let checker = Checker::new(form).expect("compiles");
    let instance = |hh: &str| {
        format!(
            r#"<data id="reg"><head>王</head><members>3</members><hh>{hh}</hh><before>2</before><before_head/><meta><entity dataset="households" create="1" id="uuid:1"><label>王 户</label></entity><instanceID>uuid:i1</instanceID></meta></data>"#
        )
    };
    assert!(checker.check(&instance("e1"), &env()).is_ok());
    assert!(matches!(
        checker.check(&instance("e1 e2"), &env()),
        Err(Refusal::Invalid(_))
    ));

    // Mistakes, each named where it is.
    let survey = rows(&[
        &["type", "name", "label", "save_to", "prefill"],
        &["text", "a", "A", "name", ""],
        &["text", "b", "B", "p", ""],
        &["text", "c", "C", "p", ""],
        &["begin repeat", "r", "R", "", ""],
        &["text", "d", "D", "q", ""],
        &["end repeat", "", "", "", ""],
        &["select_one_from_file things.xml", "e", "E", "", ""],
        &["text", "f", "F", "", "entity.wells.depth"],
        &[
            "select_multiple yn",
            "g",
            "G",
            "",
            "entity.households.members",
        ],
    ]);
    let entities = rows(&[
        &["list_name", "label", "entity_id"],
        &["households", "${nowhere}", "${a}"],
    ]);
    let choices = rows(&[&["list_name", "name", "label"], &["yn", "y", "Y"]]);
    let book = workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("entities", &entities),
    ]);
    let found: Vec<String> = xlsform::read(&book, "bad")
        .expect_err("refused")
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    for wanted in [
        "sheet survey, row 2, column save_to: \"name\" cannot name a property",
        "sheet survey, row 4, column save_to: the property p is already saved to on row 3",
        "sheet survey, row 6, column save_to: answers inside a repeat are not saved to entities",
        "sheet survey, row 8, column type: \"things.xml\": select_one_from_file takes a CSV file",
        "sheet survey, row 9, column prefill: entity.wells.depth is filled from the entity chosen in the one question of type select_one_from_file wells.csv; the form has 0",
        "sheet survey, row 10, column prefill: a question prefilled from an entity is a text, integer, decimal, date or select_one question",
        "sheet entities, row 2, column entity_id: updating entities or making them conditionally is not supported",
        "sheet entities, column label: ${nowhere} names no question of this form",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(wanted)),
            "missing {wanted:?} in {found:#?}"
        );
    }
}

#[test]
fn curly_quotes_typed_by_a_spreadsheet_are_read_as_straight_ones_as_pyxform_reads_them() {
    let survey = rows(&[
        &["type", "name", "label", "relevant"],
        &["select_one yn", "ok", "是否“同意”", ""],
        &["text", "why", "原因", "${ok} = \u{2018}no\u{2019}"],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
    ]);
    let form = xlsform::read(
        &workbook_of(&[("survey", &survey), ("choices", &choices)]),
        "q",
    )
    .expect("reads");
    assert_eq!(form.children[0].label, "是否\"同意\"");
    assert_eq!(
        form.children[1].relevant.as_deref(),
        Some(" /data/ok  = 'no'")
    );
}
