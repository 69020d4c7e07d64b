//! The final document as PDF, laid out as GB/T 9704-2012 lays it out: A4, the text area of
//! 156 × 225 mm set 37 mm from the top and 28 mm from the left, 22 lines of 28 characters in
//! 3号 (16 pt) type, the red organ mark and red separator line, the title in 2号 (22 pt), the
//! seal pressed over the signature and date, the closing block (版记) at the foot of the last
//! page and page numbers in 4号 (14 pt) as `— 1 —`, right on odd pages and left on even ones.
//!
//! Two faces stand in for the faces the standard names and no free licence covers: a 宋体-style
//! face (AR PL UMing in Debian) for 仿宋_GB2312 in the body and, drawn with a stroke to thicken
//! it, for 小标宋 in the mark and the title; a 楷体-style face (AR PL UKai) for 楷体_GB2312 in the
//! 签发人's name. Both are embedded as subsets (only the glyphs the document uses), with a
//! ToUnicode map so the text can be searched and read aloud.
//!
//! When asked, the file leaves room for one signature: a signature field whose `/ByteRange` and
//! `/Contents` are placeholders that a signer fills in (see the `tongban-pades` crate).

use std::collections::BTreeMap;

use pdf_writer::types::{BlendMode, CidFontType, FontFlags, SystemInfo, TextRenderingMode};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// Millimetres to PDF points.
const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 28.0 * MM;
const TOP: f32 = 37.0 * MM;
const AREA_W: f32 = 156.0 * MM;
const AREA_H: f32 = 225.0 * MM;
/// 3号: the body's size.
const BODY: f32 = 16.0;
/// 2号: the title's size.
const TITLE: f32 = 22.0;
/// 4号: page numbers and the closing block.
const SMALL: f32 = 14.0;
/// One of the 22 lines of the text area.
const LINE: f32 = AREA_H / 22.0;
/// One of the 28 characters of a line.
const CELL: f32 = AREA_W / 28.0;
/// The red of the organ mark, the separator line and the seal.
const RED: (f32, f32, f32) = (0.9, 0.0, 0.07);
/// The seal's diameter (a 42 mm round seal).
const SEAL: f32 = 42.0 * MM;

/// A face: the font file and the index of the face in it (a `.ttc` holds several).
pub struct Face<'a> {
    pub data: &'a [u8],
    pub index: u32,
}

/// The faces a document is set in.
pub struct Faces<'a> {
    /// 宋体-style: body, mark, title.
    pub song: Face<'a>,
    /// 楷体-style: the 签发人's name.
    pub kai: Face<'a>,
}

/// What the page shows, element by element (GB/T 9704-2012 chapter 7), already worded.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// 份号, six digits, for a numbered copy.
    pub copy: Option<String>,
    /// 密级和保密期限 (`机密★1年`).
    pub secrecy: Option<String>,
    /// 紧急程度 (`特急`).
    pub urgency: Option<String>,
    /// 发文机关标志 (`临江区政务服务管理局文件`).
    pub mark: String,
    /// 发文字号 (`临政服发〔2026〕7号`).
    pub number: Option<String>,
    /// 签发人 on an upward document.
    pub signer: Option<String>,
    pub title: String,
    /// 主送机关, joined (`各街道办事处，区直各部门`).
    pub recipients: Option<String>,
    /// 正文, one paragraph per entry.
    pub body: Vec<String>,
    /// 附件说明: the attachments' names, in order.
    pub attachments: Vec<String>,
    /// 发文机关署名.
    pub organ: String,
    /// 成文日期 (`2026年12月7日`).
    pub date: String,
    /// The seal's text along its rim; none: no seal.
    pub seal: Option<String>,
    /// 抄送机关, joined.
    pub copied_to: Option<String>,
    /// 印发机关.
    pub printed_by: String,
    /// 印发日期 (`2026年12月7日`).
    pub printed_on: String,
}

/// Room for one signature, filled in afterwards.
#[derive(Debug, Clone)]
pub struct SignatureSlot {
    /// Who signs (the organ), for the signature dictionary's `/Name`.
    pub name: String,
    /// The claimed signing time as a PDF date (`D:20261207101500+08'00'`).
    pub time: String,
    /// Placeholder bytes for `/Contents`, written as a literal string of `0`s that the signer
    /// replaces with a hex string of the same length.
    pub contents_len: usize,
}

