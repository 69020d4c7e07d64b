//! X-Road identifiers as the REST protocol writes them: a client
//! `INSTANCE/CLASS/MEMBER[/SUBSYSTEM]` and a service `INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE`,
//! each part percent-encoded UTF-8. Parts are checked strictly (PR-REST 4.2 and 4.8): no
//! control or separator characters, none of `/ \ ; %` after decoding, at most 255 bytes.

use std::fmt;

/// The subsystem under which a department offers its shared resources.
pub const DATA_SUBSYSTEM: &str = "DATA";

/// The most bytes one identifier part may hold.
const MAX_PART: usize = 255;

/// A member or subsystem, in the X-Road sense.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId {
    pub instance: String,
    pub class: String,
    pub member: String,
    pub subsystem: Option<String>,
}

/// A service of a subsystem.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceId {
    pub provider: ClientId,
    pub code: String,
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.instance, self.class, self.member)?;
        if let Some(subsystem) = &self.subsystem {
            write!(f, "/{subsystem}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.code)
    }
}

/// Decodes one percent-encoded part and checks it.
pub fn part(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("an identifier part is empty");
    }
    if raw.len() > MAX_PART * 3 {
        return Err("an identifier part is too long");
    }
    let decoded = percent_decode(raw).ok_or("an identifier part is not percent-encoded UTF-8")?;
    if decoded.len() > MAX_PART {
        return Err("an identifier part is longer than 255 bytes");
    }
    if decoded
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\' | ';' | '%' | ':'))
    {
        return Err(
            "an identifier part holds a character X-Road does not allow (control, space, / \\ ; % :)",
        );
    }
    Ok(decoded)
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads an `X-Road-Client` value: three or four parts.
pub fn parse_client(value: &str) -> Result<ClientId, &'static str> {
    if value.len() > 4 * MAX_PART * 3 + 3 {
        return Err("the client identifier is too long");
    }
    let parts: Vec<&str> = value.split('/').collect();
    let (instance, class, member, subsystem) = match parts.as_slice() {
        [i, c, m] => (i, c, m, None),
        [i, c, m, s] => (i, c, m, Some(s)),
        _ => return Err("the client is INSTANCE/CLASS/MEMBER[/SUBSYSTEM]"),
    };
    Ok(ClientId {
        instance: part(instance)?,
        class: part(class)?,
        member: part(member)?,
        subsystem: subsystem.map(|s| part(s)).transpose()?,
    })
}

/// Splits a request path after `/r1/` into the service and the path passed to the provider
/// (beginning with `/`, or empty). The service always has five parts here: tongban's
/// providers are subsystems.
pub fn split_service(rest: &str) -> Result<(ServiceId, String), &'static str> {
    let mut pieces = rest.splitn(6, '/');
    let mut next = || {
        pieces
            .next()
            .ok_or("the service is INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE")
    };
    let (instance, class, member, subsystem, code) = (next()?, next()?, next()?, next()?, next()?);
    let path = pieces.next().map(|p| format!("/{p}")).unwrap_or_default();
    Ok((
        ServiceId {
            provider: ClientId {
                instance: part(instance)?,
                class: part(class)?,
                member: part(member)?,
                subsystem: Some(part(subsystem)?),
            },
            code: part(code)?,
        },
        path,
    ))
}

/// Whether a provider path is safe to append to a registered base address: no dot segments,
/// no encoded separators or dots that could climb out of it, no backslashes.
pub fn safe_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    path.len() <= 2000
        && !lower.contains("%2f")
        && !lower.contains("%5c")
        && !lower.contains("%2e")
        && !path.contains('\\')
        && path
            .split('/')
            .all(|segment| segment != "." && segment != "..")
        && path.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_and_its_path_are_read_part_by_part() {
        let (service, path) =
            split_service("CN/GOV/91110000MA01ABCD1X/DATA/SJ-QYDJ-001/enterprises/1").expect("ok");
        assert_eq!(service.provider.member, "91110000MA01ABCD1X");
        assert_eq!(service.provider.subsystem.as_deref(), Some("DATA"));
        assert_eq!(service.code, "SJ-QYDJ-001");
        assert_eq!(path, "/enterprises/1");
        assert_eq!(
            service.to_string(),
            "CN/GOV/91110000MA01ABCD1X/DATA/SJ-QYDJ-001"
        );
        let (_, none) = split_service("CN/GOV/M/DATA/listMethods").expect("ok");
        assert_eq!(none, "");
    }

    #[test]
    fn percent_encoding_is_decoded_and_forbidden_characters_refused() {
        assert_eq!(part("BAR%2DSERVICE"), Ok("BAR-SERVICE".into()));
        assert!(part("BAR%2FSERVICE").is_err());
        assert!(part("a%3Bb").is_err());
        assert!(part("a%0Ab").is_err());
        assert!(part("%zz").is_err());
        assert!(part("%C3").is_err());
        assert!(part("").is_err());
        assert!(part(&"x".repeat(256)).is_err());
        assert!(parse_client("CN/GOV").is_err());
        assert!(parse_client("CN/GOV/M/S/X").is_err());
        assert_eq!(
            parse_client("CN/GOV/M").expect("three parts").subsystem,
            None
        );
    }

    #[test]
    fn paths_that_climb_out_of_the_base_are_refused() {
        assert!(safe_path("/enterprises/91110000MA01ABCD1X"));
        assert!(safe_path(""));
        assert!(!safe_path("/../admin"));
        assert!(!safe_path("/a/%2e%2e/admin"));
        assert!(!safe_path("/a%2Fb"));
        assert!(!safe_path("/a\\b"));
        assert!(!safe_path("/a b"));
    }
}
