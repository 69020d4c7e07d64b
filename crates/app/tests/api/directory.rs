//! 通讯录: staff find colleagues by name, the initials of its pinyin, a post or a phone
//! number; a phone is opened only through the audited accessor; an organ's administrators
//! keep its units (to the sixth level) and posts; and only the leaders its directory marks
//! may sign its documents off.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

async fn look(app: &TestApp, who: &str, query: &str) -> Value {
    let response = app
        .get_as(
            &app.account(who).api_token,
            &format!("/api/v1/office/directory{query}"),
        )
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("json")
}

fn names(found: &Value) -> Vec<String> {
    found["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn person<'a>(found: &'a Value, name: &str) -> &'a Value {
    found["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {found}"))
}

async fn staff_contact_reads(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM personal_data_access WHERE purpose = 'staff_contact'")
        .fetch_one(app.state.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn colleagues_are_found_by_name_initials_post_and_phone_and_a_phone_is_read_on_record() {
    let app = spawn_app().await;
    // A district clerk looks up the city administration's staff.
    let who = "demo.clerk";
    let by_name = look(&app, who, "?q=杨大厅").await;
    let yang = person(&by_name, "杨大厅");
    let places: Vec<String> = yang["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| format!("{} {}", p["place"].as_str().unwrap_or_default(), p["title"]))
        .collect();
    assert!(
        places.iter().any(|p| p.ends_with("办公室 \"文书\"")),
        "{places:?}"
    );
    assert!(
        places
            .iter()
            .any(|p| p.ends_with("政务服务处 / 综合窗口科 \"科员\"")),
        "{places:?}"
    );
    assert_eq!(yang["has_phone"], true);
    // No phone is in a listing.
    assert!(!by_name.to_string().contains("13905710012"));
    assert_eq!(names(&look(&app, who, "?q=ydt").await), vec!["杨大厅"]);
    let heads = names(&look(&app, who, "?q=局长").await);
    assert!(
        heads.contains(&"冯部门".to_owned()) && heads.contains(&"施市监".to_owned()),
        "{heads:?}"
    );
    for typed in ["13905710012", "139-0571-0012"] {
        assert_eq!(
            names(&look(&app, who, &format!("?q={typed}")).await),
            vec!["杨大厅"],
            "{typed}"
        );
    }
    // A unit by its initials, with where it is.
    let unit = look(&app, who, "?q=zhck").await;
    let path = unit["units"][0]["path"].as_str().unwrap_or_default();
    assert!(path.ends_with("政务服务处 / 综合窗口科"), "{unit}");
    assert_eq!(unit["units"][0]["level"], 3);

    // An organ's page: its units and people, the leader first.
    let organ = yang["department_id"].as_str().expect("organ").to_owned();
    let listed = look(&app, who, &format!("?organ={organ}")).await;
    assert_eq!(names(&listed)[0], "冯部门");
    assert_eq!(listed["units"].as_array().map(Vec::len), Some(5));

    // The phone, opened on record: one read recorded before the number is answered.
    let before = staff_contact_reads(&app).await;
    let yang_id = yang["account_id"].as_str().expect("id").to_owned();
    let opened: Value = app
        .get_as(
            &app.account(who).api_token,
            &format!("/api/v1/office/directory/people/{yang_id}/phone"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(opened["phone"], "13905710012");
    assert_eq!(staff_contact_reads(&app).await, before + 1);
    // A phone that is not one is refused and changes nothing; nor may a colleague set it.
    let phone_path = format!("/api/v1/office/directory/people/{yang_id}/phone");
    let put = |token: String, phone: &'static str| {
        let (app, path) = (&app, phone_path.clone());
        async move {
            app.client
                .put(app.url(&path))
                .bearer_auth(token)
                .json(&json!({"phone": phone}))
                .send()
                .await
                .expect("request")
        }
    };
    let bad = put(app.account("demo.deptadmin").api_token.clone(), "电话abc").await;
    assert_eq!(problem(bad).await.0, 422);
    let other = put(app.account(who).api_token.clone(), "13800000000").await;
    assert_eq!(problem(other).await.0, 403);
    let kept: Value = app
        .get_as(&app.account(who).api_token, &phone_path)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(kept["phone"], "13905710012");
    let before = before + 1;
    let nobody = app
        .get_as(
            &app.account(who).api_token,
            "/api/v1/office/directory/people/nobody/phone",
        )
        .await;
    assert_eq!(problem(nobody).await.0, 404);

    // Not for citizens; a query too long or an unknown organ is refused.
    let citizen = app
        .get_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/office/directory?q=ydt",
        )
        .await;
    assert_eq!(problem(citizen).await.0, 403);
    let long = "长".repeat(51);
    let refused = app
        .get_as(
            &app.account(who).api_token,
            &format!("/api/v1/office/directory?q={long}"),
        )
        .await;
    assert_eq!(problem(refused).await.0, 422);
    let unknown = app
        .get_as(
            &app.account(who).api_token,
            "/api/v1/office/directory?organ=nowhere",
        )
        .await;
    assert_eq!(problem(unknown).await.0, 404);

    // The page: found by initials, the phone opened with a button (a POST, on record).
    let mut browser = app.page_login(app.account(who)).await;
    let page = browser
        .get(&app, "/office/directory?q=ydt")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("杨大厅") && page.contains("综合窗口科"),
        "{page}"
    );
    assert!(!page.contains("13905710012"));
    let csrf = crate::helpers::hidden_csrf(&page);
    let shown = browser
        .post_form(
            &app,
            &format!("/office/directory/people/{yang_id}/phone"),
            &[("csrf", &csrf), ("q", "ydt")],
        )
        .await
        .text()
        .await
        .expect("page");
    assert!(shown.contains("tel:13905710012"), "{shown}");
    assert_eq!(staff_contact_reads(&app).await, before + 2);
}

#[tokio::test]
async fn an_organ_keeps_its_units_to_the_sixth_level_and_only_marked_leaders_sign_off() {
    let app = spawn_app().await;
    let token = |who: &str| app.account(who).api_token.clone();
    let head = "demo.deptadmin";
    // Units nested down to the sixth level (the organ is the first); no seventh.
    let mut parent = Value::Null;
    for level in 2..=6 {
        let made = app
            .post_as(
                &token(head),
                "/api/v1/office/directory/units",
                &json!({"parent": parent, "name": format!("第{level}级")}),
            )
            .await;
        assert_eq!(made.status(), 201, "level {level}");
        let made: Value = made.json().await.expect("json");
        assert_eq!(made["level"], level);
        parent = made["id"].clone();
    }
    let seventh = app
        .post_as(
            &token(head),
            "/api/v1/office/directory/units",
            &json!({"parent": parent, "name": "第7级"}),
        )
        .await;
    assert_eq!(problem(seventh).await.0, 422);
    let twice = app
        .post_as(
            &token(head),
            "/api/v1/office/directory/units",
            &json!({"name": "办公室"}),
        )
        .await;
    assert_eq!(problem(twice).await.0, 409);
    let by_clerk = app
        .post_as(
            &token("demo.clerk.city"),
            "/api/v1/office/directory/units",
            &json!({"name": "另一处"}),
        )
        .await;
    assert_eq!(problem(by_clerk).await.0, 403);
    // Another organ's staff cannot be given a post here.
    let yang = app.account_id_of("demo.clerk.city").await;
    let foreign = app
        .post_as(
            &token("demo.deptadmin.market"),
            "/api/v1/office/directory/posts",
            &json!({"account": yang, "title": "科员"}),
        )
        .await;
    assert_eq!(problem(foreign).await.0, 422);

    // The organ's directory marks 冯部门 as its leader. Their 局长 post taken away and a
    // clerk marked instead, 冯部门 may no longer sign off — nor may the clerk, who is not an
    // administrator.
    let feng = app.account_id_of(head).await;
    let organ = look(&app, head, "?q=冯部门").await;
    let post = person(&organ, "冯部门")["posts"][0]["id"]
        .as_str()
        .expect("post")
        .to_owned();
    let removed = app
        .client
        .delete(app.url(&format!("/api/v1/office/directory/posts/{post}")))
        .bearer_auth(token(head))
        .send()
        .await
        .expect("request");
    assert_eq!(removed.status(), 204);
    let marked = app
        .post_as(
            &token(head),
            "/api/v1/office/directory/posts",
            &json!({"account": yang, "title": "副主任", "leader": true}),
        )
        .await;
    assert_eq!(marked.status(), 201);
    let claimed = app
        .post_as(
            &token(head),
            "/api/v1/office/codes",
            &json!({"code": "临政通发"}),
        )
        .await;
    assert_eq!(claimed.status(), 201);
    let notice = serde_json::to_value(tongban_app::office::examples::notice(1)).expect("json");
    let created: Value = app
        .post_as(
            &token("demo.clerk.city"),
            "/api/v1/office/documents",
            &json!({"code": "临政通发", "draft": notice}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let submit =
        |leader: &str| json!({"act": "submit", "reviewers": [feng.clone()], "leader": leader});
    let path = format!("/api/v1/office/documents/{id}/acts");
    let unmarked = app
        .post_as(&token("demo.clerk.city"), &path, &submit(&feng))
        .await;
    let (status, body) = problem(unmarked).await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("marks as a leader"), "{body}");
    // Marked again, 冯部门 signs off.
    let again = app
        .post_as(
            &token(head),
            "/api/v1/office/directory/posts",
            &json!({"account": feng, "title": "局长", "leader": true}),
        )
        .await;
    assert_eq!(again.status(), 201);
    let submitted = app
        .post_as(&token("demo.clerk.city"), &path, &submit(&feng))
        .await;
    assert_eq!(submitted.status(), 200);
    // Each change of a post is in the transparency log: the removal, and both marks.
    let entries: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM ledger_entries ORDER BY idx DESC LIMIT 50")
            .fetch_all(app.state.pool())
            .await
            .expect("entries");
    let posts: Vec<Value> = entries
        .iter()
        .filter_map(|data| serde_json::from_slice::<Value>(data).ok())
        .filter(|entry| entry["kind"] == "office_post")
        .collect();
    let acts: Vec<(String, String, bool)> = posts
        .iter()
        .map(|e| {
            (
                e["act"].as_str().unwrap_or_default().to_owned(),
                e["account"].as_str().unwrap_or_default().to_owned(),
                e["leader"] == true,
            )
        })
        .collect();
    assert!(
        acts.contains(&("remove".into(), feng.clone(), true)),
        "{acts:?}"
    );
    assert!(
        acts.contains(&("add".into(), yang.clone(), true)),
        "{acts:?}"
    );
    assert!(
        acts.contains(&("add".into(), feng.clone(), true)),
        "{acts:?}"
    );
    // Each by the organ's administrator (the demo's by the same).
    assert!(
        posts
            .iter()
            .filter(|e| e["account"] == feng.as_str() || e["account"] == yang.as_str())
            .all(|e| e["by"] == feng.as_str())
    );
}

#[tokio::test]
async fn a_unit_is_renamed_and_moved_with_those_under_it_never_under_itself_nor_below_the_sixth_level()
 {
    let app = spawn_app().await;
    let token = app.account("demo.deptadmin").api_token.clone();
    let add = async |parent: &Value, name: &str| -> Value {
        let made = app
            .post_as(
                &token,
                "/api/v1/office/directory/units",
                &json!({"parent": parent, "name": name}),
            )
            .await;
        assert_eq!(made.status(), 201, "{name}");
        made.json::<Value>().await.expect("json")["id"].clone()
    };
    let change = async |who: &str, id: &Value, body: Value| -> reqwest::Response {
        app.client
            .put(app.url(&format!(
                "/api/v1/office/directory/units/{}",
                id.as_str().expect("id")
            )))
            .bearer_auth(&app.account(who).api_token)
            .json(&body)
            .send()
            .await
            .expect("request")
    };
    // 档案室 / 整理组 / 数字化小组, and beside them 机要处.
    let archive = add(&Value::Null, "档案室").await;
    let team = add(&archive, "整理组").await;
    let digital = add(&team, "数字化小组").await;
    let confidential = add(&Value::Null, "机要处").await;
    // Moved under 机要处, with those under it: a level deeper each.
    let moved = change(
        "demo.deptadmin",
        &archive,
        json!({"parent": confidential, "name": "档案科"}),
    )
    .await;
    assert_eq!(
        moved.status(),
        200,
        "{}",
        moved.text().await.unwrap_or_default()
    );
    let head = look(&app, "demo.clerk", "?q=冯部门").await;
    let organ = person(&head, "冯部门")["department_id"]
        .as_str()
        .expect("organ")
        .to_owned();
    let seen = look(&app, "demo.clerk", &format!("?organ={organ}")).await;
    let unit = |id: &Value| -> Value {
        seen["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["id"] == *id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {seen}"))
    };
    assert_eq!(unit(&archive)["level"], 3);
    assert_eq!(
        unit(&archive)["path"],
        "临江市政务服务管理局 / 机要处 / 档案科"
    );
    assert_eq!(unit(&digital)["level"], 5);
    assert_eq!(
        unit(&digital)["path"],
        "临江市政务服务管理局 / 机要处 / 档案科 / 整理组 / 数字化小组"
    );
    // Found by its new name, no more by its old one.
    let found = look(&app, "demo.clerk", "?q=档案科").await;
    assert!(
        found["units"]
            .as_array()
            .expect("units")
            .iter()
            .any(|u| u["id"] == archive)
    );
    let found = look(&app, "demo.clerk", "?q=档案室").await;
    assert!(
        found["units"].as_array().expect("units").is_empty(),
        "{found}"
    );

    // Not under itself or a unit below it; not so deep that a unit under it passes the sixth
    // level; not beside a unit of the same name; not by a clerk; not another organ's unit.
    let under_itself = change(
        "demo.deptadmin",
        &archive,
        json!({"parent": digital, "name": "档案科"}),
    )
    .await;
    assert_eq!(problem(under_itself).await.0, 422);
    let deep = add(&Value::Null, "一级").await;
    let deep = add(&deep, "二级").await;
    let deep = add(&deep, "三级").await;
    let too_deep = change(
        "demo.deptadmin",
        &archive,
        json!({"parent": deep, "name": "档案科"}),
    )
    .await;
    assert_eq!(problem(too_deep).await.0, 422);
    let beside = change(
        "demo.deptadmin",
        &confidential,
        json!({"parent": null, "name": "办公室"}),
    )
    .await;
    assert_eq!(problem(beside).await.0, 409);
    let by_clerk = change(
        "demo.clerk.city",
        &team,
        json!({"parent": archive, "name": "整理组"}),
    )
    .await;
    assert_eq!(problem(by_clerk).await.0, 403);
    let foreign = change(
        "demo.deptadmin.market",
        &team,
        json!({"parent": null, "name": "整理组"}),
    )
    .await;
    assert_eq!(problem(foreign).await.0, 404);
    // Nothing refused changed anything.
    let seen = look(&app, "demo.clerk", &format!("?organ={organ}")).await;
    let levels: Vec<(String, i64)> = seen["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter(|u| [&archive, &team, &digital].contains(&&u["id"]))
        .map(|u| {
            (
                u["name"].as_str().unwrap_or_default().to_owned(),
                u["level"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(levels.len(), 3, "{seen}");
    assert!(levels.contains(&("档案科".into(), 3)) && levels.contains(&("数字化小组".into(), 5)));
}
