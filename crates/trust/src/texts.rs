//! Interface text of the trust page, in Chinese and English (key, 中文, English).

pub const TEXTS: crate::web::i18n::Texts = &[
    (
        "trust.page",
        "互认与境外凭证",
        "Trust and foreign credentials",
    ),
    (
        "trust.page_hint",
        "互认地区的信任列表、欧盟数字新冠证书签发证书。",
        "Other regions' trust lists, EU DCC signer certificates.",
    ),
    ("trust.title", "互认地区", "Recognised regions"),
    ("trust.todo_kind", "信任变更复核", "Trust change to approve"),
    (
        "trust.none",
        "尚未互认其他地区。",
        "No other region is recognised yet.",
    ),
    ("trust.root", "根公钥（base64url）", "Root key (base64url)"),
    ("trust.issued", "信任列表签发时间", "List issued"),
    ("trust.remove", "取消互认", "Stop recognising"),
    (
        "trust.list",
        "对方地区的信任列表（JSON）",
        "The other region's trust list (JSON)",
    ),
    ("trust.import", "导入", "Import"),
    ("trust.imported", "已互认地区", "Now recognising region"),
    (
        "trust.proposed",
        "已提交，须另一名安全管理员批准后生效。",
        "Proposed: it takes effect when another security administrator approves it.",
    ),
    (
        "trust.approved",
        "已批准并生效。",
        "Approved and in effect.",
    ),
    (
        "trust.proposals",
        "待批准的信任变更",
        "Trust changes awaiting approval",
    ),
    (
        "trust.proposals_hint",
        "凡扩大信任的变更（互认地区、欧盟证书签发方、健康卡签发方、访客规则）须两名安全管理员：一人提出，另一人批准。撤销信任一人即可。",
        "Every change that trusts more (a region, EU DCC signers, a health card issuer, the visitors' rule) takes two security administrators: one proposes, another approves. Removing trust takes one.",
    ),
    (
        "trust.no_proposals",
        "暂无待批准的变更。",
        "Nothing awaits approval.",
    ),
    (
        "trust.yours",
        "（您提出的，待他人批准）",
        "(yours, for someone else to approve)",
    ),
    ("trust.approve", "批准", "Approve"),
    (
        "trust.removed",
        "已取消互认",
        "No longer recognising region",
    ),
    (
        "trust.hint",
        "根公钥须经线下渠道从对方地区获取并核对；刷新须为同一根公钥签发的更新列表。",
        "Obtain the root key from the other region out of band and check it; a refresh must be a newer list signed by the same root key.",
    ),
    (
        "dcc.title",
        "欧盟数字新冠证书签名证书（DSC）",
        "EU DCC signer certificates (DSC)",
    ),
    (
        "dcc.none",
        "尚未信任任何签名证书，欧盟数字新冠证书一律不予认可。",
        "No signer certificate is trusted yet; EU DCCs are not accepted.",
    ),
    ("dcc.kid", "密钥标识（kid）", "Key id (kid)"),
    ("dcc.country", "国家", "Country"),
    ("dcc.subject", "证书主体", "Subject"),
    ("dcc.not_after", "有效期至", "Valid until"),
    ("dcc.remove", "停止信任", "Stop trusting"),
    (
        "dcc.list",
        "签名证书列表（PEM：国家签名 CA 与其签发的签名证书；欧盟网关信任列表 JSON；或经可信列表签名密钥签名的 JWS）",
        "Signer list (PEM: a country signing CA with the signers it issued; the EU gateway's trust-list JSON; or a JWS signed by a trusted list signer)",
    ),
    ("dcc.import", "导入", "Import"),
    (
        "dcc.imported",
        "新增签名证书数",
        "Signer certificates added:",
    ),
    ("dcc.removed", "已停止信任", "No longer trusted:"),
    (
        "dcc.anchors",
        "信任锚：国家签名 CA 与列表签名密钥",
        "Anchors: country signing CAs and list signers",
    ),
    (
        "dcc.anchors_none",
        "尚无信任锚：签名证书须由其国家签名 CA 签发，或来自经信任密钥签名的列表。",
        "No anchors yet: a signer must be issued by its country's signing CA or come in a list signed by a trusted key.",
    ),
    ("dcc.kind", "类型", "Kind"),
    ("dcc.kind.csca", "国家签名 CA", "Country signing CA"),
    ("dcc.kind.list_signer", "列表签名密钥", "List signer"),
    (
        "dcc.fingerprint",
        "指纹（SHA-256）",
        "Fingerprint (SHA-256)",
    ),
    (
        "dcc.remove_anchor",
        "停止信任（连同其担保的签名证书）",
        "Stop trusting (with the signers it vouched for)",
    ),
    (
        "dcc.hint",
        "列表须经可信渠道取得；导入后立即在各节点生效，核验时同时检查证书有效期与用途。",
        "Obtain the list over a channel you trust. It takes effect on every node at once; checks also test each signer's validity and key usage.",
    ),
];
