//! The GB/T 9704 layout set in the Debian faces (`fonts-arphic-uming`, `fonts-arphic-ukai`):
//! the file parses, embeds subsets, holds the text and leaves its signature slot.
#![cfg(feature = "pdf")]

use tongban_gongwen::pdf::{self, Face, Faces, Sheet, SignatureSlot};

fn fonts() -> Option<(Vec<u8>, Vec<u8>)> {
    let dir = std::env::var("TONGBAN_OFFICE_FONTS_DIR")
        .unwrap_or_else(|_| "/usr/share/fonts/truetype/arphic".into());
    let dir = std::path::Path::new(&dir);
    match (
        std::fs::read(dir.join("uming.ttc")),
        std::fs::read(dir.join("ukai.ttc")),
    ) {
        (Ok(song), Ok(kai)) => Some((song, kai)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("the faces are missing under CI: install fonts-arphic-uming fonts-arphic-ukai")
        }
        _ => {
            eprintln!("skipped: fonts-arphic-uming and fonts-arphic-ukai are not installed");
            None
        }
    }
}

pub fn sheet(paragraphs: usize) -> Sheet {
    Sheet {
        copy: None,
        secrecy: None,
        urgency: Some("特急".into()),
        mark: "临江区政务服务管理局文件".into(),
        number: Some("临政服发〔2026〕7号".into()),
        signer: None,
        title: "临江区政务服务管理局关于做好2027年元旦期间政务服务窗口值班工作的通知".into(),
        recipients: Some("各街道办事处，区直各部门".into()),
        body: (0..paragraphs)
            .map(|i| format!("第{}条　为保障元旦期间群众和企业办事不受影响，各窗口单位应当安排工作人员轮流值班，值班表于12月25日前报区政务服务管理局。遇有紧急情况，值班人员应当立即报告，并做好记录。", i + 1))
            .collect(),
        attachments: vec!["值班安排表".into(), "值班人员联系方式".into()],
        organ: "临江区政务服务管理局".into(),
        date: "2026年12月7日".into(),
        seal: Some("临江区政务服务管理局".into()),
        copied_to: Some("区委办公室，区人大常委会办公室，区政协办公室".into()),
        printed_by: "临江区政务服务管理局办公室".into(),
        printed_on: "2026年12月7日".into(),
    }
}

#[test]
fn a_sealed_notice_is_laid_out_with_its_signature_slot() {
    let Some((song, kai)) = fonts() else { return };
    let faces = Faces {
        song: Face {
            index: pdf::face_index(&song, "CN"),
            data: &song,
        },
        kai: Face {
            index: pdf::face_index(&kai, "CN"),
            data: &kai,
        },
    };
    let slot = SignatureSlot {
        name: "临江区政务服务管理局".into(),
        time: "D:20261207101500+08'00'".into(),
        contents_len: 16384,
    };
    let file = pdf::render(&sheet(12), &faces, Some(&slot)).expect("laid out");
    assert!(file.starts_with(b"%PDF-"));
    // Subsets, not the 20 MB faces.
    assert!(file.len() < 400_000, "{} bytes", file.len());
    let text = String::from_utf8_lossy(&file);
    assert!(text.contains("/SubFilter /ETSI.CAdES.detached"));
    assert!(text.contains("/ByteRange [0 1000000000 1000000000 1000000000]"));
    assert!(text.contains(&format!("/Contents ({})", "0".repeat(16384))));
    // Twelve paragraphs of four lines run over three pages; the seal and the closing block
    // follow on the fourth.
    assert_eq!(
        text.matches("/Type /Page").count() - text.matches("/Type /Pages").count(),
        4
    );
    if let Ok(out) = std::env::var("TONGBAN_PDF_OUT") {
        std::fs::write(out, &file).expect("written");
    }
}

#[test]
fn a_character_no_face_has_is_named() {
    let Some((song, kai)) = fonts() else { return };
    let faces = Faces {
        song: Face {
            index: 0,
            data: &song,
        },
        kai: Face {
            index: 0,
            data: &kai,
        },
    };
    let mut odd = sheet(1);
    odd.body = vec!["\u{1F600}".into()];
    assert_eq!(
        pdf::render(&odd, &faces, None),
        Err(pdf::PdfError::Missing('\u{1F600}'))
    );
}
