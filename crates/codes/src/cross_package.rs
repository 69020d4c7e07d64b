//! 跨省通办's application package (申请包) that travels from the applicant's region to the competent
//! region: the form, the materials with their digests, certificates pulled with consent, the
//! applicant's identity as the sending region asserts it, and the consent record — signed by
//! the sending department's key, which the sending region's trust list binds to its USCC. The
//! competent region checks the signature against that list before it takes anything, and keeps
//! the signed package as the record of what it was asked.
//!
//! The signature covers `tongban-cross-region-package/1`, a newline and the RFC 8785 canonical
//! JSON of the package with each material by its SHA-256 (checked against the content before
//! anything else), so it can never be taken for an exchange's signature made by the same key.
//!
//! A package travels as CBOR (RFC 8949; `application/cbor`), its materials as byte strings —
//! a quarter fewer bytes to hash, send, seal and store than JSON's base64 — or as JSON, its
//! materials in base64, as packages were first sent and kept. Both encode the same fields, and
//! the signature covers neither encoding but the canonical manifest above, so a package signed
//! once verifies in either.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What the signature's bytes begin with.
const CONTEXT: &[u8] = b"tongban-cross-region-package/1\n";

/// The largest package a region takes (materials included).
pub const MAX_PACKAGE_BYTES: usize = 24 << 20;
/// The most materials one package carries.
pub const MAX_MATERIALS: usize = 20;
/// The most parts a joint case has.
pub const MAX_LEGS: usize = 8;
/// The largest material, before base64.
pub const MAX_MATERIAL_BYTES: usize = 5 << 20;

/// The three modes of the national list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// 全程网办: the applicant applies online in their own region.
    Online,
    /// 异地代收代办: a window of the applicant's region receives and checks, then forwards.
    Proxy,
    /// 多地联办: several regions each do their part of one case, in the order of its route.
    Joint,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Online => "online",
            Mode::Proxy => "proxy",
            Mode::Joint => "joint",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "online" => Some(Mode::Online),
            "proxy" => Some(Mode::Proxy),
            "joint" => Some(Mode::Joint),
            _ => None,
        }
    }
}

/// The applicant as the sending region knows them (registered and checked there).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub resident_id: String,
    pub name: String,
    /// How the sending region established who applies: `login` (the person's own account)
    /// or `window` (a clerk checked the ID card at the window).
    pub assurance: String,
}

impl std::fmt::Debug for Applicant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Applicant(<redacted>)")
    }
}

/// One material: its name, type, SHA-256 (hex) and content (base64 in JSON, a byte string in
/// CBOR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub name: String,
    pub media_type: String,
    pub sha256: String,
    #[serde(with = "content")]
    pub content: Vec<u8>,
}

impl Material {
    pub fn new(name: &str, media_type: &str, bytes: &[u8]) -> Material {
        Material {
            name: name.to_owned(),
            media_type: media_type.to_owned(),
            sha256: hex(&Sha256::digest(bytes)),
            content: bytes.to_vec(),
        }
    }

    /// The content, if it matches its digest.
    pub fn bytes(&self) -> Option<&[u8]> {
        (hex(&Sha256::digest(&self.content)) == self.sha256).then_some(self.content.as_slice())
    }
}

/// A material's content: base64 where the format is text (JSON), bytes where it is binary.
mod content {
    use base64::Engine as _;
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
        } else {
            serializer.serialize_bytes(bytes)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Content(bool);
        impl Visitor<'_> for Content {
            type Value = Vec<u8>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(if self.0 {
                    "base64 text"
                } else {
                    "a byte string"
                })
            }

            fn visit_str<E: Error>(self, text: &str) -> Result<Vec<u8>, E> {
                if !self.0 {
                    return Err(E::custom("a material's content is a byte string"));
                }
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| E::custom("a material's content is base64"))
            }

            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                self.visit_byte_buf(bytes.to_vec())
            }

            fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                if self.0 {
                    return Err(E::custom("a material's content is base64 text"));
                }
                Ok(bytes)
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(Content(true))
        } else {
            deserializer.deserialize_byte_buf(Content(false))
        }
    }
}