/// The `/ByteRange` written for a signature slot, before the signer sets it.
pub const BYTE_RANGE_PLACEHOLDER: [i32; 4] = [0, 1_000_000_000, 1_000_000_000, 1_000_000_000];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// A font file could not be read as a TrueType/OpenType face.
    Font(&'static str),
    /// The text uses a character neither face has.
    Missing(char),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Font(which) => write!(f, "the {which} face cannot be read"),
            Self::Missing(c) => write!(f, "no face has the character {c:?}"),
        }
    }
}

impl std::error::Error for PdfError {}

/// A face ready to set text: its metrics, and the glyphs used so far.
struct Setter<'a> {
    face: ttf_parser::Face<'a>,
    data: &'a [u8],
    index: u32,
    units: f32,
    used: BTreeMap<u16, char>,
}

impl<'a> Setter<'a> {
    fn new(face: &Face<'a>, which: &'static str) -> Result<Self, PdfError> {
        let parsed =
            ttf_parser::Face::parse(face.data, face.index).map_err(|_| PdfError::Font(which))?;
        Ok(Self {
            units: f32::from(parsed.units_per_em()),
            face: parsed,
            data: face.data,
            index: face.index,
            used: BTreeMap::new(),
        })
    }

    fn glyph(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0)
    }

    /// The advance of `c` at `size`, in points.
    fn advance(&self, c: char, size: f32) -> f32 {
        self.face
            .glyph_index(c)
            .and_then(|g| self.face.glyph_hor_advance(g))
            .map_or(size, |a| f32::from(a) / self.units * size)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }

    /// The glyph ids of `text` as the two-byte codes of `Identity-H`, noting them as used.
    fn encode(&mut self, text: &str) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.glyph(c).ok_or(PdfError::Missing(c))?;
            self.used.entry(glyph).or_insert(c);
            out.extend_from_slice(&glyph.to_be_bytes());
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Font {
    Song,
    Kai,
}

impl Font {
    fn name(self) -> Name<'static> {
        match self {
            Font::Song => Name(b"F1"),
            Font::Kai => Name(b"F2"),
        }
    }
}

/// How a run of text is drawn.
#[derive(Clone, Copy)]
struct Style {
    font: Font,
    size: f32,
    red: bool,
    /// Thickened with a stroke (the stand-in for 小标宋).
    bold: bool,
    /// Vertical stretch (the organ mark is drawn taller than wide).
    stretch: f32,
}

const PLAIN: Style = Style {
    font: Font::Song,
    size: BODY,
    red: false,
    bold: false,
    stretch: 1.0,
};

/// A page being filled: its content, and the next baseline from the top of the text area.
struct Page {
    content: Content,
}

struct Layout<'a> {
    song: Setter<'a>,
    kai: Setter<'a>,
    pages: Vec<Page>,
    /// Distance from the text area's top to the next line's top.
    y: f32,
}

/// Closing punctuation that never starts a line (行首禁则): it hangs at the end of the line
/// before instead.
fn never_starts(c: char) -> bool {
    "，。、；：？！）》」』”’％".contains(c)
}

