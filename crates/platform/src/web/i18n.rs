//! Interface text in Chinese (the default) and English. The kernel's keys are in the table
//! here; each module brings its own table ([`crate::module::Module::texts`]), registered when
//! the first node state is built. A test of the platform checks that every key the templates
//! use is in one of them.

use crate::identity::model::Language;

/// (key, 中文, English)
const TEXT: &[(&str, &str, &str)] = &[
    ("brand", "通办", "tongban"),
    (
        "brand.tagline",
        "一网通办 · 数字政府服务平台",
        "One-stop digital government services",
    ),
    ("foot.times", "时间以此时区显示：", "Times are shown in"),
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
    ("security.password", "当前密码", "Current password"),
    (
        "security.reauth",
        "为保护账户，此操作需要再次输入密码（已启用动态验证码的，还需当前验证码）。",
        "To protect your account, this step asks for your password again (and the current one-time code, if enabled).",
    ),
    ("security.password_change", "修改密码", "Change password"),
    ("security.new_password", "新密码", "New password"),
    (
        "security.password_ends_others",
        "修改后，其他设备上的登录和所有 API 令牌将失效。",
        "Afterwards, every other session and every API token of the account ends.",
    ),
    (
        "security.password_changed",
        "密码已修改；其他设备上的登录和所有 API 令牌已失效。",
        "Password changed; every other session and API token has ended.",
    ),
    ("security.days", "有效天数", "Valid for (days)"),
    (
        "security.token_created",
        "令牌已创建（仅显示一次）：",
        "Token created (shown once):",
    ),
    (
        "landing.title",
        "临江市一网通办",
        "One-stop government services",
    ),
    (
        "landing.lead",
        "办事、亮码、用证、查数据，一个入口。已持有的证照不再重复提交，谁查看了您的信息，您都看得到。",
        "Services, your city pass, your certificates and open data in one place. Nothing the government already holds is asked again, and you can see who read your data.",
    ),
    ("landing.search", "想办什么事？", "What do you need to do?"),
    (
        "landing.search_hint",
        "如：生孩子、结婚、开办企业",
        "e.g. having a baby, marriage, starting a business",
    ),
    ("landing.search_go", "搜索", "Search"),
    ("landing.services", "办事服务", "Services"),
    (
        "landing.services_text",
        "按人生事件或部门查找事项，在线申请，材料免交，进度随时可查。",
        "Find services by life event or department, apply online without paper the government holds, follow every step.",
    ),
    ("landing.pass", "一码通", "City pass"),
    (
        "landing.pass_text",
        "乘地铁、进场馆、看病，一个码；应急时兼作健康码，颜色只由卫生健康依据决定。",
        "One code for the metro, venues and clinics; in an emergency it carries health status, set on health grounds alone.",
    ),
    ("landing.wallet", "电子证照", "Certificates"),
    (
        "landing.wallet_text",
        "身份证、户口簿、营业执照等证照的电子版；出示时只亮所需的项目，每次使用都有记录。",
        "Your ID, household register, business licence and more; show only the items asked for, and see every use.",
    ),
    ("landing.opendata", "数据开放", "Open data"),
    (
        "landing.opendata_text",
        "各部门依法开放的数据集，可在线查询和下载；发布前逐格检查，不含个人信息。",
        "Datasets the departments publish, to query and download; every cell is checked for personal data first.",
    ),
    ("landing.developers", "开发者", "Developers"),
    (
        "landing.developers_text",
        "全部接口的说明与示例；另有 CKAN 兼容的数据开放接口与 GovStack 注册接口。",
        "Every operation of the API, with examples; open data also speaks CKAN's API, and services GovStack's registration API.",
    ),
    (
        "landing.data_title",
        "您的信息受保护",
        "Your data is protected",
    ),
    (
        "landing.data_text",
        "个人信息加密存储，工作人员每次查看都先写入公开可验证的审计日志；登录后在首页可查看谁、为何查看了您的信息。",
        "Personal data is encrypted at rest, and every read by staff is written to a publicly verifiable log first; once logged in, your home page shows who read your data and why.",
    ),
    ("nav.login", "登录", "Log in"),
    ("console.contents", "本页内容", "On this page"),
    ("level.national", "国家", "National"),
    ("level.province", "省级", "Province"),
    ("level.prefecture", "地市级", "Prefecture"),
    ("level.county", "县区级", "County"),
    ("level.township", "乡镇街道", "Township"),
    ("level.village", "村社区", "Village"),
    (
        "kind.government_services",
        "政务服务",
        "Government services",
    ),
    ("kind.health", "卫生健康", "Health"),
    ("kind.public_security", "公安", "Public security"),
    ("kind.market_regulation", "市场监管", "Market regulation"),
    (
        "kind.human_resources",
        "人力社保",
        "Human resources and social security",
    ),
    ("kind.civil_affairs", "民政", "Civil affairs"),
    ("kind.taxation", "税务", "Taxation"),
    ("kind.disease_control", "疾病预防控制", "Disease control"),
    ("event.account.create", "创建账号", "Account created"),
    ("event.account.reset_password", "重置密码", "Password reset"),
    (
        "event.account.register",
        "居民自助注册",
        "Resident registered",
    ),
    ("event.department.create", "创建部门", "Department created"),
    ("event.region.create", "创建行政区划", "Region created"),
    ("event.role.grant", "授予角色", "Role granted"),
    (
        "event.role.request",
        "申请授予角色（待复核）",
        "Role grant requested (for a second administrator)",
    ),
    (
        "event.role.approve",
        "复核通过授予角色",
        "Role grant approved",
    ),
    (
        "event.role.refuse",
        "复核拒绝授予角色",
        "Role grant refused",
    ),
    ("event.role.revoke", "撤销角色", "Role revoked"),
    (
        "event.trust.proposed",
        "提出信任变更（待复核）",
        "Trust change proposed",
    ),
    (
        "event.trust.approved",
        "复核通过信任变更",
        "Trust change approved",
    ),
    ("event.trust.removed", "移除信任", "Trust removed"),
    ("tabs.label", "主要栏目", "Main sections"),
    ("tabs.home", "首页", "Home"),
    ("tabs.services", "办事", "Services"),
    ("tabs.wallet", "卡包", "Wallet"),
    ("tabs.messages", "消息", "Messages"),
    ("tabs.mine", "我的办件", "Mine"),
    ("messages.title", "消息", "Messages"),
    (
        "messages.none",
        "还没有消息。办件进展、通行码变化、证照使用请求都会在这里通知您。",
        "No messages yet. News of your applications, your pass and requests to use your certificates arrive here.",
    ),
    ("messages.new", "新", "new"),
    ("todo.title", "待办事项", "To do"),
    ("todo.waiting", "待办", "Waiting"),
    ("todo.done", "已办", "Handled"),
    (
        "todo.none",
        "没有等待您处理的事项。",
        "Nothing waits for you.",
    ),
    ("todo.none_done", "还没有已办事项。", "Nothing handled yet."),
    ("todo.kind", "类别", "Kind"),
    ("todo.item", "事项", "Item"),
    ("todo.since", "等待自", "Waiting since"),
    ("todo.handled_at", "办理时间", "Handled"),
    ("todo.due", "办理期限", "Due"),
    ("todo.overdue", "已超期", "overdue"),
    ("todo.urgent", "加急", "urgent"),
    ("todo.immediate", "特急", "most urgent"),
    (
        "todo.more",
        "未列出的待办事项：",
        "Items waiting beyond this list:",
    ),
    ("todo.count", "件待办", "items waiting"),
    ("messages.unread", "条未读消息", "unread messages"),
    ("docs.title", "接口说明", "API reference"),
    (
        "docs.lead",
        "tongban 的全部接口，按模块列出，由本节点提供的 OpenAPI 文档生成。错误一律以 RFC 9457 problem+json 返回。",
        "Every operation of tongban's API by module, rendered from the OpenAPI document this node serves. Errors are RFC 9457 problem+json.",
    ),
    ("docs.operations", "个接口", "operations"),
    (
        "docs.document",
        "OpenAPI 文档（JSON）",
        "the OpenAPI document (JSON)",
    ),
    (
        "docs.auth",
        "标有“需令牌”的接口须在 Authorization 头中带上 API 令牌（Bearer）；令牌在“安全设置”页面创建。",
        "Operations marked “token” need an API token in the Authorization header (Bearer); create one on the security page.",
    ),
    ("docs.tags", "模块", "Modules"),
    ("docs.token", "需令牌", "token"),
    ("docs.parameters", "参数", "Parameters"),
    ("docs.required", "必填", "required"),
    ("docs.body", "请求体", "Body"),
    ("docs.answers", "应答", "Answers"),
    ("docs.example", "调用示例", "Example"),
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
    ("activate.title", "激活账号", "Activate your account"),
    (
        "activate.totp_optional",
        "可不填：不设动态口令也可登录，但建议设置。",
        "Optional: you can log in without one-time codes, but setting them up is safer.",
    ),
    ("recover.title", "找回账号", "Recover your account"),
    ("register.title", "注册账号", "Register"),
    ("register.link", "没有账号？注册", "No account? Register"),
    (
        "register.hint",
        "居民用身份证号注册：平台核对您在人口登记中的记录，把激活码发送到登记的手机，您再用它设置密码。工作人员账号由管理员开设，不能在此注册。",
        "Residents register with their ID number: the platform checks your entry in the population register and sends an activation code to the phone on it; you then set your password with it. Staff accounts are opened by administrators and cannot be registered here.",
    ),
    (
        "register.username",
        "用户名（自选）",
        "Username (your choice)",
    ),
    (
        "register.username_hint",
        "3–64 位小写字母、数字或 . _ -，例如 zhang.wei88。",
        "3–64 lower-case letters, digits or . _ -, for example zhang.wei88.",
    ),
    ("register.send", "发送激活码", "Send the code"),
    (
        "register.sent",
        "如身份证号与登记信息一致，激活码已发送到您登记的手机，三日内有效。若您已有账号，短信会告诉您它的用户名。",
        "If the ID number matches the register, an activation code is on its way to the phone on your record, valid for three days. If you already have an account, the message tells you its username.",
    ),
    ("register.activate", "输入激活码", "Enter the code"),
    (
        "register.staff",
        "工作人员忘记密码或动态口令，请联系本单位的管理员重置。",
        "Staff who lost their password or one-time codes ask their administrator for a reset.",
    ),
    (
        "register.have_account",
        "已有账号？登录",
        "Have an account? Log in",
    ),
    (
        "register.problem.taken",
        "该用户名已被使用，请换一个。",
        "This username is taken; choose another.",
    ),
    (
        "register.problem.username",
        "用户名为 3–64 位小写字母、数字或 . _ -。",
        "A username is 3–64 lower-case letters, digits or . _ -.",
    ),
    (
        "register.problem.resident_id",
        "请填写正确的 18 位居民身份证号码（末位可为 X）。",
        "Give a correct 18-character resident ID number (the last may be X).",
    ),
    ("recover.link", "忘记密码？", "Forgot your password?"),
    (
        "recover.hint",
        "输入用户名和身份证号。若与登记信息一致，激活码将发送到您登记的手机；用它重新设置密码。",
        "Enter your username and ID number. If they match your record, an activation code goes to the phone on your record; use it to set a new password.",
    ),
    (
        "recover.uscc",
        "统一社会信用代码（仅企业账户填写；身份证号填法定代表人的）",
        "Unified social credit code (enterprise accounts only; then give the legal representative's ID number)",
    ),
    ("recover.send", "发送激活码", "Send the code"),
    (
        "recover.sent",
        "如信息一致，激活码已发送到您登记的手机。",
        "If the details match, the code is on its way to the phone on your record.",
    ),
    (
        "activate.hint",
        "输入您的用户名和收到的激活码。激活码三日内有效，只能使用一次。",
        "Enter your username and the activation code you received. It is valid for three days, once.",
    ),
    ("activate.code", "激活码", "Activation code"),
    ("activate.next", "下一步", "Next"),
    (
        "activate.enrol",
        "用身份验证器应用扫描二维码（或输入下面的密钥），再设置您自己的密码并输入应用显示的六位动态口令。",
        "Scan the QR code with an authenticator app (or type the key below), then choose your own password and enter the six-digit code the app shows.",
    ),
    (
        "activate.password",
        "新密码（至少 12 位）",
        "New password (12 characters or more)",
    ),
    ("activate.finish", "完成激活", "Activate"),
    (
        "activate.done",
        "账号已激活，请用新密码和动态口令登录。",
        "Your account is active: log in with your new password and a one-time code.",
    ),
    (
        "login.hint",
        "工作人员须使用密码和动态验证码两种方式登录。",
        "Staff log in with a password and a one-time code.",
    ),
    ("home.welcome", "您好，", "Hello, "),
    ("home.profile", "我的信息", "My details"),
    ("home.shortcuts", "常用入口", "Shortcuts"),
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
    ("nav.scan", "扫码查验", "Check passes"),
    ("workbench.queue", "待办件", "Applications to handle"),
    ("workbench.issue", "证照签发", "Issue certificates"),
    ("workbench.use", "授权用证", "Use a holder's certificate"),
    ("problem.not-authorised", "未获授权。", "Not authorised."),
    (
        "purpose.pass_check",
        "场所/卡口查验通行码",
        "Pass check at a venue or checkpoint",
    ),
    ("category.health_status", "健康状态", "health status"),
    ("nav.pass", "我的通行码", "My pass"),
    ("category.name", "姓名", "name"),
    ("access.one", "一次查看记录", "One read of your data"),
    ("access.when", "时间", "When"),
    ("access.who", "查看方", "Who"),
    ("access.legal_basis", "法律依据", "Legal basis"),
    (
        "legal_basis.service_handling",
        "《个人信息保护法》第十三条第一款第（三）项、第三十四条：国家机关履行法定职责",
        "PIPL art. 13(1)(3) and art. 34: the statutory duties of a state organ",
    ),
    (
        "legal_basis.identity_verification",
        "《个人信息保护法》第十三条第一款第（三）项、第三十四条：国家机关履行法定职责",
        "PIPL art. 13(1)(3) and art. 34: the statutory duties of a state organ",
    ),
    (
        "legal_basis.data_sharing",
        "《个人信息保护法》第十三条第一款第（三）项、第三十四条：国家机关履行法定职责",
        "PIPL art. 13(1)(3) and art. 34: the statutory duties of a state organ",
    ),
    (
        "legal_basis.health_management",
        "《个人信息保护法》第十三条第一款第（四）项：应对突发公共卫生事件",
        "PIPL art. 13(1)(4): responding to a public-health emergency",
    ),
    (
        "legal_basis.pass_check",
        "《个人信息保护法》第十三条第一款第（四）项：应对突发公共卫生事件",
        "PIPL art. 13(1)(4): responding to a public-health emergency",
    ),
    ("access.request", "请求编号", "Request"),
    (
        "access.proof_title",
        "这条记录可以核验",
        "You can check this record",
    ),
    (
        "access.proof_explained",
        "这次查看在数据交给查看方之前，已写入只能追加、不能修改的审计日志。平台定期签名公布日志的“检查点”；您的浏览器会取来最新检查点和这条记录的包含证明，自己计算，确认记录确实在日志中、没有被删改。核验不依赖对平台的信任。",
        "This read was written to an append-only audit log before the data was released. The platform regularly signs and publishes a checkpoint of the log; your browser fetches the newest one and this record's inclusion proof and computes for itself that the record is in the log, unchanged. The check does not rely on trusting the platform.",
    ),
    (
        "access.proof_no_script",
        "核验需要浏览器运行本页的脚本；也可以用下面的数据自行核验。",
        "The check runs as a script in your browser; you can also check with the data below yourself.",
    ),
    ("access.proof_experts", "供专业人员核验：", "For experts:"),
    ("access.proof_entry", "日志条目", "the log entry"),
    ("access.proof_path", "包含证明", "its inclusion proof"),
    ("access.back", "返回我的首页", "Back to my page"),
    (
        "category.application",
        "申请材料",
        "an application and its materials",
    ),
    ("category.certificates", "电子证照", "certificates"),
    ("category.health_file", "健康档案", "health file"),
    (
        "category.health_facts",
        "健康事实（用于计算通行码颜色）",
        "health facts (for the pass colour)",
    ),
    ("category.other", "其他个人信息", "other personal data"),
    (
        "purpose.data_sharing",
        "部门间数据共享",
        "Data sharing between departments",
    ),
    (
        "purpose.form_prefill",
        "一表通填报预填（不再重复询问您）",
        "Prefilling a form, so that you are not asked again",
    ),
    ("access.someone", "工作人员", "A member of staff"),
    (
        "access.other_purpose",
        "其他依法用途",
        "Another lawful purpose",
    ),
    (
        "access.you_for_application",
        "您的办件（经您同意，办理部门调取您的证照）",
        "Your application (the department obtained your certificates with your consent)",
    ),
    ("access.reads_before", "共 ", ""),
    ("access.reads_after", " 次读取", " reads"),
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
    ("console.overview", "概览", "Overview"),
    ("console.roles_tab", "角色授予", "Roles"),
    ("console.structure", "区划和部门", "Regions and departments"),
    (
        "console.accounts_count",
        "个账号可管理",
        "accounts you manage",
    ),
    (
        "console.requests_waiting",
        "项授权申请等待复核",
        "grant requests wait for you",
    ),
    ("console.regions_count", "个行政区划", "regions"),
    ("console.departments_count", "个部门", "departments"),
    (
        "console.events_hint",
        "按操作、操作人和日期查询管理操作记录。",
        "Search administrative events by action, by whom and by date.",
    ),
    (
        "console.services_hint",
        "编辑事项的办事指南、材料、表单和流程。",
        "Edit the items' guides, materials, forms and steps.",
    ),
    ("console.all", "全部", "All"),
    ("console.from", "起始日期", "From"),
    ("console.to", "截止日期", "To"),
    ("console.filter", "查询", "Search"),
    (
        "console.events_shown",
        "条记录（最多显示 100 条最新记录）",
        "events (the latest 100 at most)",
    ),
    (
        "console.no_such_actor",
        "没有这个用户名的账号。",
        "No account has this username.",
    ),
    (
        "console.bad_day",
        "日期格式为 YYYY-MM-DD。",
        "A day is written YYYY-MM-DD.",
    ),
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
    ("console.created", "账号已创建。", "The account is created."),
    (
        "console.password_reset",
        "该账号的密码、动态口令、会话和令牌均已作废。",
        "The account's password, one-time codes, sessions and tokens are void.",
    ),
    (
        "console.activation_sent",
        "激活码已通过送达渠道发给本人；本人自行设置密码和动态口令。管理员不会看到任何凭证。",
        "An activation code goes to the holder through the delivery channel; they set their own password and one-time codes. No administrator sees a credential.",
    ),
    (
        "console.grant_pending",
        "该角色可接触个人数据或覆盖全市，须另一名安全管理员批准后生效。",
        "This role reaches personal data or a whole city: it takes effect once another security administrator approves it.",
    ),
    (
        "console.grant_requests",
        "待批准的授权",
        "Grants awaiting approval",
    ),
    (
        "console.grant_requests_hint",
        "其他管理员申请的授权，经您批准后生效。您本人申请的不在此列。",
        "Grants other administrators asked for; they take effect when you approve. Your own requests are not listed.",
    ),
    (
        "console.no_grant_requests",
        "暂无待批准的授权。",
        "No grant awaits you.",
    ),
    ("console.requested_by", "申请人", "Asked by"),
    ("console.approve", "批准", "Approve"),
    ("console.refuse", "拒绝", "Refuse"),
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
        "用户名、密码或动态验证码不正确；连续失败多次后，账号会暂时锁定一段时间。",
        "The username, password or one-time code is not correct; after repeated failures the account is locked for a while.",
    ),
    (
        "problem.locked-out",
        "尝试次数过多，请稍后再试。",
        "Too many attempts; please try again later.",
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
    ("role.duty_officer", "值班员", "Duty officer"),
    // A collector's device of a department's project (一表通), reading to prefill a form.
    ("role.collector", "基层采集员", "Grassroots collector"),
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

/// A table of interface text: (key, 中文, English).
pub type Texts = &'static [(&'static str, &'static str, &'static str)];

