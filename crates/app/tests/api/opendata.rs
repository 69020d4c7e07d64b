//! 数据开放: the CKAN Action API as CKAN's clients call it, the personal-data gate on files
//! with planted ID numbers and phones, publication by a second person, the datastore, paging
//! that adds up, and bad input that changes nothing.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Calls an action with CKAN's envelope: (status, the whole answer).
async fn action(app: &TestApp, token: Option<&str>, name: &str, body: Value) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/api/3/action/{name}")))
        .json(&body);
    if let Some(token) = token {
        // As ckanapi sends it: the bare token.
        request = request.header("Authorization", token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn upload(
    app: &TestApp,
    token: &str,
    dataset: &str,
    file_name: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("package_id", dataset.to_owned())
        .part(
            "upload",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
    for (key, value) in extra {
        form = form.text((*key).to_owned(), (*value).to_owned());
    }
    let response = app
        .client
        .post(app.url("/api/action/resource_create"))
        .header("X-CKAN-API-Key", token)
        .multipart(form)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

fn kinds(findings: &Value) -> Vec<(String, String, u64)> {
    findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["column"].as_str().unwrap_or_default().to_owned(),
                f["kind"].as_str().unwrap_or_default().to_owned(),
                f["rows"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_action_api_answers_in_ckans_envelope() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "/api/3/action/status_show").await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["result"]["api_version"], 3);
    assert!(body["help"].as_str().expect("help").contains("status_show"));

    let (_, list) = get(&app, "/api/action/package_list").await;
    let names: Vec<&str> = list["result"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"market-entities-monthly"), "{names:?}");
    // The list under review is private: not listed.
    assert!(!names.contains(&"individual-businesses"));

    let (status, shown) = get(
        &app,
        "/api/3/action/package_show?id=market-entities-monthly",
    )
    .await;
    assert_eq!(status, 200);
    let package = &shown["result"];
    assert_eq!(package["organization"]["name"], "linjiang-scjg");
    assert_eq!(package["source"], "SJ-QYDJ-001");
    let resource = &package["resources"][0];
    assert_eq!(resource["url_type"], "upload");
    assert_eq!(resource["datastore_active"], true);
    assert!(
        resource.get("findings").is_none(),
        "the gate's findings are the department's"
    );
    let by_id = get(
        &app,
        &format!(
            "/api/3/action/package_show?id={}",
            package["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(by_id.1["result"]["name"], "market-entities-monthly");

    let (status, missing) = get(&app, "/api/3/action/package_show?id=no-such-dataset").await;
    assert_eq!(status, 404);
    assert_eq!(missing["success"], false);
    assert_eq!(missing["error"]["__type"], "Not Found Error");
    let (status, hidden) = get(&app, "/api/3/action/package_show?id=individual-businesses").await;
    assert_eq!(
        (status, hidden["error"]["__type"].as_str()),
        (404, Some("Not Found Error"))
    );

    let (status, unknown) = get(&app, "/api/3/action/package_hack").await;
    assert_eq!((status, unknown["success"].as_bool()), (400, Some(false)));
    let (status, get_write) = get(&app, "/api/3/action/package_create?name=x").await;
    assert_eq!((status, get_write["success"].as_bool()), (400, Some(false)));

    let (_, orgs) = get(&app, "/api/3/action/organization_list?all_fields=true").await;
    let market = orgs["result"]
        .as_array()
        .expect("orgs")
        .iter()
        .find(|o| o["name"] == "linjiang-scjg")
        .expect("the market regulator");
    assert_eq!(market["package_count"], 1);
    let (_, group) = get(
        &app,
        "/api/3/action/group_show?id=health&include_datasets=true",
    )
    .await;
    assert_eq!(group["result"]["package_count"], 2);
    assert_eq!(
        group["result"]["packages"].as_array().map(Vec::len),
        Some(2)
    );
    let (_, tags) = get(&app, "/api/3/action/tag_list").await;
    assert!(
        tags["result"]
            .as_array()
            .expect("tags")
            .contains(&json!("医院"))
    );

    // The datastore: filters, text, sort, fields, paging, total.
    let rid = resource["id"].as_str().expect("resource id");
    let (status, found) = get(
        &app,
        &format!(
            "/api/3/action/datastore_search?resource_id={rid}&filters=%7B%22%E5%8C%BA%E5%8E%BF%22%3A%22%E6%B1%9F%E5%8C%97%E5%8C%BA%22%7D&sort=%E6%96%B0%E8%AE%BE%E4%BC%81%E4%B8%9A%20desc&limit=3"
        ),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let result = &found["result"];
    assert_eq!(result["total"], 11, "eleven months in 江北区");
    let records = result["records"].as_array().expect("records");
    assert_eq!(records.len(), 3);
    let counts: Vec<i64> = records
        .iter()
        .map(|r| r["新设企业"].as_i64().expect("an int"))
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "sorted descending: {counts:?}"
    );
    assert!(records.iter().all(|r| r["区县"] == "江北区"));
    assert_eq!(result["fields"][1]["type"], "text");
    let (_, text) = action(
        &app,
        None,
        "datastore_search",
        json!({"resource_id": rid, "q": "2026-03", "fields": ["月份", "区县"]}),
    )
    .await;
    assert_eq!(text["result"]["total"], 2);
    let record = &text["result"]["records"][0];
    assert!(record.get("新设企业").is_none() && record["月份"] == "2026-03");
    for (body, field) in [
        (
            json!({"resource_id": rid, "filters": {"无此列": "x"}}),
            "filters",
        ),
        (
            json!({"resource_id": rid, "filters": {"新设企业": "many"}}),
            "filters",
        ),
        (json!({"resource_id": rid, "sort": "无此列 desc"}), "sort"),
        (json!({"resource_id": rid, "limit": 40000}), "limit"),
        (json!({"resource_id": rid, "offset": -1}), "offset"),
    ] {
        let (status, refused) = action(&app, None, "datastore_search", body).await;
        assert_eq!(status, 409, "{refused}");
        assert_eq!(refused["error"]["__type"], "Validation Error");
        assert!(refused["error"].get(field).is_some(), "{refused}");
    }

    // The download is the file the hash names.
    let url = resource["url"].as_str().expect("url");
    let bytes = app
        .client
        .get(url)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&bytes)),
        resource["hash"].as_str().expect("hash")
    );
    assert!(String::from_utf8_lossy(&bytes).starts_with("月份,区县,新设企业"));
}

use sha2::Digest as _;

#[tokio::test]
async fn planted_ids_and_phones_stop_publication_until_treated_and_a_second_person_publishes() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let admin = app.account("demo.deptadmin.market").api_token.clone();
    let other_admin = app.account("demo.deptadmin.police").api_token.clone();

    // A clerk prepares in private; making anything public is an administrator's.
    let dataset = json!({"name": "inspections-2026", "title": "食品安全抽检结果", "owner_org": "linjiang-scjg",
        "groups": [{"name": "health"}], "tags": [{"name": "食品安全"}], "license_id": "cc-by-4.0"});
    let (status, refused) = action(&app, Some(&clerk), "package_create", dataset.clone()).await;
    assert_eq!(
        (status, refused["error"]["__type"].as_str()),
        (403, Some("Authorization Error"))
    );
    let (status, anonymous) = action(&app, None, "package_create", dataset.clone()).await;
    assert_eq!(status, 403, "{anonymous}");
    let mut private = dataset.clone();
    private["private"] = json!(true);
    let (status, created) = action(&app, Some(&clerk), "package_create", private).await;
    assert_eq!(status, 200, "{created}");
    let dataset_id = created["result"]["id"].as_str().expect("id").to_owned();
    // Another department's administrator cannot touch it.
    let (status, _) = action(
        &app,
        Some(&other_admin),
        "package_patch",
        json!({"id": dataset_id, "private": false}),
    )
    .await;
    assert_eq!(
        status, 404,
        "a private dataset of another department is not even seen"
    );

    let planted = "抽检单位,负责人姓名,联系电话,备注,结果\n\
        江北区甲超市,王建国,13800138000,,合格\n\
        江北区乙餐馆,李秀英,13900139001,负责人身份证330102196507153025,合格\n\
        江南区丙食品厂,张伟,0571-88776655,,不合格\n";
    let (status, uploaded) = upload(
        &app,
        &clerk,
        &dataset_id,
        "inspections.csv",
        planted.as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{uploaded}");
    let resource = &uploaded["result"];
    let rid = resource["id"].as_str().expect("id").to_owned();
    assert_eq!(resource["publication"], "review");
    assert_eq!(
        kinds(&resource["findings"]),
        vec![
            ("负责人姓名".into(), "name_column".into(), 3),
            ("联系电话".into(), "mobile".into(), 2),
            ("备注".into(), "resident_id".into(), 1),
        ]
    );
    // The raw upload is sealed at rest: the ID number is nowhere in the database in clear.
    let stored: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT content FROM open_file_parts")
        .fetch_all(app.state.pool())
        .await
        .expect("files");
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|(bytes,)| !String::from_utf8_lossy(bytes).contains("330102196507153025"))
    );

    // Nobody publishes it as it is.
    let publish = |token: String| {
        let app = &app;
        let rid = rid.clone();
        async move {
            let response = app
                .post_as(
                    &token,
                    &format!("/api/v1/opendata/resources/{rid}/publication"),
                    &json!({}),
                )
                .await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, blocked) = publish(admin.clone()).await;
    assert_eq!(status, 409, "{blocked}");
    assert!(
        blocked["detail"]
            .as_str()
            .expect("detail")
            .contains("联系电话"),
        "{blocked}"
    );

    // Masking the remark alone is not enough while the phone column is there.
    let treat = |token: String, body: Value| {
        let app = &app;
        let rid = rid.clone();
        async move {
            let response = app
                .client
                .put(app.url(&format!("/api/v1/opendata/resources/{rid}/treatments")))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, partial) = treat(
        clerk.clone(),
        json!({"treatments": [{"column": "备注", "action": "mask"}]}),
    )
    .await;
    assert_eq!(status, 200, "{partial}");
    let left: Vec<String> = kinds(&partial["blocking"])
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert_eq!(left, vec!["负责人姓名", "联系电话"]);
    let (status, _) = treat(
        clerk.clone(),
        json!({"treatments": [{"column": "无此列", "action": "drop"}]}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = treat(
        clerk.clone(),
        json!({"treatments": [{"column": "联系电话", "action": "declare", "reason": "单位座机"}]}),
    )
    .await;
    assert_eq!(status, 200, "a declaration is recorded…");
    let (status, still) = publish(admin.clone()).await;
    assert_eq!(
        status, 409,
        "…but never clears a mobile number found in the cells: {still}"
    );

    let (status, treated) = treat(
        clerk.clone(),
        json!({"treatments": [
            {"column": "负责人姓名", "action": "mask"},
            {"column": "联系电话", "action": "drop"},
            {"column": "备注", "action": "mask"}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{treated}");
    assert_eq!(treated["blocking"], json!([]));
    assert_eq!(
        treated["columns"],
        json!(["抽检单位", "负责人姓名", "备注", "结果"])
    );
    assert_eq!(treated["preview"][0][1], "王**");

    // It waits in the administrator's to-do list (not in the clerk's, who may not publish).
    let waiting = |username: &'static str| {
        let state = app.state.clone();
        async move {
            let actor = tongban_app::identity::service::actor_of_username(&state, username)
                .await
                .expect("read")
                .expect("the account");
            tongban_app::module::todo_list(
                &state,
                &actor,
                tongban_app::web::i18n::Tr(tongban_app::identity::model::Language::Zh),
                50,
            )
            .await
            .expect("their list")
            .items
            .into_iter()
            .filter(|item| item.module == "open-data")
            .map(|item| (item.kind, item.title))
            .collect::<Vec<_>>()
        }
    };
    let item = (
        "开放数据待发布".to_owned(),
        "食品安全抽检结果 · inspections.csv".to_owned(),
    );
    assert!(waiting("demo.deptadmin.market").await.contains(&item));
    assert!(waiting("demo.clerk.market").await.is_empty());
    // The clerk may not publish; an administrator who did not treat it does.
    let (status, _) = publish(clerk.clone()).await;
    assert_eq!(status, 403);
    let (status, published) = publish(admin.clone()).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["publication"], "published");
    assert!(!waiting("demo.deptadmin.market").await.contains(&item));
    let raw_left: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM open_file_refs WHERE kind = 'raw'")
        .fetch_one(app.state.pool())
        .await
        .expect("count");
    assert_eq!(
        raw_left.0, 1,
        "only the demo's list under review keeps a raw upload"
    );

    // Still private: the public sees nothing until the administrator opens the dataset.
    let (status, _) = get(&app, &format!("/api/3/action/resource_show?id={rid}")).await;
    assert_eq!(status, 404);
    let (status, opened) = action(
        &app,
        Some(&admin),
        "package_patch",
        json!({"id": dataset_id, "private": false}),
    )
    .await;
    assert_eq!(status, 200, "{opened}");
    let (status, found) = action(
        &app,
        None,
        "datastore_search",
        json!({"resource_id": rid, "q": "不合格"}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["result"]["total"], 1);
    let shown = get(&app, &format!("/api/3/action/resource_show?id={rid}"))
        .await
        .1;
    let file = app
        .client
        .get(shown["result"]["url"].as_str().expect("url"))
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    assert!(
        file.contains("王**") && file.contains("江南区丙食品厂"),
        "{file}"
    );
    for secret in ["13800138000", "330102196507153025", "王建国", "联系电话"] {
        assert!(!file.contains(secret), "{secret} published: {file}");
    }

    // An administrator who treats a file cannot then publish it alone.
    let (status, second) = upload(
        &app,
        &admin,
        &dataset_id,
        "more.csv",
        "抽检单位,结果\n江北区丁超市,合格\n".as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let second_id = second["result"]["id"].as_str().expect("id");
    let response = app
        .post_as(
            &admin,
            &format!("/api/v1/opendata/resources/{second_id}/publication"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn quasi_identifiers_are_checked_for_k_anonymity() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (_, created) = action(
        &app,
        Some(&clerk),
        "package_create",
        json!({"name": "licences-by-age", "owner_org": "linjiang-scjg", "private": true}),
    )
    .await;
    let id = created["result"]["id"].as_str().expect("id");
    let mut csv = String::from("年龄,区县,类别\n");
    for _ in 0..6 {
        csv.push_str("34,江北区,餐饮\n");
    }
    csv.push_str("71,江南区,餐饮\n");
    let (status, uploaded) = upload(
        &app,
        &clerk,
        id,
        "ages.csv",
        csv.into_bytes(),
        &[("quasi_identifiers", "年龄,区县")],
    )
    .await;
    assert_eq!(status, 200, "{uploaded}");
    let findings = &uploaded["result"]["findings"];
    assert_eq!(
        kinds(findings),
        vec![("年龄 + 区县".into(), "k_anonymity".into(), 1)]
    );
    assert_eq!(findings[0]["smallest_class"], 1);
    assert_eq!(uploaded["result"]["k"], 5);
}

#[tokio::test]
async fn paging_adds_up_and_bad_searches_are_refused() {
    let app = spawn_app().await;
    let (_, all) = get(&app, "/api/3/action/package_list").await;
    let all: Vec<Value> = all["result"].as_array().expect("all").clone();
    assert!(all.len() >= 8, "{all:?}");
    let mut pages = Vec::new();
    for offset in (0..all.len() + 3).step_by(3) {
        let (_, page) = get(
            &app,
            &format!("/api/3/action/package_list?limit=3&offset={offset}"),
        )
        .await;
        pages.extend(page["result"].as_array().expect("page").clone());
    }
    assert_eq!(pages, all);
    let (_, past) = get(&app, "/api/3/action/package_list?limit=3&offset=1000").await;
    assert_eq!(past["result"], json!([]));

    let (_, everything) = action(&app, None, "package_search", json!({"rows": 1000})).await;
    let count = everything["result"]["count"].as_u64().expect("count") as usize;
    assert_eq!(count, all.len());
    let mut searched = Vec::new();
    for start in (0..count).step_by(4) {
        let (_, page) = action(
            &app,
            None,
            "package_search",
            json!({"rows": 4, "start": start, "sort": "name asc"}),
        )
        .await;
        searched.extend(
            page["result"]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|p| p["name"].clone()),
        );
    }
    let mut names = all.clone();
    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(searched, names);

    // Facets and filters, with Chinese text.
    let (status, health) = get(
        &app,
        "/api/3/action/package_search?q=%E5%8C%BB%E7%96%97&facet.field=%5B%22organization%22%2C%22res_format%22%5D&fq=groups:health",
    )
    .await;
    assert_eq!(status, 200, "{health}");
    let result = &health["result"];
    assert_eq!(result["count"], 1);
    assert_eq!(result["results"][0]["name"], "medical-institutions");
    assert_eq!(result["facets"]["organization"]["linjiang-wjw"], 1);
    assert_eq!(
        result["search_facets"]["res_format"]["items"][0]["name"],
        "CSV"
    );
    let (_, negated) = action(
        &app,
        None,
        "package_search",
        json!({"fq": "-groups:health", "rows": 1000}),
    )
    .await;
    assert_eq!(negated["result"]["count"].as_u64(), Some(count as u64 - 2));

    for (body, kind) in [
        (json!({"rows": 1001}), "Validation Error"),
        (json!({"rows": "ten"}), "Validation Error"),
        (json!({"start": -1}), "Validation Error"),
        (json!({"fq": "secret:x"}), "Search Query Error"),
        (json!({"fq": "tags:\"open"}), "Search Query Error"),
        (json!({"sort": "views_recent desc"}), "Search Query Error"),
        (json!({"facet.field": ["maintainer"]}), "Search Query Error"),
    ] {
        let (status, refused) = action(&app, None, "package_search", body.clone()).await;
        assert_eq!(status, 409, "{body}: {refused}");
        assert_eq!(refused["error"]["__type"], kind, "{body}");
    }
    let response = app
        .client
        .post(app.url("/api/3/action/package_search"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    // Only uploads read a large body; a search sent as a file is refused.
    let huge = json!({"q": "x".repeat(2 * 1024 * 1024)});
    let response = app
        .client
        .post(app.url("/api/3/action/package_search"))
        .json(&huge)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 413);
    let form = reqwest::multipart::Form::new().text("q", "人口");
    let response = app
        .client
        .post(app.url("/api/3/action/package_search"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (_, created) = action(
        &app,
        Some(&clerk),
        "package_create",
        json!({"name": "bad-files", "owner_org": "linjiang-scjg", "private": true}),
    )
    .await;
    let id = created["result"]["id"].as_str().expect("id").to_owned();
    let resources_before = app.count("open_resources").await;
    let files_before = app.count("open_file_parts").await;
    let huge = format!("a\n{}\n", "x".repeat(40 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("ragged.csv", b"a,b\n1,2\n3\n".to_vec()),
        ("latin1.csv", b"a\n\xff\xfe\xfd\n".to_vec()),
        ("huge.csv", huge.into_bytes()),
        ("empty.csv", Vec::new()),
        ("notes.pdf", b"%PDF-1.7".to_vec()),
        ("records.json", b"{\"x\": 1}".to_vec()),
        ("broken.xlsx", b"PK\x03\x04 not a workbook".to_vec()),
    ];
    for (name, bytes) in cases {
        let (status, refused) = upload(&app, &clerk, &id, name, bytes, &[]).await;
        assert_eq!(status, 409, "{name}: {refused}");
        assert_eq!(refused["error"]["__type"], "Validation Error", "{name}");
    }
    assert_eq!(app.count("open_resources").await, resources_before);
    assert_eq!(app.count("open_file_parts").await, files_before);

    // GBK, as many real files are written, is read.
    let (gbk, _, _) = encoding_rs::GBK.encode("区县,数量\n江北区,3\n");
    let (status, taken) = upload(&app, &clerk, &id, "gbk.csv", gbk.into_owned(), &[]).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["result"]["fields"][0]["id"], "区县");
    assert_eq!(taken["result"]["findings"], json!([]));

    // Names and organizations CKAN would refuse.
    for body in [
        json!({"name": "Bad Name", "owner_org": "linjiang-scjg", "private": true}),
        json!({"name": "ok-name", "owner_org": "no-such-org", "private": true}),
        json!({"name": "bad-files", "owner_org": "linjiang-scjg", "private": true}),
        json!({"name": "ok-name", "owner_org": "linjiang-scjg", "private": true, "license_id": "mine"}),
        json!({"name": "ok-name", "owner_org": "linjiang-scjg", "private": true, "groups": [{"name": "secrets"}]}),
        json!({"name": "ok-name", "owner_org": "linjiang-scjg", "private": true, "temporal_start": "2026-13-01"}),
    ] {
        let (status, refused) = action(&app, Some(&clerk), "package_create", body.clone()).await;
        assert_eq!(
            (status, refused["error"]["__type"].as_str()),
            (409, Some("Validation Error")),
            "{body}: {refused}"
        );
    }
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("html"))
}

#[tokio::test]
async fn the_portal_and_the_publishers_console_work_as_pages() {
    let app = spawn_app().await;
    // A visitor, not signed in, finds the portal in the navigation, with themes and facets.
    let (status, home) = page(&app, "/opendata").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("href=\"/opendata\""),
        "the visitor's navigation"
    );
    assert!(home.contains("市场主体登记统计") && home.contains("卫生健康"));
    assert!(
        !home.contains("新登记个体工商户"),
        "a private dataset is not listed"
    );
    let (_, health) = page(&app, "/opendata?groups=health").await;
    assert!(health.contains("医疗机构名录") && health.contains("法定传染病"));
    assert!(!health.contains("市场主体登记统计"));
    let (_, english) = page(&app, "/opendata?q=%E4%BA%BA%E5%8F%A3&lang=en").await;
    assert!(
        english.contains("/opendata/dataset/registered-population")
            && english.contains("Publisher")
    );
    let (status, _) = page(&app, "/opendata?page=zzz&organization=%ZZ").await;
    assert_eq!(status, 200, "odd queries read as nothing");

    // A dataset's page: the chart drawn on the server, the preview, the download.
    let (status, market) = page(&app, "/opendata/dataset/market-entities-monthly").await;
    assert_eq!(status, 200);
    assert!(
        market.contains("<svg") && market.contains("chart-line"),
        "months make a line"
    );
    assert!(
        market.contains("<table class=\"preview\"")
            && market.contains("/download/market-entities-2026.csv")
    );
    let (_, hospitals) = page(&app, "/opendata/dataset/medical-institutions").await;
    assert!(hospitals.contains("chart-bar"), "names make bars");
    let (status, _) = page(&app, "/opendata/dataset/individual-businesses").await;
    assert_eq!(status, 404);

    // The clerk sees what the gate found — kinds and row numbers, never the values — and
    // treats the columns; the administrator publishes and opens the dataset.
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    let console = clerk
        .get(&app, "/opendata/console")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        console.contains("身份证号码") && console.contains("手机号码"),
        "findings by kind"
    );
    assert!(!console.contains("13800138000") && !console.contains("11010519491231002X"));
    let csrf = crate::helpers::hidden_csrf(&console);
    let resource = console
        .split("data-resource=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the upload under review")
        .to_owned();
    let treated = clerk
        .post_form(
            &app,
            &format!("/opendata/console/resources/{resource}/treat"),
            &[
                ("csrf", &csrf),
                ("action.经营者姓名", "drop"),
                ("action.身份证号码", "drop"),
                ("action.联系电话", "drop"),
                ("action.所在区", ""),
            ],
        )
        .await;
    assert_eq!(treated.status().as_u16(), 200);
    let treated = treated.text().await.expect("html");
    assert!(treated.contains("已按所选方式处理并重新检查"), "{treated}");
    assert!(
        !treated.contains("/publish\""),
        "the clerk does not publish"
    );

    let mut admin = app.page_login(app.account("demo.deptadmin.market")).await;
    let console = admin
        .get(&app, "/opendata/console")
        .await
        .text()
        .await
        .expect("html");
    assert!(console.contains(&format!("/opendata/console/resources/{resource}/publish")));
    let csrf = crate::helpers::hidden_csrf(&console);
    let published = admin
        .post_form(
            &app,
            &format!("/opendata/console/resources/{resource}/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(published.status().as_u16(), 200);
    assert!(published.text().await.expect("html").contains("文件已发布"));
    let dataset_id: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM open_datasets WHERE name = 'individual-businesses'")
            .fetch_all(app.state.pool())
            .await
            .expect("id");
    let opened = admin
        .post_form(
            &app,
            &format!("/opendata/console/datasets/{}/visibility", dataset_id[0].0),
            &[("csrf", &csrf), ("private", "0")],
        )
        .await;
    assert_eq!(opened.status().as_u16(), 200);
    let (status, public) = page(&app, "/opendata/dataset/individual-businesses").await;
    assert_eq!(status, 200);
    assert!(
        public.contains("零售") && !public.contains("王建国") && !public.contains("13800138000")
    );

    // A citizen has no console; a forged form changes nothing.
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    assert_eq!(
        citizen
            .get(&app, "/opendata/console")
            .await
            .status()
            .as_u16(),
        403
    );
    let forged = admin
        .post_form(
            &app,
            &format!("/opendata/console/datasets/{}/visibility", dataset_id[0].0),
            &[("csrf", "forged"), ("private", "1")],
        )
        .await;
    assert_eq!(forged.status().as_u16(), 403);
}

#[tokio::test]
async fn the_catalogue_reads_as_dcat_ap_in_three_syntaxes() {
    let app = spawn_app().await;
    let (_, list) = get(&app, "/api/3/action/package_list").await;
    let public = list["result"].as_array().expect("list").len();
    for (path, format) in [
        ("/catalog.ttl", oxrdfio::RdfFormat::Turtle),
        ("/catalog.rdf", oxrdfio::RdfFormat::RdfXml),
        (
            "/catalog.jsonld",
            oxrdfio::RdfFormat::JsonLd {
                profile: oxrdfio::JsonLdProfileSet::empty(),
            },
        ),
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let body = response.bytes().await.expect("body");
        let quads: Vec<_> = oxrdfio::RdfParser::from_format(format)
            .for_slice(&body)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        let datasets = quads
            .iter()
            .filter(|q| {
                q.predicate.as_str() == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
                    && q.object.to_string() == "<http://www.w3.org/ns/dcat#Dataset>"
            })
            .count();
        assert_eq!(
            datasets, public,
            "{path}: every public dataset, no private one"
        );
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("market-entities-monthly") && !text.contains("individual-businesses")
        );
        assert!(
            text.contains("checksumAlgorithm_sha256"),
            "{path}: checksums of published files"
        );
    }
    let (status, _) = page(&app, "/catalog.ttl?page=2").await;
    assert_eq!(status, 404, "one page holds the demo's datasets");
    let (status, _) = page(&app, "/catalog.ttl?page=x").await;
    assert_eq!(status, 422);
    let (status, one) = page(&app, "/dataset/registered-population.ttl").await;
    assert_eq!(status, 200);
    assert!(one.contains("dcat:Dataset") && one.contains("户籍人口统计"));
    for missing in [
        "/dataset/individual-businesses.ttl",
        "/dataset/registered-population.pdf",
        "/dataset/nothing",
    ] {
        assert_eq!(page(&app, missing).await.0, 404, "{missing}");
    }
}

#[tokio::test]
async fn another_portals_catalogue_is_harvested_and_kept_in_step() {
    let source = spawn_app().await;
    let portal = spawn_app().await;
    let admin = portal.account("demo.deptadmin.market").api_token.clone();
    let clerk = portal.account("demo.clerk.market").api_token.clone();
    let catalogue = format!("{}/catalog.ttl", source.address);
    // The node's hourly harvest takes its first turn as the node starts; the source is
    // registered after that turn, so that the runs below are the only ones to see it.
    let turned = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let metrics = crate::helpers::get_url(portal.url("/metrics"))
                .await
                .expect("metrics")
                .text()
                .await
                .expect("text");
            if metrics
                .lines()
                .any(|l| l.starts_with("tongban_job_turns") && l.contains("harvest other portals"))
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(turned.is_ok(), "the harvest job took its first turn");

    let response = portal
        .post_as(
            &clerk,
            "/api/v1/opendata/harvest-sources",
            &json!({"url": catalogue}),
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        403,
        "registering a source is publishing"
    );
    let response = portal
        .post_as(
            &admin,
            "/api/v1/opendata/harvest-sources",
            &json!({"url": "file:///etc/passwd"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = portal
        .post_as(
            &admin,
            "/api/v1/opendata/harvest-sources",
            &json!({"url": catalogue}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let run = |app: &TestApp| {
        let app_token = admin.clone();
        let path = format!("/api/v1/opendata/harvest-sources/{id}/run");
        let url = app.url(&path);
        let client = app.client.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(app_token)
                .json(&json!({}))
                .send()
                .await
                .expect("run");
            assert_eq!(response.status().as_u16(), 200);
            response.json::<Value>().await.expect("report")
        }
    };
    let (_, before) = get(&source, "/api/3/action/package_list").await;
    let published = before["result"].as_array().expect("list").len();
    let report = run(&portal).await;
    assert_eq!(
        report["created"].as_u64(),
        Some(published as u64),
        "{report}"
    );

    let harvested = |app: &TestApp| {
        let client = app.client.clone();
        let url = app.url("/api/3/action/package_search");
        async move {
            let response = client
                .post(url)
                .json(&json!({"fq": "organization:linjiang-scjg", "rows": 1000}))
                .send()
                .await
                .expect("search");
            let body: Value = response.json().await.expect("json");
            body["result"]["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter(|p| {
                    p["creator_user_id"]
                        .as_str()
                        .is_some_and(|c| c.starts_with("harvest:"))
                })
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    let first = harvested(&portal).await;
    assert_eq!(first.len(), published);
    let market = first
        .iter()
        .find(|p| p["title"] == "市场主体登记统计（月度）")
        .expect("the market statistics, harvested");
    assert_eq!(market["license_id"], "cc-by-4.0");
    assert!(
        market["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["name"] == "economy")
    );
    let link = &market["resources"][0];
    assert_eq!(
        link["url_type"], "",
        "harvested resources are links to the source"
    );
    assert!(
        link["url"]
            .as_str()
            .expect("url")
            .starts_with(&source.address)
    );

    // The source changes: a title, a deletion. The next run follows.
    let source_market = source.account("demo.deptadmin.market").api_token.clone();
    let source_services = source.account("demo.deptadmin").api_token.clone();
    let (status, _) = action(
        &source,
        Some(&source_market),
        "package_patch",
        json!({"id": "market-entities-monthly", "title": "市场主体登记统计"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = action(
        &source,
        Some(&source_services),
        "package_delete",
        json!({"id": "information-disclosure"}),
    )
    .await;
    assert_eq!(status, 200);
    let report = run(&portal).await;
    assert_eq!(
        (report["created"].as_u64(), report["deleted"].as_u64()),
        (Some(0), Some(1)),
        "{report}"
    );
    let second = harvested(&portal).await;
    assert_eq!(second.len(), published - 1);
    assert!(second.iter().any(|p| p["title"] == "市场主体登记统计"));
    assert!(!second.iter().any(|p| p["title"] == "政府信息公开目录"));

    let response = portal
        .get_as(&admin, "/api/v1/opendata/harvest-sources")
        .await;
    let sources: Value = response.json().await.expect("json");
    assert!(
        sources[0]["last_status"]
            .as_str()
            .expect("status")
            .starts_with("ok: 0 created"),
        "{sources}"
    );
}

/// A TLS front for a portal, as the reverse proxy that terminates HTTPS before a deployment:
/// its listener (bound first, so that the portal can be told its public address) and the PEM
/// of the authority that issued its certificate for `localhost`, made here.
async fn tls_front() -> (tokio::net::TcpListener, tokio_rustls::TlsAcceptor, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "临江市政务外网 CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("server key");
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("server certificate");
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    (
        listener,
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
        ca.pem(),
    )
}

/// Forwards every connection the front accepts, once its TLS handshake succeeds, to `backend`.
fn serve_front(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    backend: String,
) {
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
}

#[tokio::test]
async fn a_catalogue_over_https_is_harvested_only_when_its_authority_is_trusted() {
    let (listener, acceptor, ca_pem) = tls_front().await;
    let front = format!(
        "https://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    let public_url = front.clone();
    let source = spawn_app_with(move |c| c.public_url = Some(public_url)).await;
    serve_front(
        listener,
        acceptor,
        source.address.trim_start_matches("http://").to_owned(),
    );
    let ca_file = std::env::temp_dir().join(format!(
        "tongban-harvest-ca-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&ca_file, &ca_pem).expect("CA file");
    let trusting = spawn_app_with({
        let ca_file = ca_file.clone();
        move |c| c.http_ca_file = Some(ca_file)
    })
    .await;
    let untrusting = spawn_app().await;
    let catalogue = format!("{front}/catalog.ttl");

    let harvest = |portal: &TestApp| {
        let admin = portal.account("demo.deptadmin.market").api_token.clone();
        let (client, sources) = (
            portal.client.clone(),
            portal.url("/api/v1/opendata/harvest-sources"),
        );
        let catalogue = catalogue.clone();
        async move {
            let response = client
                .post(&sources)
                .bearer_auth(&admin)
                .json(&json!({ "url": catalogue }))
                .send()
                .await
                .expect("add");
            assert_eq!(response.status().as_u16(), 201);
            let id = response.json::<Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let response = client
                .post(format!("{sources}/{id}/run"))
                .bearer_auth(&admin)
                .json(&json!({}))
                .send()
                .await
                .expect("run");
            let status = response.status().as_u16();
            let listed: Value = client
                .get(&sources)
                .bearer_auth(&admin)
                .send()
                .await
                .expect("sources")
                .json()
                .await
                .expect("json");
            (
                status,
                listed[0]["last_status"].as_str().unwrap_or("").to_owned(),
            )
        }
    };

    let (status, last) = harvest(&trusting).await;
    assert_eq!(status, 200, "{last}");
    assert!(last.starts_with("ok: "), "{last}");
    let (_, listed) = get(&source, "/api/3/action/package_list").await;
    let published = listed["result"].as_array().expect("list").len();
    let (_, found) = action(
        &trusting,
        None,
        "package_search",
        json!({"q": "市场主体登记统计", "rows": 1000}),
    )
    .await;
    let harvested = found["result"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|p| {
            p["creator_user_id"]
                .as_str()
                .is_some_and(|c| c.starts_with("harvest:"))
        })
        .collect::<Vec<_>>();
    assert!(!harvested.is_empty(), "{found}");
    assert!(
        harvested[0]["resources"][0]["url"]
            .as_str()
            .expect("url")
            .starts_with(&front),
        "the links point at the source's HTTPS address"
    );
    assert!(published > 0);

    // A portal that does not trust the authority refuses the connection and harvests nothing.
    let (status, last) = harvest(&untrusting).await;
    assert_eq!(status, 409, "{last}");
    assert!(
        last.starts_with("failed: ") && last.contains("certificate"),
        "the status names the certificate: {last}"
    );
    let (_, found) = action(
        &untrusting,
        None,
        "package_search",
        json!({"fq": "organization:linjiang-scjg", "rows": 1000}),
    )
    .await;
    assert!(
        !found["result"]["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|p| p["creator_user_id"]
                .as_str()
                .is_some_and(|c| c.starts_with("harvest:"))),
        "{found}"
    );
    let _ = std::fs::remove_file(ca_file);
}

async fn put_fields(app: &TestApp, token: &str, rid: &str, fields: Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(&format!("/api/v1/opendata/resources/{rid}/fields")))
        .bearer_auth(token)
        .json(&json!({ "fields": fields }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn a_workbook_is_gated_typed_published_as_csv_and_exported() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let admin = app.account("demo.deptadmin.market").api_token.clone();
    let (status, created) = action(
        &app,
        Some(&admin),
        "package_create",
        json!({"name": "shop-permits", "title": "食品经营许可", "owner_org": "linjiang-scjg"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let dataset = created["result"]["id"].as_str().expect("id").to_owned();
    let row = |cells: [&str; 4]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    let workbook = tongban_tables::xlsx::fixtures::workbook(
        &["区县", "许可编号", "许可日期", "联系电话"],
        &[
            row(["江北区", "1201", "date:2026-03-01", "13800138000"]),
            row(["江北区", "1202", "date:2026-03-02", "13900139001"]),
            row(["江南区", "1203", "date:2026-03-05", ""]),
        ],
    );
    let (status, uploaded) = upload(&app, &clerk, &dataset, "许可.xlsx", workbook, &[]).await;
    assert_eq!(status, 200, "{uploaded}");
    let rid = uploaded["result"]["id"].as_str().expect("id").to_owned();
    assert_eq!(uploaded["result"]["format"], "XLSX");
    assert_eq!(
        kinds(&uploaded["result"]["findings"]),
        vec![("联系电话".into(), "mobile".into(), 2)],
        "the gate reads workbooks too"
    );

    // A permit number is a code, not a count: the clerk keeps it as text. A type that a cell
    // does not fit is refused, naming the row and not the value.
    let (status, typed) = put_fields(
        &app,
        &clerk,
        &rid,
        json!([{"id": "许可编号", "type": "text"}]),
    )
    .await;
    assert_eq!(status, 200, "{typed}");
    assert_eq!(
        typed["fields"][1],
        json!({"id": "许可编号", "type": "text"})
    );
    assert_eq!(
        typed["fields"][2],
        json!({"id": "许可日期", "type": "date"})
    );
    let (status, refused) =
        put_fields(&app, &clerk, &rid, json!([{"id": "区县", "type": "int"}])).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("row 1") && !d.contains("江北区")),
        "{refused}"
    );
    let (status, _) = put_fields(
        &app,
        &clerk,
        &rid,
        json!([{"id": "无此列", "type": "text"}]),
    )
    .await;
    assert_eq!(status, 422);

    let response = app
        .client
        .put(app.url(&format!("/api/v1/opendata/resources/{rid}/treatments")))
        .bearer_auth(&clerk)
        .json(&json!({"treatments": [{"column": "联系电话", "action": "drop"}]}))
        .send()
        .await
        .expect("treat");
    assert_eq!(response.status(), 200);
    let response = app
        .post_as(
            &admin,
            &format!("/api/v1/opendata/resources/{rid}/publication"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);

    // Published as CSV: the treated table, without the workbook's formatting.
    let (_, shown) = get(&app, &format!("/api/3/action/resource_show?id={rid}")).await;
    let shown = &shown["result"];
    assert_eq!(shown["format"], "CSV");
    let url = shown["url"].as_str().expect("url");
    assert!(url.ends_with(".csv"), "{url}");
    let file = app
        .client
        .get(url)
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("csv");
    assert_eq!(
        file,
        "区县,许可编号,许可日期\n江北区,1201,2026-03-01\n江北区,1202,2026-03-02\n江南区,1203,2026-03-05\n"
    );
    let (status, found) = action(
        &app,
        None,
        "datastore_search",
        json!({"resource_id": rid, "filters": {"许可编号": "1202"}, "include_total": false}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["result"]["records"][0]["许可编号"], "1202");
    assert!(
        found["result"].get("total").is_none(),
        "include_total=false"
    );
    // A filter on one column is counted from the column's value counts; repeated values
    // count once, values not in the table add nothing.
    for (filter, total) in [
        (json!({"区县": "江北区"}), 2),
        (json!({"区县": ["江北区", "江北区", "江南区", "东湖区"]}), 3),
        (json!({"许可编号": ["1201", "1203"]}), 2),
        (json!({"区县": "江北区", "许可编号": "1203"}), 0),
    ] {
        let (status, found) = action(
            &app,
            None,
            "datastore_search",
            json!({"resource_id": rid, "filters": filter, "limit": 1}),
        )
        .await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["result"]["total"], total, "{filter}");
    }

    // The export: the datastore's rows as CSV, filtered and paged as datastore_search is.
    let export = |query: &str| {
        let url = app.url(&format!("/datastore/dump/{rid}{query}"));
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.expect("dump");
            let status = response.status().as_u16();
            (status, response.bytes().await.expect("bytes").to_vec())
        }
    };
    let (status, all) = export("").await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(all).expect("utf-8"),
        "_id,区县,许可编号,许可日期\n1,江北区,1201,2026-03-01\n2,江北区,1202,2026-03-02\n3,江南区,1203,2026-03-05\n"
    );
    let filters = "%7B%22%E5%8C%BA%E5%8E%BF%22%3A%22%E6%B1%9F%E5%8C%97%E5%8C%BA%22%7D";
    let (_, some) = export(&format!(
        "?filters={filters}&fields=许可编号&bom=true&offset=1"
    ))
    .await;
    assert_eq!(some, "\u{feff}_id,许可编号\n2,1202\n".as_bytes());
    let (_, sorted) = export("?sort=许可日期%20desc&limit=2").await;
    assert_eq!(
        String::from_utf8(sorted).expect("utf-8"),
        "_id,区县,许可编号,许可日期\n3,江南区,1203,2026-03-05\n2,江北区,1202,2026-03-02\n"
    );
    for (query, expected) in [
        ("?format=xml", 409),
        ("?sort=无此列", 409),
        ("?limit=-1", 409),
    ] {
        let (status, _) = export(query).await;
        assert_eq!(status, expected, "{query}");
    }
    let (status, _) = app
        .client
        .get(app.url("/datastore/dump/00000000-0000-0000-0000-000000000000"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("dump");
    assert_eq!(status, 404);

    // Retyping a published table is an administrator's, and reloads its datastore.
    let (status, _) = put_fields(
        &app,
        &clerk,
        &rid,
        json!([{"id": "许可编号", "type": "int"}]),
    )
    .await;
    assert_eq!(status, 403);
    let (status, retyped) = put_fields(
        &app,
        &admin,
        &rid,
        json!([{"id": "许可编号", "type": "int"}]),
    )
    .await;
    assert_eq!(status, 200, "{retyped}");
    let (_, found) = action(
        &app,
        None,
        "datastore_search",
        json!({"resource_id": rid, "sort": "许可编号 desc", "limit": 1}),
    )
    .await;
    assert_eq!(found["result"]["records"][0]["许可编号"], 1203);
    assert_eq!(found["result"]["fields"][2]["type"], "int");
    // The counts of the table made again are read again, typed as it now is.
    let (_, found) = action(
        &app,
        None,
        "datastore_search",
        json!({"resource_id": rid, "filters": {"许可编号": [1201, 1202]}}),
    )
    .await;
    assert_eq!(found["result"]["total"], 2, "{found}");
}

/// A second node on the same database: a dataset changed through one node is patched into the
/// other's catalogue once it reads the cache feed, without reading the catalogue again; an old
/// catalogue is read again in the background while it is still served.
#[tokio::test]
async fn a_change_made_on_one_node_is_patched_into_the_others_catalogue() {
    use tongban_app::opendata::service;
    let app = spawn_app().await;
    let other = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("second node");
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let title_on = |state: &tongban_app::state::AppState| {
        let state = state.clone();
        async move {
            let catalogue = service::catalogue(&state).await.expect("catalogue");
            let title = catalogue
                .entry("market-entities-monthly")
                .map(|e| e.dataset.title.clone());
            (title, catalogue.patched, catalogue.len())
        }
    };
    let (title, patched, datasets) = title_on(&other).await;
    assert_eq!(title.as_deref(), Some("市场主体登记统计（月度）"));
    assert_eq!(patched, 0, "read whole the first time");

    let (status, _) = action(
        &app,
        Some(&market),
        "package_patch",
        json!({"id": "market-entities-monthly", "title": "市场主体登记统计"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        title_on(&other).await.0.as_deref(),
        Some("市场主体登记统计（月度）"),
        "the other node answers from what it holds until it reads the feed"
    );
    assert!(tongban_app::cache::read_feed(&other).await.expect("feed") >= 1);
    let (title, patched, count) = title_on(&other).await;
    assert_eq!(title.as_deref(), Some("市场主体登记统计"));
    assert_eq!((patched, count), (1, datasets), "patched, not read again");
    let found = service::catalogue(&other).await.expect("catalogue");
    let hits = tongban_app::opendata::ckan::search(
        &found,
        None,
        "市场主体登记统计",
        &[],
        &[("score", true)],
        false,
    );
    assert_eq!(
        found.at(hits[0]).expect("hit").dataset.name,
        "market-entities-monthly",
        "the patched title is what search finds"
    );

    let (status, _) = action(
        &app,
        Some(&market),
        "package_delete",
        json!({"id": "market-entities-monthly"}),
    )
    .await;
    assert_eq!(status, 200);
    tongban_app::cache::read_feed(&other).await.expect("feed");
    let (title, patched, count) = title_on(&other).await;
    assert_eq!((title, patched, count), (None, 2, datasets - 1));

    // Past the caches' longest age the catalogue held is still served at once, and read
    // whole again behind it.
    app.clock.advance(time::Duration::minutes(11));
    assert_eq!(title_on(&other).await.1, 2, "served while read again");
    let mut whole = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if title_on(&other).await.1 == 0 {
            whole = true;
            break;
        }
    }
    assert!(
        whole,
        "the catalogue was read whole again in the background"
    );
    assert_eq!(title_on(&other).await.2, datasets - 1);
}

/// A file larger than one stored part: it is stored sealed part by part as it arrives, read
/// back whole through the gate and into the datastore, served as the parts of the file it
/// publishes; a part lost from the store is found by the checksum, and nothing is published
/// from it.
#[tokio::test]
async fn a_file_of_many_parts_is_sealed_part_by_part_and_checked_when_read() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let admin = app.account("demo.deptadmin.market").api_token.clone();
    let (_, created) = action(
        &app,
        Some(&clerk),
        "package_create",
        json!({"name": "big-table", "owner_org": "linjiang-scjg", "private": true}),
    )
    .await;
    let id = created["result"]["id"].as_str().expect("id").to_owned();
    // About 9 MB: three parts of at most 4 MiB.
    let rows = 130_000;
    let mut csv = String::from("日期,区县,类别,数量,金额,说明\n");
    for n in 0..rows {
        csv.push_str(&format!(
            "2026-{:02}-{:02},临江区第{}街道,餐饮,{},{}.5,抽检记录第{n}条\n",
            n % 12 + 1,
            n % 28 + 1,
            n % 9,
            n % 1000,
            n % 77
        ));
    }

    let (status, taken) = upload(&app, &clerk, &id, "big.csv", csv.clone().into_bytes(), &[]).await;
    assert_eq!(status, 200, "{taken}");
    let resource = &taken["result"];
    let rid = resource["id"].as_str().expect("id").to_owned();
    assert_eq!(resource["rows"], rows, "{resource}");
    assert_eq!(resource["findings"], json!([]));
    let types: Vec<&str> = resource["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["date", "text", "text", "int", "numeric", "text"]);
    // Stored in sealed parts of 4 MiB: no cell is in the database in clear.
    let expected_parts = csv.len().div_ceil(4 * 1024 * 1024);
    assert!(expected_parts >= 3);
    let parts: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT p.content FROM open_file_parts p JOIN open_file_refs r ON r.file_id = p.file_id \
         WHERE r.resource_id = $1 ORDER BY p.seq",
    )
    .bind(&rid)
    .fetch_all(app.state.pool())
    .await
    .expect("parts");
    assert_eq!(parts.len(), expected_parts);
    assert!(
        parts
            .iter()
            .all(|(bytes,)| !String::from_utf8_lossy(bytes).contains("抽检记录"))
    );

    // A part lost from the store: the checksum finds it, and nothing is published.
    let (file_id,): (String,) =
        sqlx::query_as("SELECT file_id FROM open_file_refs WHERE resource_id = $1")
            .bind(&rid)
            .fetch_one(app.state.pool())
            .await
            .expect("file");
    let (last,): (Vec<u8>,) =
        sqlx::query_as("SELECT content FROM open_file_parts WHERE file_id = $1 AND seq = $2")
            .bind(&file_id)
            .bind(expected_parts as i64 - 1)
            .fetch_one(app.state.pool())
            .await
            .expect("part");
    sqlx::query("DELETE FROM open_file_parts WHERE file_id = $1 AND seq = $2")
        .bind(&file_id)
        .bind(expected_parts as i64 - 1)
        .execute(app.state.pool())
        .await
        .expect("delete");
    let publish = || async {
        let response = app
            .post_as(
                &admin,
                &format!("/api/v1/opendata/resources/{rid}/publication"),
                &json!({}),
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.expect("json"))
    };
    let (status, refused) = publish().await;
    assert_eq!(status, 500, "{refused}");
    let (_, shown) = action(&app, Some(&admin), "resource_show", json!({"id": rid})).await;
    assert_eq!(shown["result"]["publication"], "review");
    let tables = match app.state.db.engine() {
        tongban_app::db::Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'odl_%'"
        }
        tongban_app::db::Engine::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_name LIKE 'odl_%'"
        }
    };
    let loading: Vec<(String,)> = sqlx::query_as(tables)
        .fetch_all(app.state.pool())
        .await
        .expect("tables");
    assert!(loading.is_empty(), "a failed load leaves no table behind");

    // Put back, it publishes: every row in the datastore, the served file in parts.
    sqlx::query(
        "INSERT INTO open_file_parts (file_id, seq, content, created_at) VALUES ($1, $2, $3, 0)",
    )
    .bind(&file_id)
    .bind(expected_parts as i64 - 1)
    .bind(last)
    .execute(app.state.pool())
    .await
    .expect("insert");
    let (status, published) = publish().await;
    assert_eq!(status, 200, "{published}");
    let (_, found) = action(
        &app,
        Some(&admin),
        "datastore_search",
        json!({"resource_id": rid, "filters": {"数量": 3}, "limit": 1}),
    )
    .await;
    assert_eq!(found["result"]["total"], rows / 1000, "{found}");
    let (status, opened) = action(
        &app,
        Some(&admin),
        "package_patch",
        json!({"id": id, "private": false}),
    )
    .await;
    assert_eq!(status, 200, "{opened}");
    let (_, shown) = action(&app, Some(&admin), "resource_show", json!({"id": rid})).await;
    let url = shown["result"]["url"].as_str().expect("url").to_owned();
    let sha = shown["result"]["hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let response = app
        .client
        .get(&url)
        .header("Authorization", &admin)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let served = response.bytes().await.expect("body");
    assert_eq!(
        String::from_utf8_lossy(&served).lines().count(),
        rows as usize + 1
    );
    assert_eq!(sha, tongban_app::opendata::service::sha256_hex(&served));
    let (served_parts,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM open_file_parts p JOIN open_file_refs r ON r.file_id = p.file_id \
         WHERE r.resource_id = $1 AND r.kind = 'served'",
    )
    .bind(&rid)
    .fetch_one(app.state.pool())
    .await
    .expect("count");
    assert!(served_parts >= 2, "{served_parts}");
    let (raw_left,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM open_file_parts WHERE file_id = $1")
            .bind(&file_id)
            .fetch_one(app.state.pool())
            .await
            .expect("count");
    assert_eq!(raw_left, 0, "the raw upload goes at publication");
}

/// A file is taken only from a department's open-data staff: anyone else is refused before a
/// byte of it is stored, and a JSON file over the size read whole is refused with nothing kept.
#[tokio::test]
async fn a_file_from_someone_who_may_not_send_one_is_refused_before_it_is_stored() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (_, created) = action(
        &app,
        Some(&clerk),
        "package_create",
        json!({"name": "refused-files", "owner_org": "linjiang-scjg", "private": true}),
    )
    .await;
    let id = created["result"]["id"].as_str().expect("id").to_owned();
    let parts_before = app.count("open_file_parts").await;
    let venue = app.account("demo.venue").api_token.clone();
    let (status, refused) =
        upload(&app, &venue, &id, "list.csv", b"a,b\n1,2\n".to_vec(), &[]).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["__type"], "Authorization Error");
    let big_json = format!("[{}]", vec!["{\"a\":1}"; 10 * 1024 * 1024].join(","));
    let (status, refused) = upload(&app, &clerk, &id, "big.json", big_json.into_bytes(), &[]).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["__type"], "Validation Error");
    assert_eq!(app.count("open_file_parts").await, parts_before);
}