impl<'a> Layout<'a> {
    fn setter(&self, font: Font) -> &Setter<'a> {
        match font {
            Font::Song => &self.song,
            Font::Kai => &self.kai,
        }
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.new_page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last].content
    }

    fn new_page(&mut self) {
        self.pages.push(Page {
            content: Content::new(),
        });
        self.y = 0.0;
    }

    /// Moves down `lines` lines, opening a page when the text area is full.
    fn advance_lines(&mut self, lines: f32) {
        self.y += lines * LINE;
        if self.y > AREA_H + 0.5 {
            self.new_page();
        }
    }

    /// Makes sure `lines` lines still fit on this page.
    fn need(&mut self, lines: f32) {
        if self.y + lines * LINE > AREA_H + 0.5 {
            self.new_page();
        }
    }

    /// Draws `text` with its left edge at `x` (from the text area's left edge) on the current
    /// line, its glyphs centred in the line's height.
    fn draw(&mut self, x: f32, text: &str, style: Style) -> Result<(), PdfError> {
        if text.is_empty() {
            return Ok(());
        }
        // Every page is opened before a line is set on it.
        self.page();
        let line_top = PAGE_H - TOP - self.y;
        let baseline = line_top - (LINE + style.size * 0.76 * style.stretch) / 2.0;
        self.draw_at(LEFT + x, baseline, text, style)
    }

    fn draw_at(&mut self, x: f32, baseline: f32, text: &str, style: Style) -> Result<(), PdfError> {
        let encoded = match style.font {
            Font::Song => self.song.encode(text)?,
            Font::Kai => self.kai.encode(text)?,
        };
        let content = self.page();
        content.save_state();
        if style.red {
            content.set_fill_rgb(RED.0, RED.1, RED.2);
            content.set_stroke_rgb(RED.0, RED.1, RED.2);
        }
        content.begin_text();
        if style.bold {
            content.set_text_rendering_mode(TextRenderingMode::FillStroke);
            content.set_line_width(style.size * 0.03);
        }
        content.set_font(style.font.name(), style.size);
        content.set_text_matrix([1.0, 0.0, 0.0, style.stretch, x, baseline]);
        content.show(Str(&encoded));
        content.end_text();
        content.restore_state();
        Ok(())
    }

    /// Draws `text` centred across the text area.
    fn centred(&mut self, text: &str, style: Style) -> Result<(), PdfError> {
        let width = self.setter(style.font).width(text, style.size);
        self.draw((AREA_W - width) / 2.0, text, style)
    }

    /// Draws `text` ending `right` points before the text area's right edge.
    fn right(&mut self, text: &str, right: f32, style: Style) -> Result<(), PdfError> {
        let width = self.setter(style.font).width(text, style.size);
        self.draw(AREA_W - right - width, text, style)
    }

    /// Breaks `text` into lines no wider than `width`, keeping closing punctuation off the
    /// start of a line.
    fn lines(&self, text: &str, first_indent: f32, width: f32, style: Style) -> Vec<String> {
        let setter = self.setter(style.font);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut used = first_indent;
        for c in text.chars() {
            let w = setter.advance(c, style.size);
            if used + w > width + 0.5 && !line.is_empty() && !never_starts(c) {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(c);
            used += w;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Sets a paragraph on the grid, its first line indented by `indent` characters.
    fn paragraph(&mut self, text: &str, indent: f32, style: Style) -> Result<(), PdfError> {
        let lines = self.lines(text, indent * CELL, AREA_W, style);
        for (i, line) in lines.iter().enumerate() {
            self.need(1.0);
            let x = if i == 0 { indent * CELL } else { 0.0 };
            self.draw(x, line, style)?;
            self.advance_lines(1.0);
        }
        Ok(())
    }

    /// A horizontal line across the text area, `below` points under the current line's top.
    fn rule(&mut self, below: f32, thickness: f32, red: bool) {
        let y = PAGE_H - TOP - self.y - below;
        let content = self.page();
        content.save_state();
        if red {
            content.set_stroke_rgb(RED.0, RED.1, RED.2);
        }
        content.set_line_width(thickness);
        content.move_to(LEFT, y);
        content.line_to(LEFT + AREA_W, y);
        content.stroke();
        content.restore_state();
    }

    /// The round seal, centred at (`cx`, `cy`) in page coordinates: a red ring, a five-pointed
    /// star and the organ's name along the upper rim, laid over the text in multiply so the
    /// text beneath stays legible.
    fn seal(&mut self, cx: f32, cy: f32, text: &str) -> Result<(), PdfError> {
        let r = SEAL / 2.0;
        let chars: Vec<char> = text.chars().collect();
        let size = (r * 0.3).min(7.0 * MM);
        let mut glyphs = Vec::with_capacity(chars.len());
        for c in &chars {
            glyphs.push((*c, self.song.encode(&c.to_string())?));
        }
        let content = self.page();
        content.save_state();
        content.set_parameters(Name(b"Seal"));
        content.set_fill_rgb(RED.0, RED.1, RED.2);
        content.set_stroke_rgb(RED.0, RED.1, RED.2);
        // The ring, as four Bézier arcs.
        let k = 0.552_284_8 * (r - 0.6 * MM);
        let rr = r - 0.6 * MM;
        content.set_line_width(1.2 * MM);
        content.move_to(cx + rr, cy);
        content.cubic_to(cx + rr, cy + k, cx + k, cy + rr, cx, cy + rr);
        content.cubic_to(cx - k, cy + rr, cx - rr, cy + k, cx - rr, cy);
        content.cubic_to(cx - rr, cy - k, cx - k, cy - rr, cx, cy - rr);
        content.cubic_to(cx + k, cy - rr, cx + rr, cy - k, cx + rr, cy);
        content.close_path();
        content.stroke();
        // The star.
        let (outer, inner) = (r * 0.3, r * 0.3 * 0.382);
        for i in 0..10 {
            let radius = if i % 2 == 0 { outer } else { inner };
            let angle = std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
            let (x, y) = (cx + radius * angle.cos(), cy + radius * angle.sin());
            if i == 0 {
                content.move_to(x, y);
            } else {
                content.line_to(x, y);
            }
        }
        content.close_path();
        content.fill_nonzero();
        // The name along the rim, from lower left over the top to lower right.
        let n = chars.len().max(1) as f32;
        let span = (n * 0.4).clamp(1.2, 4.2);
        let start = std::f32::consts::FRAC_PI_2 + span / 2.0;
        let step = if n > 1.0 { span / (n - 1.0) } else { 0.0 };
        let baseline_radius = r - 2.4 * MM - size * 0.8;
        for (i, (_, encoded)) in glyphs.iter().enumerate() {
            let a = start - step * i as f32;
            let phi = a - std::f32::consts::FRAC_PI_2;
            let (cos, sin) = (phi.cos(), phi.sin());
            let (px, py) = (
                cx + baseline_radius * a.cos(),
                cy + baseline_radius * a.sin(),
            );
            let half = size / 2.0;
            content.begin_text();
            content.set_font(Font::Song.name(), size);
            content.set_text_matrix([cos, sin, -sin, cos, px - half * cos, py - half * sin]);
            content.show(Str(encoded));
            content.end_text();
        }
        content.restore_state();
        Ok(())
    }
}

/// Lays `sheet` out and writes the PDF, with room for a signature when `slot` is given.
pub fn render(
    sheet: &Sheet,
    faces: &Faces<'_>,
    slot: Option<&SignatureSlot>,
) -> Result<Vec<u8>, PdfError> {
    let mut layout = Layout {
        song: Setter::new(&faces.song, "宋体")?,
        kai: Setter::new(&faces.kai, "楷体")?,
        pages: Vec::new(),
        y: 0.0,
    };
    layout.new_page();
    set_sheet(&mut layout, sheet)?;
    write(layout, sheet, slot)
}

fn set_sheet(layout: &mut Layout<'_>, sheet: &Sheet) -> Result<(), PdfError> {
    let black_heading = Style {
        size: BODY,
        ..PLAIN
    };
    // 份号, 密级, 紧急程度: the first lines, top left.
    for element in [&sheet.copy, &sheet.secrecy, &sheet.urgency]
        .into_iter()
        .flatten()
    {
        layout.draw(0.0, element, black_heading)?;
        layout.advance_lines(1.0);
    }
    // 发文机关标志: its top 35 mm under the text area's top (80 mm on an upward document, for
    // the leader's notes), centred, red; as wide as the area allows, up to 15 mm a character.
    let upward = sheet.signer.is_some();
    let mark_top = if upward { 80.0 * MM } else { 35.0 * MM };
    layout.y = layout.y.max(mark_top);
    let n = sheet.mark.chars().count().max(1) as f32;
    let size = (AREA_W / n).min(15.0 * MM);
    let mark = Style {
        size,
        red: true,
        bold: true,
        stretch: 1.35,
        ..PLAIN
    };
    let width = layout.song.width(&sheet.mark, size);
    let top = PAGE_H - TOP - layout.y;
    let baseline = top - size * 0.88 * mark.stretch;
    layout.draw_at(LEFT + (AREA_W - width) / 2.0, baseline, &sheet.mark, mark)?;
    layout.y += size * mark.stretch + 2.0 * LINE;
    // 发文字号 two lines under the mark: centred, or on an upward document left with the
    // 签发人 right, each one character in.
    if let Some(number) = &sheet.number {
        match &sheet.signer {
            Some(signer) => {
                layout.draw(CELL, number, PLAIN)?;
                let name_w = layout.kai.width(signer, BODY);
                let label = "签发人：";
                let label_w = layout.song.width(label, BODY);
                layout.draw(AREA_W - CELL - name_w - label_w, label, PLAIN)?;
                layout.right(
                    signer,
                    CELL,
                    Style {
                        font: Font::Kai,
                        ..PLAIN
                    },
                )?;
            }
            None => layout.centred(number, PLAIN)?,
        }
    }
    // The red line 4 mm under the number.
    layout.rule(LINE - (LINE - BODY) / 2.0 + 4.0 * MM, 0.5 * MM, true);
    layout.advance_lines(1.0);
    // The title two lines under the red line, in 2号, centred, broken into balanced lines.
    layout.advance_lines(2.0);
    let title = Style {
        size: TITLE,
        bold: true,
        ..PLAIN
    };
    for line in balanced(&layout.lines(&sheet.title, 0.0, AREA_W - 2.0 * CELL, title)) {
        layout.need(1.0);
        layout.centred(&line, title)?;
        layout.advance_lines(1.0);
    }
    // 主送机关 one line under the title.
    layout.advance_lines(1.0);
    if let Some(recipients) = &sheet.recipients {
        layout.paragraph(&format!("{recipients}："), 0.0, PLAIN)?;
    }
    // 正文.
    for paragraph in &sheet.body {
        layout.paragraph(paragraph, 2.0, PLAIN)?;
    }
    // 附件说明 one line under the body: `附件：1．…`, later names aligned under the first.
    if !sheet.attachments.is_empty() {
        layout.advance_lines(1.0);
        let many = sheet.attachments.len() > 1;
        for (i, name) in sheet.attachments.iter().enumerate() {
            let item = if many {
                format!("{}．{name}", i + 1)
            } else {
                name.clone()
            };
            let (indent, text) = if i == 0 {
                (2.0, format!("附件：{item}"))
            } else {
                (5.0, item)
            };
            for (j, line) in layout
                .lines(&text, indent * CELL, AREA_W, PLAIN)
                .iter()
                .enumerate()
            {
                layout.need(1.0);
                let x = if j == 0 {
                    indent * CELL
                } else {
                    indent * CELL + 3.0 * CELL
                };
                layout.draw(x, line, PLAIN)?;
                layout.advance_lines(1.0);
            }
        }
    }
    // 发文机关署名 and 成文日期: the date four characters from the right, the name centred over
    // it; the seal pressed over both, its top within a line of the text above.
    // The block takes two lines, three with the seal hanging below the date; a blank line
    // comes before it where the page has room for both, else it closes up rather than leave
    // the seal alone on a page.
    let sealed = sheet.seal.is_some();
    let block = if sealed { 3.0 } else { 2.0 };
    if layout.y + (1.0 + block) * LINE <= AREA_H + 0.5 {
        layout.advance_lines(1.0);
    }
    layout.need(block);
    let date_w = layout.song.width(&sheet.date, BODY);
    let date_x = AREA_W - 4.0 * CELL - date_w;
    let centre_x = date_x + date_w / 2.0;
    let organ_w = layout.song.width(&sheet.organ, BODY);
    let organ_top = layout.y;
    layout.draw(centre_x - organ_w / 2.0, &sheet.organ, PLAIN)?;
    layout.advance_lines(1.0);
    layout.draw(date_x, &sheet.date, PLAIN)?;
    layout.advance_lines(1.0);
    if let Some(seal) = &sheet.seal {
        // The name and date sit a little below the seal's centre.
        let cy = PAGE_H - TOP - organ_top - LINE * 0.8;
        layout.seal(LEFT + centre_x, cy, seal)?;
    }
    // 版记 at the foot of the last page: 抄送 and the printing line between rules.
    let closing_lines = if sheet.copied_to.is_some() { 2.0 } else { 1.0 };
    layout.need(closing_lines + if sealed { 1.0 } else { 0.5 });
    layout.y = AREA_H - closing_lines * LINE;
    let small = Style {
        size: SMALL,
        ..PLAIN
    };
    layout.rule(0.0, 0.35 * MM, false);
    if let Some(copied) = &sheet.copied_to {
        layout.draw(CELL, &format!("抄送：{copied}。"), small)?;
        layout.y += LINE;
        layout.rule(0.0, 0.25 * MM, false);
    }
    layout.draw(CELL, &sheet.printed_by, small)?;
    layout.right(&format!("{}印发", sheet.printed_on), CELL, small)?;
    layout.y += LINE;
    layout.rule(0.0, 0.35 * MM, false);
    Ok(())
}

/// The same lines, evened out: a title of two lines reads as two halves, not a full line and
/// a stub (回行时排列对称).
fn balanced(lines: &[String]) -> Vec<String> {
    let chars: Vec<char> = lines.iter().flat_map(|l| l.chars()).collect();
    let per = chars.len().div_ceil(lines.len().max(1)).max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for c in chars {
        if line.chars().count() >= per && !never_starts(c) {
            out.push(std::mem::take(&mut line));
        }
        line.push(c);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Page numbers, fonts, the signature slot and the file.
fn write(
    mut layout: Layout<'_>,
    sheet: &Sheet,
    slot: Option<&SignatureSlot>,
) -> Result<Vec<u8>, PdfError> {
    // `— n —` 7 mm under the text area, one character in from the right (odd) or left (even).
    let count = layout.pages.len();
    for i in 0..count {
        let text = format!("— {} —", i + 1);
        let w = layout.song.width(&text, SMALL);
        let x = if i % 2 == 0 {
            LEFT + AREA_W - CELL - w
        } else {
            LEFT + CELL
        };
        let baseline = PAGE_H - TOP - AREA_H - 7.0 * MM - SMALL * 0.8;
        let encoded = layout.song.encode(&text)?;
        let content = &mut layout.pages[i].content;
        content
            .begin_text()
            .set_font(Font::Song.name(), SMALL)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, baseline])
            .show(Str(&encoded))
            .end_text();
    }

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let seal_state_id = alloc();
    let page_ids: Vec<(Ref, Ref)> = (0..count).map(|_| (alloc(), alloc())).collect();
    let fonts = [(Font::Song, alloc()), (Font::Kai, alloc())];
    let font_parts: Vec<[Ref; 5]> = fonts
        .iter()
        .map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()])
        .collect();
    let slot_ids = slot.map(|_| (alloc(), alloc()));

    let mut pdf = Pdf::new();
    {
        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(tree_id);
        if let Some((field, _)) = slot_ids {
            let mut form = catalog.insert(Name(b"AcroForm")).dict();
            form.insert(Name(b"Fields")).array().item(field);
            // SignaturesExist | AppendOnly.
            form.pair(Name(b"SigFlags"), 3);
        }
    }
    pdf.document_info(info_id)
        .title(TextStr(&sheet.title))
        .author(TextStr(&sheet.organ))
        .producer(TextStr("tongban"));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(count as i32);
    pdf.ext_graphics(seal_state_id)
        .blend_mode(BlendMode::Multiply)
        .non_stroking_alpha(0.9)
        .stroking_alpha(0.9);
    for (i, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree_id)
            .contents(*content_id);
        if i == 0
            && let Some((field, _)) = slot_ids
        {
            page.annotations([field]);
        }
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (font, id) in &fonts {
            font_dict.pair(font.name(), *id);
        }
        font_dict.finish();
        resources.ext_g_states().pair(Name(b"Seal"), seal_state_id);
    }
    let pages = std::mem::take(&mut layout.pages);
    for ((_, content_id), page) in page_ids.iter().zip(pages) {
        let data = page.content.finish();
        let compressed = compress(&data);
        pdf.stream(*content_id, &compressed)
            .filter(Filter::FlateDecode);
    }
    for ((font, id), parts) in fonts.iter().zip(&font_parts) {
        let setter = match font {
            Font::Song => &layout.song,
            Font::Kai => &layout.kai,
        };
        embed(&mut pdf, *id, *parts, setter, *font)?;
    }
    if let (Some(slot), Some((field, sig))) = (slot, slot_ids) {
        let mut widget = pdf.indirect(field).dict();
        widget.pair(Name(b"Type"), Name(b"Annot"));
        widget.pair(Name(b"Subtype"), Name(b"Widget"));
        widget.pair(Name(b"FT"), Name(b"Sig"));
        widget.pair(Name(b"T"), TextStr("用印"));
        widget.pair(Name(b"F"), 132);
        widget.pair(Name(b"Rect"), Rect::new(0.0, 0.0, 0.0, 0.0));
        widget.pair(Name(b"P"), page_ids[0].0);
        widget.pair(Name(b"V"), sig);
        widget.finish();
        let mut dict = pdf.indirect(sig).dict();
        dict.pair(Name(b"Type"), Name(b"Sig"));
        dict.pair(Name(b"Filter"), Name(b"Adobe.PPKLite"));
        dict.pair(Name(b"SubFilter"), Name(b"ETSI.CAdES.detached"));
        dict.pair(Name(b"Name"), TextStr(&slot.name));
        dict.pair(Name(b"M"), Str(slot.time.as_bytes()));
        dict.pair(Name(b"Reason"), TextStr("用印"));
        dict.insert(Name(b"ByteRange"))
            .array()
            .items(BYTE_RANGE_PLACEHOLDER);
        dict.pair(Name(b"Contents"), Str(&vec![b'0'; slot.contents_len]));
        dict.finish();
    }
    Ok(pdf.finish())
}