/// The applicant's consent to send their application and data to the competent region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub given_at: String,
    /// What was consented to, as the applicant read it.
    pub text: String,
}

/// One part of a joint case (多地联办): the region, its item and competent department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leg {
    pub region: String,
    pub item_code: String,
    /// The competent department's USCC there.
    pub competent: String,
}

/// What a region did in an earlier part of a joint case, as it told the applicant's region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Earlier {
    pub region: String,
    pub item_code: String,
    /// When that region issued its part's result (RFC 3339).
    pub at: String,
    /// The exchange message that brought the result to the applicant's region (its signed
    /// receipt is the proof).
    pub message_id: String,
    pub result: serde_json::Value,
}

/// The package itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The idempotency key: one package, one application, however often it is delivered.
    pub id: String,
    pub mode: Mode,
    pub item_code: String,
    pub from_region: String,
    pub to_region: String,
    /// The sending (intake) department's USCC, whose key signs.
    pub sent_by: String,
    /// The competent department's USCC.
    pub competent: String,
    pub created_at: String,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub materials: Vec<Material>,
    /// Annotated copies of certificates obtained with the applicant's consent (加注件).
    #[serde(default)]
    pub certificates: Vec<serde_json::Value>,
    pub consent: Consent,
    /// The window clerk who received and checked the materials (代收), by name.
    #[serde(default)]
    pub received_by: Option<String>,
    /// For a joint case: every part in order. `item_code`, `to_region` and `competent` name
    /// the part at `leg`, the one this package is for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<Leg>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub leg: usize,
    /// The results of the parts before `leg`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Earlier>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A package with its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub package: Package,
    pub kid: String,
    /// When it was signed (RFC 3339): the key must have been in force then.
    pub at: String,
    /// base64url, over [`signed_bytes`].
    pub signature: String,
}

/// Why a package is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Malformed(String),
    BadSignature(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(why) => write!(f, "the package is malformed: {why}"),
            Refusal::BadSignature(why) => write!(f, "the package's signature: {why}"),
        }
    }
}

/// The bytes the signature covers: the package with each material by its digest (which
/// [`Signed::parse`] checks against the content), so a package of large materials is
/// canonicalised and hashed for signing in a few hundred bytes.
pub fn signed_bytes(package: &Package, kid: &str, at: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct MaterialRef<'a> {
        name: &'a str,
        media_type: &'a str,
        sha256: &'a str,
    }
    #[derive(Serialize)]
    struct Manifest<'a> {
        id: &'a str,
        mode: Mode,
        item_code: &'a str,
        from_region: &'a str,
        to_region: &'a str,
        sent_by: &'a str,
        competent: &'a str,
        created_at: &'a str,
        applicant: &'a Applicant,
        form: &'a serde_json::Value,
        materials: Vec<MaterialRef<'a>>,
        certificates: &'a [serde_json::Value],
        consent: &'a Consent,
        received_by: Option<&'a str>,
        #[serde(skip_serializing_if = "<[Leg]>::is_empty")]
        route: &'a [Leg],
        #[serde(skip_serializing_if = "is_zero")]
        leg: usize,
        #[serde(skip_serializing_if = "<[Earlier]>::is_empty")]
        earlier: &'a [Earlier],
    }
    #[derive(Serialize)]
    struct Covered<'a> {
        package: Manifest<'a>,
        kid: &'a str,
        at: &'a str,
    }
    let manifest = Manifest {
        id: &package.id,
        mode: package.mode,
        item_code: &package.item_code,
        from_region: &package.from_region,
        to_region: &package.to_region,
        sent_by: &package.sent_by,
        competent: &package.competent,
        created_at: &package.created_at,
        applicant: &package.applicant,
        form: &package.form,
        materials: package
            .materials
            .iter()
            .map(|m| MaterialRef {
                name: &m.name,
                media_type: &m.media_type,
                sha256: &m.sha256,
            })
            .collect(),
        certificates: &package.certificates,
        consent: &package.consent,
        received_by: package.received_by.as_deref(),
        route: &package.route,
        leg: package.leg,
        earlier: &package.earlier,
    };
    let mut bytes = CONTEXT.to_vec();
    bytes.extend(
        serde_json_canonicalizer::to_vec(&Covered {
            package: manifest,
            kid,
            at,
        })
        .unwrap_or_default(),
    );
    bytes
}

