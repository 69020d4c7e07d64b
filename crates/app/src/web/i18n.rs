//! Interface text in Chinese (the default) and English. Keys are looked up in one table; a
//! test checks that every key the templates use is in it.

use crate::identity::model::Language;

/// (key, 中文, English)
const TEXT: &[(&str, &str, &str)] = &[
    ("brand", "通办", "tongban"),
    (
        "brand.tagline",
        "一网通办 · 数字政府服务平台",
        "One-stop digital government services",
    ),
    ("nav.home", "首页", "Home"),
    ("nav.console", "管理控制台", "Admin console"),
    ("nav.logout", "退出登录", "Log out"),
    ("nav.security", "安全设置", "Security"),
    ("security.title", "安全设置", "Security settings"),
    ("security.totp", "动态验证码", "One-time codes"),
    (
        "security.totp_on",
        "已启用：登录时需要输入动态验证码。",
        "On: logging in needs a one-time code.",
    ),
    (
        "security.totp_off",
        "未启用：启用后登录更安全。",
        "Off: turn it on for safer logins.",
    ),
    (
        "security.totp_enable",
        "启用动态验证码",
        "Turn on one-time codes",
    ),
    ("security.totp_replace", "更换密钥", "Replace the secret"),
    (
        "security.totp_scan",
        "请在验证器应用中添加以下密钥，然后输入它生成的验证码以确认：",
        "Add this secret to an authenticator app, then type a code it shows to confirm:",
    ),
    ("security.confirm", "确认", "Confirm"),
    (
        "security.totp_done",
        "动态验证码已启用。",
        "One-time codes are on.",
    ),
    ("security.tokens", "API 令牌", "API tokens"),
    ("security.no_tokens", "暂无 API 令牌。", "No API tokens."),
    ("security.label", "用途说明", "Label"),
    ("security.created", "创建时间", "Created"),
    ("security.expires", "到期时间", "Expires"),
    ("security.revoke", "吊销", "Revoke"),
    ("security.revoked", "已吊销", "Revoked"),
    ("security.new_token", "新建 API 令牌", "New API token"),
    ("security.days", "有效天数", "Valid for (days)"),
    (
        "security.token_created",
        "令牌已创建（仅显示一次）：",
        "Token created (shown once):",
    ),
    ("nav.language", "English", "中文"),
    ("nav.large_on", "大字模式", "Large text"),
    ("nav.large_off", "标准字号", "Standard text"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    (
        "login.totp",
        "动态验证码（工作人员必填）",
        "One-time code (required for staff)",
    ),
    ("login.submit", "登录", "Log in"),
    (
        "login.hint",
        "工作人员须使用密码和动态验证码两种方式登录。",
        "Staff log in with a password and a one-time code.",
    ),
    ("home.welcome", "您好，", "Hello, "),
    ("home.profile", "我的信息", "My details"),
    ("home.name", "姓名", "Name"),
    ("home.resident_id", "身份证号", "ID number"),
    ("home.phone", "手机号", "Phone"),
    ("home.region", "所属地区", "Region"),
    ("home.enterprise", "企业信息", "Enterprise"),
    (
        "home.uscc",
        "统一社会信用代码",
        "Unified social credit code",
    ),
    ("access.title", "谁查看了我的数据", "Who accessed my data"),
    ("access.log", "审计日志", "Audit log"),
    ("scan.admitted", "✓ 可以进入", "✓ May enter"),
    ("scan.denied", "✗ 不可进入", "✗ May not enter"),
    (
        "scan.reason.colour_not_admitted",
        "当前健康码颜色不允许进入此场所。",
        "This colour is not admitted here.",
    ),
    (
        "scan.reason.no_entitlement",
        "通行码未关联本场所所需的服务（如借书证）。",
        "The pass lacks the entitlement this venue needs (e.g. a library card).",
    ),
    ("pass.notices", "通知", "Notices"),
    ("pass.ask", "对颜色有异议？", "Disagree with the colour?"),
    ("pass.ask_kind", "申请类型", "Request"),
    (
        "pass.correction",
        "纠错（信息有误）",
        "Correction (the facts are wrong)",
    ),
    ("pass.review", "人工复核", "Review by a person"),
    ("pass.message", "说明", "Explanation"),
    ("pass.send", "提交", "Send"),
    (
        "pass.request_sent",
        "已提交，处理结果会通知您。",
        "Sent; you will be told the outcome.",
    ),
    ("nav.scan", "扫码查验", "Check passes"),
    ("scan.title", "扫码查验", "Check a pass"),
    ("scan.camera", "打开摄像头扫码", "Scan with the camera"),
    (
        "scan.code",
        "通行码（扫码或输入）",
        "Pass code (scan or type)",
    ),
    ("scan.check", "查验", "Check"),
    ("scan.checked_in", "已登记进场", "Check-in recorded"),
    ("checkin.title", "场所码登记", "Check in"),
    ("checkin.submit", "登记进场", "Check in"),
    (
        "checkin.companions",
        "同行人员（一并登记）",
        "Companions checked in with you",
    ),
    (
        "checkin.companions_recorded",
        "已登记同行人员：",
        "Companions checked in:",
    ),
    (
        "checkin.show_staff",
        "请向工作人员出示此页面。",
        "Show this page to the staff at the door.",
    ),
    (
        "checkin.hint",
        "登记记录仅用于疫情防控流调，28 天后自动删除。",
        "Check-ins serve contact tracing only and are deleted after 28 days.",
    ),
    ("poster.title", "场所码", "Venue code"),
    ("services.title", "办事服务", "Services"),
    ("services.search", "搜索事项", "Search services"),
    (
        "services.placeholder",
        "例如：个体户注册",
        "e.g. register a sole proprietorship",
    ),
    ("services.life_event", "人生事件", "Life event"),
    ("services.theme", "主题", "Theme"),
    ("services.all", "全部", "All"),
    ("services.find", "搜索", "Search"),
    ("services.none", "没有找到相关事项。", "No service matches."),
    (
        "services.fully_online",
        "全程网办，零跑动",
        "Fully online, no visit",
    ),
    ("services.visits", "到现场次数", "Visits in person"),
    ("services.guide", "办事指南", "Service guide"),
    ("services.conditions", "受理条件", "Who can apply"),
    ("services.promised", "承诺办结时限", "Promised time"),
    ("services.statutory", "法定办结时限", "Statutory time limit"),
    ("services.depth", "网办深度", "Online depth"),
    ("services.result", "办理结果", "Result"),
    ("services.fees", "收费", "Fees"),
    ("services.free", "不收费", "Free of charge"),
    ("services.legal_basis", "设定依据", "Legal basis"),
    ("services.materials", "申请材料", "Materials"),
    (
        "services.no_materials",
        "无需提交材料。",
        "No materials needed.",
    ),
    ("services.optional", "非必需", "optional"),
    (
        "services.pulled",
        "平台调取，免提交",
        "Fetched for you, nothing to upload",
    ),
    ("services.back", "返回事项列表", "Back to services"),
    ("services.immediate", "即办", "On the spot"),
    ("services.working_days", "个工作日", "working days"),
    ("services.form.original", "原件", "original"),
    ("services.form.copy", "复印件", "copy"),
    ("services.form.electronic", "电子材料", "electronic"),
    ("services.console", "事项管理", "Service catalogue"),
    ("services.name", "事项名称", "Service"),
    ("services.department", "实施部门", "Department"),
    ("services.edit", "编辑", "Edit"),
    ("services.saved", "已保存，版本", "Saved, version"),
    (
        "services.definition",
        "事项要素（JSON）",
        "Item definition (JSON)",
    ),
    ("services.save", "保存", "Save"),
    (
        "services.rules_hint",
        "保存时检查一致性规则：即办件与即办时限对应；全程网办（Ⅳ级）零跑动；需到现场须说明理由；收费须有依据和标准；承诺时限不超过法定时限；许可事项须含受理、审查、决定、送达环节。",
        "Each save checks the rules: 即办 matches an immediate item; level IV means no visit; visits need a reason; a fee needs its basis and standard; the promised limit is within the statutory one; a licence has accept, review, decide and deliver.",
    ),
    (
        "services.api_hint",
        "新增事项请使用 POST /api/v1/services。",
        "Add new items with POST /api/v1/services.",
    ),
    (
        "wallet.requests",
        "用证授权请求",
        "Requests to use my certificates",
    ),
    (
        "wallet.requests_empty",
        "没有待处理的用证请求。",
        "No requests waiting.",
    ),
    ("wallet.asks_for", "申请使用", "asks to use"),
    ("wallet.allow_once", "授权本次", "Allow once"),
    ("wallet.allow_until", "长期授权至", "Allow until"),
    ("wallet.allow", "授权", "Allow"),
    ("wallet.decline", "拒绝", "Decline"),
    ("wallet.grants", "我的授权", "My authorisations"),
    ("wallet.once", "仅一次", "once"),
    ("wallet.until", "至", "until"),
    ("wallet.withdraw", "撤回授权", "Withdraw"),
    ("wallet.uses", "用证记录", "Usage record"),
    (
        "wallet.uses_empty",
        "还没有部门使用过您的证照。",
        "No department has used your certificates yet.",
    ),
    ("wallet.use_at", "时间", "When"),
    ("wallet.use_unit", "用证单位", "Department"),
    ("wallet.use_item", "办理事项", "Service"),
    ("wallet.use_cause", "用证事由", "Cause"),
    ("wallet.use_outcome", "结果", "Outcome"),
    (
        "wallet.outcome.released",
        "已提供（加注件）",
        "Released (annotated copy)",
    ),
    (
        "wallet.outcome.refused",
        "未经授权，已拒绝",
        "Refused: not authorised",
    ),
    ("wallet.copy_until", "加注件有效期至", "Copy usable until"),
    ("issue.title", "证照签发", "Issue certificates"),
    ("issue.type", "证照类型", "Certificate type"),
    ("issue.choose", "选择", "Choose"),
    (
        "issue.uscc",
        "统一社会信用代码",
        "Unified social credit code",
    ),
    ("issue.one_per_line", "每行一项。", "One entry per line."),
    ("issue.submit", "签发", "Issue"),
    ("issue.done", "已签发", "Issued"),
    (
        "issue.manage",
        "管理本部门签发的证照",
        "Certificates my department issued",
    ),
    ("issue.find", "查找", "Find"),
    (
        "issue.none_found",
        "本部门没有向该主体签发的证照。",
        "My department has issued this holder no certificates.",
    ),
    ("issue.identifier", "证照标识", "Identifier"),
    ("issue.status", "状态", "Status"),
    ("issue.reason", "原因", "Reason"),
    ("issue.suspend", "暂停", "Suspend"),
    ("issue.reinstate", "恢复", "Reinstate"),
    ("issue.revoke", "吊销", "Revoke"),
    ("use.title", "授权用证", "Use a holder's certificate"),
    (
        "use.holder",
        "持证主体证件号码",
        "Holder's ID number or USCC",
    ),
    ("use.submit", "调取证照", "Obtain"),
    ("use.released", "已取得加注件", "Annotated copy obtained"),
    ("use.annotation", "加注信息", "Annotation"),
    (
        "use.hint",
        "须经持证主体授权或依事项法定依据方可调取；每次调取均记入持证主体的用证记录和审计日志。",
        "Released only with the holder's authorisation or the service item's legal basis; every attempt is in the holder's usage record and the audit log.",
    ),
    ("workbench.issue", "证照签发", "Issue certificates"),
    ("workbench.use", "授权用证", "Use a holder's certificate"),
    ("problem.not-authorised", "未获授权。", "Not authorised."),
    ("wallet.title", "我的证照", "My certificates"),
    (
        "wallet.empty",
        "证照夹中还没有证照。",
        "No certificates yet.",
    ),
    ("wallet.number", "证照编号", "Number"),
    ("wallet.holder", "持证主体", "Holder"),
    ("wallet.issuer", "发证机构", "Issued by"),
    ("wallet.issued_on", "发证日期", "Issued on"),
    ("wallet.valid_until", "有效期至", "Valid until"),
    ("wallet.no_end", "长期", "No end"),
    ("wallet.back", "返回证照夹", "Back to my certificates"),
    ("wallet.status.valid", "有效", "Valid"),
    ("wallet.status.suspended", "已暂停", "Suspended"),
    ("wallet.status.revoked", "已吊销", "Revoked"),
    ("wallet.status.expired", "已过期", "Expired"),
    ("wallet.show", "亮证", "Show this certificate"),
    (
        "wallet.choose_items",
        "选择要出示的照面信息",
        "Items to show",
    ),
    ("wallet.show_button", "生成亮证码", "Make a code to show"),
    ("wallet.shown", "请出示此码", "Show this code"),
    ("wallet.shown_until", "有效至", "Scans until"),
    ("scan.my_venues", "我的场所", "My venues"),
    ("venues.apply", "申请场所码", "Apply for a venue code"),
    ("venues.kind", "场所类型", "Kind"),
    ("venues.region", "所在区县代码", "Region code"),
    ("venues.address", "地址", "Address"),
    ("venues.capacity", "容纳人数", "Capacity"),
    ("venues.submit", "提交申请", "Apply"),
    (
        "venues.pending",
        "待审核的场所码申请",
        "Venue codes awaiting approval",
    ),
    ("venues.approve", "通过", "Approve"),
    ("venues.refuse", "不通过", "Refuse"),
    ("venue.kind.transit", "公共交通", "Transit"),
    ("venue.kind.library", "图书馆", "Library"),
    ("venue.kind.hospital", "医院", "Hospital"),
    ("venue.kind.government_hall", "政务大厅", "Government hall"),
    ("venue.kind.other", "其他", "Other"),
    ("companions.title", "同行人员", "Companions"),
    (
        "companions.none",
        "尚未登记同行人员。",
        "No companions registered.",
    ),
    ("companions.name", "姓名", "Name"),
    ("companions.relation", "关系", "Relation"),
    ("companions.add", "添加", "Add"),
    (
        "companions.hint",
        "可登记无手机的家人，在扫场所码时一并登记。姓名与身份证号须与登记信息一致；核对会记入对方的访问记录。",
        "Register family members without phones to check them in with you. Name and ID number must match their record; the check appears in their access list.",
    ),
    ("scan.venue", "场所", "Venue"),
    ("scan.venue_status", "状态", "Status"),
    ("scan.checkins_24h", "24小时登记", "Check-ins, 24 h"),
    ("venue.status.pending", "待审核", "Awaiting approval"),
    ("venue.status.active", "已启用", "Active"),
    ("venue.status.refused", "未通过", "Refused"),
    ("venue.status.revoked", "已撤销", "Revoked"),
    (
        "stats.title",
        "场所登记统计",
        "Check-ins by district and hour",
    ),
    ("stats.date", "日期", "Date"),
    ("stats.district", "区县", "District"),
    ("stats.hour", "时段", "Hour"),
    ("stats.checkins", "登记次数", "Check-ins"),
    ("stats.show", "查看", "Show"),
    (
        "stats.k_note",
        "为保护个人信息，少于以下人数的时段不予显示：",
        "To protect people, cells with fewer people than this are not shown:",
    ),
    ("stats.empty", "没有可显示的数据。", "Nothing to show."),
    ("poster.call", "请扫码登记", "Scan to check in"),
    (
        "poster.note",
        "使用手机相机或“通办”扫码，登记后向工作人员出示。",
        "Scan with the phone camera, then show the page to the staff.",
    ),
    (
        "scan.same_visit",
        "一分钟内已登记，不重复计入",
        "Already checked in within the minute; not counted twice",
    ),
    (
        "scan.by_id",
        "无手机人员：核验身份证号（一证通行）",
        "No phone: check by ID number",
    ),
    (
        "scan.by_id_hint",
        "输入身份证号，或将身份证放上读卡器（读卡器输出的号码或文字信息会自动填入）。每次核验都会记录，并在本人“谁查看了我的数据”中可见。",
        "Type the ID number, or put the card on the reader (its number or text block fills the field). Every check is recorded and shown in the person's own access list.",
    ),
    ("scan.refused", "无效", "Not valid"),
    (
        "scan.reason.expired",
        "通行码已过期，请对方刷新。",
        "The code has expired; ask for a fresh one.",
    ),
    (
        "scan.reason.bad_signature",
        "签名无效。",
        "The signature does not verify.",
    ),
    (
        "scan.reason.unknown_kid",
        "签发密钥不在信任列表中。",
        "Signed by a key not in the trust list.",
    ),
    (
        "scan.reason.untrusted_issuer",
        "签发地区不受信任。",
        "Issued by a region that is not trusted.",
    ),
    (
        "scan.reason.bad_prefix",
        "这不是通办通行码。",
        "This is not a tongban pass code.",
    ),
    (
        "scan.reason.bad_base45",
        "通行码不完整或已损坏。",
        "The code is incomplete or damaged.",
    ),
    (
        "scan.reason.bad_compression",
        "通行码不完整或已损坏。",
        "The code is incomplete or damaged.",
    ),
    (
        "scan.reason.bad_cose",
        "通行码不完整或已损坏。",
        "The code is incomplete or damaged.",
    ),
    (
        "scan.reason.bad_claims",
        "通行码内容无效。",
        "The code's content is not valid.",
    ),
    (
        "scan.reason.too_long",
        "通行码过长。",
        "The code is too long.",
    ),
    (
        "scan.reason.not_yet_valid",
        "通行码时间异常。",
        "The code's time is not valid yet.",
    ),
    (
        "scan.reason.unknown_person",
        "查无此人。",
        "No such person.",
    ),
    (
        "purpose.pass_check",
        "场所/卡口查验通行码",
        "Pass check at a venue or checkpoint",
    ),
    ("category.health_status", "健康状态", "health status"),
    ("nav.pass", "我的通行码", "My pass"),
    ("pass.title", "一码通", "City pass"),
    ("pass.green", "绿码", "Green"),
    ("pass.yellow", "黄码", "Yellow"),
    ("pass.red", "红码", "Red"),
    ("pass.service_only", "服务码", "Service pass"),
    ("pass.why", "为什么是这个颜色", "Why this colour"),
    ("pass.policy", "规则版本", "Policy version"),
    ("pass.rule", "适用规则", "Rule"),
    ("pass.expires", "本码有效至", "Valid until"),
    (
        "pass.refresh",
        "页面会在过期前自动刷新。",
        "The page refreshes itself before the code expires.",
    ),
    ("category.name", "姓名", "name"),
    ("category.resident_id", "身份证号", "ID number"),
    ("category.phone", "手机号", "phone"),
    (
        "access.log_note",
        "每次查看都先写入不可篡改的审计日志，本页会在您的浏览器中用包含证明逐条核验。",
        "Every access is first written to a tamper-evident audit log; this page checks each one in your browser with an inclusion proof.",
    ),
    (
        "access.checkpoint",
        "最新签名检查点",
        "Latest signed checkpoint",
    ),
    (
        "access.verified",
        "已核验：在 {size} 条日志中",
        "Verified: in the log of {size} entries",
    ),
    ("access.failed", "核验未通过", "Not verified"),
    (
        "access.unsupported",
        "国密配置下请用 tongban audit verify 核验",
        "Under the gm profile, check with tongban audit verify",
    ),
    ("access.when", "时间", "When"),
    ("access.who", "查看方", "Who"),
    ("access.purpose", "用途", "Purpose"),
    ("access.data", "数据类别", "Data"),
    (
        "access.none",
        "除您本人外，暂无人查看过您的数据。",
        "Nobody but you has accessed your data.",
    ),
    (
        "access.note",
        "您本人的查看也会记录，但不在此列出。",
        "Your own views are recorded too, but not listed here.",
    ),
    ("workbench.title", "工作台", "Workbench"),
    ("workbench.department", "所在部门", "Department"),
    ("workbench.roles", "我的角色", "My roles"),
    ("workbench.todo", "待办事项", "To do"),
    (
        "workbench.todo_empty",
        "暂无待办事项。",
        "Nothing to do right now.",
    ),
    ("console.title", "管理控制台", "Admin console"),
    ("console.users", "用户", "Users"),
    ("console.create_user", "新建用户", "Create a user"),
    ("console.display_name", "显示名称", "Display name"),
    ("console.role", "角色", "Role"),
    ("console.department", "部门", "Department"),
    ("console.region", "地区", "Region"),
    ("console.create", "创建", "Create"),
    ("console.reset_password", "重置密码", "Reset password"),
    ("console.grant_role", "授予角色", "Grant a role"),
    ("console.grant", "授予", "Grant"),
    ("console.account", "账号", "Account"),
    ("console.regions", "行政区划", "Regions"),
    ("console.create_region", "新建行政区划", "Add a region"),
    ("console.code", "代码", "Code"),
    ("console.name", "名称", "Name"),
    ("console.name_en", "英文名称", "English name"),
    ("console.level", "层级", "Level"),
    ("console.departments", "部门", "Departments"),
    ("console.create_department", "新建部门", "Add a department"),
    ("console.kind", "类别", "Kind"),
    ("console.events", "管理操作记录", "Administrative events"),
    ("console.when", "时间", "When"),
    ("console.actor", "操作人", "By"),
    ("console.action", "操作", "Action"),
    ("console.target", "对象", "Target"),
    ("console.roles_list", "角色说明", "Roles"),
    (
        "console.created",
        "已创建。请将以下信息安全地交给用户，此后不再显示：",
        "Created. Hand these to the user safely; they are not shown again:",
    ),
    (
        "console.password_reset",
        "密码已重置。新密码（仅显示一次）：",
        "Password reset. The new password (shown once):",
    ),
    ("console.done", "操作已完成。", "Done."),
    ("error.title", "出错了", "Something went wrong"),
    ("error.back", "返回首页", "Back to the home page"),
    (
        "problem.bad-request",
        "请求格式不正确。",
        "The request is malformed.",
    ),
    (
        "problem.invalid-field",
        "填写的内容有误。",
        "A field is not valid.",
    ),
    (
        "problem.unauthenticated",
        "请先登录。",
        "Please log in first.",
    ),
    (
        "problem.invalid-credentials",
        "用户名、密码或动态验证码不正确。",
        "The username, password or one-time code is not correct.",
    ),
    (
        "problem.locked-out",
        "失败次数过多，账号已暂时锁定，请稍后再试。",
        "Too many failed attempts; the account is locked for a while.",
    ),
    (
        "problem.forbidden",
        "您没有权限进行此操作。",
        "You are not allowed to do this.",
    ),
    (
        "problem.csrf",
        "表单已过期或来源不明，请刷新页面后重试。",
        "The form has expired or did not come from this site; reload the page and try again.",
    ),
    (
        "problem.not-found",
        "找不到该页面或记录。",
        "The page or record was not found.",
    ),
    (
        "problem.conflict",
        "记录已存在或与现有记录冲突。",
        "A record with the same key exists already.",
    ),
    (
        "problem.payload-too-large",
        "提交的内容过大。",
        "The request is too large.",
    ),
    (
        "problem.unsupported-media-type",
        "提交的内容类型不正确。",
        "The request body has the wrong type.",
    ),
    (
        "problem.method-not-allowed",
        "不支持该请求方式。",
        "That method is not allowed here.",
    ),
    (
        "problem.unavailable",
        "服务暂时不可用，请稍后再试。",
        "The service is temporarily unavailable; try again later.",
    ),
    (
        "problem.internal",
        "系统内部错误，请稍后再试。",
        "Internal error; try again later.",
    ),
    ("role.system_admin", "系统管理员", "System administrator"),
    (
        "role.security_admin",
        "安全管理员",
        "Security administrator",
    ),
    ("role.audit_admin", "审计管理员", "Audit administrator"),
    ("role.dept_admin", "部门管理员", "Department administrator"),
    ("role.clerk", "窗口/审批人员", "Clerk"),
    ("role.health_officer", "卫生健康工作人员", "Health officer"),
    ("role.venue_operator", "场所工作人员", "Venue operator"),
    (
        "role.checkpoint_officer",
        "卡口工作人员",
        "Checkpoint officer",
    ),
    ("role.citizen", "群众", "Citizen"),
    ("role.enterprise", "企业", "Enterprise"),
    ("purpose.self_service", "本人查看", "Your own view"),
    (
        "purpose.service_handling",
        "办理业务",
        "Handling an application",
    ),
    (
        "purpose.identity_verification",
        "核验身份",
        "Identity check",
    ),
    (
        "purpose.health_management",
        "卫生健康管理",
        "Public-health work",
    ),
];

/// Interface text in one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Language);

impl Tr {
    /// The text for `key`; an unknown key shows itself, so a gap is visible and never a crash.
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        match TEXT.iter().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self.0 {
                Language::Zh => zh,
                Language::En => en,
            },
            None => key,
        }
    }

    pub fn lang(&self) -> &'static str {
        match self.0 {
            Language::Zh => "zh-CN",
            Language::En => "en",
        }
    }

    pub fn has(key: &str) -> bool {
        TEXT.iter().any(|(k, _, _)| *k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_a_template_uses_has_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("templates folder") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("template");
            for piece in text.split("t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                assert!(Tr::has(key), "missing interface text for {key}");
                checked += 1;
            }
        }
        assert!(checked > 20, "expected the templates to use the table");
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = TEXT.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
    }
}