/// Embeds the glyphs `setter` used as a CID-keyed Type 0 font (`Identity-H`).
fn embed(
    pdf: &mut Pdf,
    id: Ref,
    [cid_id, descriptor_id, file_id, cmap_id, map_id]: [Ref; 5],
    setter: &Setter<'_>,
    font: Font,
) -> Result<(), PdfError> {
    let which = if font == Font::Song {
        "宋体"
    } else {
        "楷体"
    };
    // Glyph ids keep their values (the content streams use them); the subset only drops
    // the outlines not used.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut order = Vec::new();
    for glyph in setter.used.keys() {
        order.push((*glyph, remapper.remap(*glyph)));
    }
    let subset = subsetter::subset(setter.data, setter.index, &remapper)
        .map_err(|_| PdfError::Font(which))?;
    let base = match font {
        Font::Song => Name(b"TBSONG+ARPLUMing"),
        Font::Kai => Name(b"TBKAII+ARPLUKai"),
    };
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    // The content streams carry the face's own glyph ids; the subset renumbers them, so a
    // CIDToGIDMap maps each old id (the CID) to its new one.
    let max = order.iter().map(|(old, _)| *old).max().unwrap_or(0);
    let mut map = vec![0u8; (usize::from(max) + 1) * 2];
    for (old, new) in &order {
        let at = usize::from(*old) * 2;
        map[at..at + 2].copy_from_slice(&new.to_be_bytes());
    }
    {
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system)
            .font_descriptor(descriptor_id)
            .default_width(1000.0)
            .cid_to_gid_map_stream(map_id);
        let mut widths = cid.widths();
        for (old, _) in &order {
            let advance = setter
                .face
                .glyph_hor_advance(ttf_parser::GlyphId(*old))
                .map_or(1000.0, |a| f32::from(a) / setter.units * 1000.0);
            widths.consecutive(*old, [advance]);
        }
    }
    let bbox = setter.face.global_bounding_box();
    let scale = 1000.0 / setter.units;
    pdf.font_descriptor(descriptor_id)
        .name(base)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(setter.face.ascender()) * scale)
        .descent(f32::from(setter.face.descender()) * scale)
        .cap_height(f32::from(setter.face.capital_height().unwrap_or(700)) * scale)
        .stem_v(80.0)
        .font_file2(file_id);
    let compressed = compress(&subset);
    pdf.stream(file_id, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);
    let compressed_map = compress(&map);
    pdf.stream(map_id, &compressed_map)
        .filter(Filter::FlateDecode);
    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system);
    for (glyph, c) in &setter.used {
        cmap.pair(*glyph, *c);
    }
    let cmap = cmap.finish();
    pdf.cmap(cmap_id, cmap.as_slice());
    Ok(())
}

fn compress(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The index of the face in a font collection whose family name ends in `suffix` (`CN` picks
/// the simplified-Chinese faces of AR PL UMing and UKai); 0 when none does or the file holds
/// one face.
pub fn face_index(data: &[u8], suffix: &str) -> u32 {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    (0..count)
        .find(|i| {
            ttf_parser::Face::parse(data, *i).is_ok_and(|face| {
                face.names().into_iter().any(|name| {
                    name.name_id == ttf_parser::name_id::FAMILY
                        && name.to_string().is_some_and(|n| n.ends_with(suffix))
                })
            })
        })
        .unwrap_or(0)
}