/// Signs a package with the sending department's key.
pub fn sign(package: Package, signer: &dyn tongban_crypto::Signer, at: &str) -> Signed {
    let kid = signer.kid().to_owned();
    let signature = signer.sign(&signed_bytes(&package, &kid, at));
    Signed {
        package,
        kid,
        at: at.to_owned(),
        signature: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature),
    }
}

impl Signed {
    /// What identifies a package's content: the SHA-256 (hex) of the bytes its signature
    /// covers and of the signature. The materials are in those bytes by their digests, which
    /// [`Signed::parse`] checks against the contents, so two packages that parse with the same
    /// fingerprint hold the same content, and hashing it costs a few hundred bytes whatever
    /// the materials weigh.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(signed_bytes(&self.package, &self.kid, &self.at));
        hasher.update(b"\n");
        hasher.update(self.signature.as_bytes());
        hex(&hasher.finalize())
    }
}

/// The SHA-256 (hex) of a signed package as it travels (what cases kept before
/// [`Signed::fingerprint`]).
pub fn digest(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The media type of a package as it travels.
pub const MEDIA_TYPE: &str = "application/cbor";

impl Signed {
    /// The package as it travels: CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            1024 + self
                .package
                .materials
                .iter()
                .map(|m| m.content.len() + 256)
                .sum::<usize>(),
        );
        // Writing into a Vec fails only when memory does.
        let _ = ciborium::into_writer(self, &mut out);
        out
    }

    /// A package as encoded — CBOR, or JSON (which begins with `{`, as no CBOR map of its
    /// fields can) — with none of [`Signed::parse`]'s checks: how a package kept here is read.
    pub fn decode(body: &[u8]) -> Result<Signed, Refusal> {
        let json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{');
        if json {
            serde_json::from_slice(body)
                .map_err(|e| Refusal::Malformed(format!("not a signed package ({e})")))
        } else {
            ciborium::from_reader(body)
                .map_err(|e| Refusal::Malformed(format!("not a signed package ({e})")))
        }
    }

    /// Parses a package as it arrived, and checks what needs no key: sizes, the materials'
    /// digests.
    pub fn parse(body: &[u8]) -> Result<Signed, Refusal> {
        if body.len() > MAX_PACKAGE_BYTES {
            return Err(Refusal::Malformed("larger than a package may be".into()));
        }
        let signed = Signed::decode(body)?;
        let package = &signed.package;
        if package.id.is_empty()
            || package.id.len() > 64
            || !package
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Refusal::Malformed(
                "the id is 1–64 letters, digits or '-'".into(),
            ));
        }
        let joint = package.mode == Mode::Joint;
        let leg_fits = package.route.get(package.leg).is_some_and(|leg| {
            leg.region == package.to_region
                && leg.item_code == package.item_code
                && leg.competent == package.competent
        });
        if joint == package.route.is_empty()
            || (joint && (!leg_fits || package.earlier.len() != package.leg))
            || package.route.len() > MAX_LEGS
        {
            return Err(Refusal::Malformed(
                "a joint package names its route, and the part it is for is the one it goes to"
                    .into(),
            ));
        }
        if package.materials.len() > MAX_MATERIALS {
            return Err(Refusal::Malformed(format!(
                "at most {MAX_MATERIALS} materials"
            )));
        }
        for material in &package.materials {
            match material.bytes() {
                Some(bytes) if bytes.len() <= MAX_MATERIAL_BYTES => {}
                Some(_) => {
                    return Err(Refusal::Malformed(format!(
                        "the material {} is too large",
                        material.name
                    )));
                }
                None => {
                    return Err(Refusal::Malformed(format!(
                        "the material {} does not match its digest",
                        material.name
                    )));
                }
            }
        }
        Ok(signed)
    }

    /// Checks the signature with the public key the sender's trust list binds to `kid`.
    pub fn verify(&self, public: &tongban_crypto::PublicKey) -> Result<(), Refusal> {
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.signature)
            .map_err(|_| Refusal::BadSignature("not base64url".into()))?;
        tongban_crypto::verify(
            public,
            &signed_bytes(&self.package, &self.kid, &self.at),
            &signature,
        )
        .map_err(|_| Refusal::BadSignature("does not verify".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_crypto::Signer as _;

    fn package() -> Package {
        Package {
            id: "p-1".into(),
            mode: Mode::Online,
            item_code: "440300-GA-0003".into(),
            from_region: "339900".into(),
            to_region: "440300".into(),
            sent_by: "11339900MB0000000X".into(),
            competent: "11440300MB0000000X".into(),
            created_at: "2026-12-04T08:00:00Z".into(),
            applicant: Applicant {
                resident_id: "110101199003071234".into(),
                name: "张三".into(),
                assurance: "login".into(),
            },
            form: serde_json::json!({"purpose": "就业"}),
            materials: vec![Material::new("居民身份证", "image/png", b"png bytes")],
            certificates: Vec::new(),
            consent: Consent {
                given_at: "2026-12-04T08:00:00Z".into(),
                text: "同意".into(),
            },
            received_by: None,
            route: Vec::new(),
            leg: 0,
            earlier: Vec::new(),
        }
    }

    #[test]
    fn a_signed_package_verifies_and_any_change_breaks_it() {
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        let signed = sign(package(), &signer, "2026-12-04T08:00:00Z");
        let body = serde_json::to_vec(&signed).expect("json");
        let parsed = Signed::parse(&body).expect("parses");
        parsed.verify(&signer.public_key()).expect("verifies");

        let mut changed = parsed.clone();
        changed.package.applicant.name = "李四".into();
        assert!(matches!(
            changed.verify(&signer.public_key()),
            Err(Refusal::BadSignature(_))
        ));
        let mut changed = parsed.clone();
        changed.at = "2026-12-05T08:00:00Z".into();
        assert!(changed.verify(&signer.public_key()).is_err());
        let mut changed = parsed.clone();
        changed.package.materials[0] = Material::new("居民身份证", "image/png", b"other bytes");
        assert!(
            changed.verify(&signer.public_key()).is_err(),
            "a material's digest is signed"
        );
        let other = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        assert!(parsed.verify(&other.public_key()).is_err());
    }

    #[test]
    fn a_package_travels_as_cbor_with_its_materials_as_bytes_and_is_read_as_json_too() {
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        let mut content = package();
        content.materials = vec![Material::new(
            "营业执照",
            "application/pdf",
            &[0xA5; 30_000],
        )];
        let signed = sign(content, &signer, "2026-12-04T08:00:00Z");
        let cbor = signed.encode();
        let json = serde_json::to_vec(&signed).expect("json");
        // Bytes, not base64: the CBOR form is about three quarters of the JSON one.
        assert!(cbor.len() < 30_000 + 1_000, "{}", cbor.len());
        assert!(json.len() > 40_000, "{}", json.len());
        let text: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert!(text["package"]["materials"][0]["content"].is_string());
        for body in [&cbor, &json] {
            let parsed = Signed::parse(body).expect("parses");
            assert_eq!(parsed, signed);
            parsed.verify(&signer.public_key()).expect("verifies");
            assert_eq!(parsed.fingerprint(), signed.fingerprint());
        }
        // Leading whitespace before JSON is JSON; base64 where bytes belong is refused.
        let mut spaced = b"  \n".to_vec();
        spaced.extend_from_slice(&json);
        assert_eq!(Signed::decode(&spaced).expect("json"), signed);
        let mut as_text = Vec::new();
        ciborium::into_writer(&text, &mut as_text).expect("cbor");
        assert!(matches!(
            Signed::parse(&as_text),
            Err(Refusal::Malformed(_))
        ));
        // Bytes that are no package at all, cut short or not CBOR, are refused too.
        for garbage in [&cbor[..cbor.len() / 2], &[0xff, 0x00, 0x13][..], &[][..]] {
            assert!(matches!(Signed::parse(garbage), Err(Refusal::Malformed(_))));
        }
    }

    #[test]
    fn a_material_that_does_not_match_its_digest_is_refused_before_any_key() {
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        let mut signed = sign(package(), &signer, "2026-12-04T08:00:00Z");
        signed.package.materials[0].content = b"other bytes".to_vec();
        let body = serde_json::to_vec(&signed).expect("json");
        assert!(matches!(Signed::parse(&body), Err(Refusal::Malformed(_))));
        assert!(matches!(
            Signed::parse(&signed.encode()),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            Signed::parse(b"{\"package\": 1}"),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn a_joint_package_signs_its_route_and_goes_to_the_part_it_names() {
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        let mut joint = package();
        joint.mode = Mode::Joint;
        joint.route = vec![
            Leg {
                region: "110000".into(),
                item_code: "SJ-0006".into(),
                competent: "11110000MB0000000X".into(),
            },
            Leg {
                region: "440300".into(),
                item_code: "440300-GA-0003".into(),
                competent: "11440300MB0000000X".into(),
            },
        ];
        joint.leg = 1;
        joint.earlier = vec![Earlier {
            region: "110000".into(),
            item_code: "SJ-0006".into(),
            at: "2026-12-04T09:00:00Z".into(),
            message_id: "m-1".into(),
            result: serde_json::json!({"document": "京迁出〔2026〕1号"}),
        }];
        let signed = sign(joint.clone(), &signer, "2026-12-04T10:00:00Z");
        let body = serde_json::to_vec(&signed).expect("json");
        let parsed = Signed::parse(&body).expect("parses");
        parsed.verify(&signer.public_key()).expect("verifies");
        let mut changed = parsed.clone();
        changed.package.earlier[0].result = serde_json::json!({"document": "other"});
        assert!(
            changed.verify(&signer.public_key()).is_err(),
            "earlier results are signed"
        );

        for broken in [
            Package {
                leg: 0,
                ..joint.clone()
            },
            Package {
                earlier: Vec::new(),
                ..joint.clone()
            },
            Package {
                route: Vec::new(),
                ..joint.clone()
            },
            Package {
                mode: Mode::Online,
                ..joint.clone()
            },
        ] {
            let body =
                serde_json::to_vec(&sign(broken, &signer, "2026-12-04T10:00:00Z")).expect("json");
            assert!(matches!(Signed::parse(&body), Err(Refusal::Malformed(_))));
        }
        // A package of one region carries no route, and its signed bytes are as before.
        let plain = package();
        let text = String::from_utf8(signed_bytes(&plain, "k1", "t")).expect("utf-8");
        assert!(!text.contains("route") && !text.contains("\"leg\""));
    }

    #[test]
    fn the_fingerprint_follows_the_content_not_the_bytes() {
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k1",
        );
        let signed = sign(package(), &signer, "2026-12-04T08:00:00Z");
        let compact = serde_json::to_vec(&signed).expect("json");
        let pretty = serde_json::to_vec_pretty(&signed).expect("json");
        let (a, b) = (
            Signed::parse(&compact).expect("parses"),
            Signed::parse(&pretty).expect("parses"),
        );
        assert_ne!(digest(&compact), digest(&pretty));
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut other = package();
        other.materials = vec![Material::new("居民身份证", "image/png", b"other bytes")];
        let other = sign(other, &signer, "2026-12-04T08:00:00Z");
        assert_ne!(other.fingerprint(), a.fingerprint());
    }

    #[test]
    fn the_applicant_never_shows_in_debug() {
        let text = format!("{:?}", package());
        assert!(!text.contains("110101199003071234") && !text.contains("张三"));
    }
}