/// The modules' tables, registered once per process (every node of a process has the same
/// modules).
static MODULE_TEXTS: std::sync::OnceLock<Vec<Texts>> = std::sync::OnceLock::new();

/// Registers the modules' tables; later calls change nothing.
pub fn register(tables: Vec<Texts>) {
    let _ = MODULE_TEXTS.set(tables);
}

/// The entry of `key`, in the kernel's table or a module's.
fn entry(key: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    TEXT.iter()
        .chain(
            MODULE_TEXTS
                .get()
                .into_iter()
                .flatten()
                .flat_map(|t| t.iter()),
        )
        .find(|(k, _, _)| *k == key)
}

/// Every key, the kernel's and the registered modules', for the tests of the tables.
pub fn keys() -> Vec<&'static str> {
    TEXT.iter()
        .chain(
            MODULE_TEXTS
                .get()
                .into_iter()
                .flatten()
                .flat_map(|t| t.iter()),
        )
        .map(|(k, _, _)| *k)
        .collect()
}

/// Interface text in one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Language);

impl Tr {
    /// The text for `key`; an unknown key shows itself, so a gap is visible and never a crash.
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        match entry(key) {
            Some((_, zh, en)) => match self.0 {
                Language::Zh => zh,
                Language::En => en,
            },
            None => key,
        }
    }

    /// Whether the page is in English (content in Chinese alone is then marked as such).
    pub fn english(&self) -> bool {
        self.0 == Language::En
    }

    pub fn lang(&self) -> &'static str {
        match self.0 {
            Language::Zh => "zh-CN",
            Language::En => "en",
        }
    }

    pub fn has(key: &str) -> bool {
        entry(key).is_some()
    }
}
