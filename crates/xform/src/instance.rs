//! A submitted instance: the XML a collector sends, as a tree of named elements with text.
//! Read with limits (elements, depth, text), so a hostile submission costs little and cannot
//! exhaust memory; DTDs and unknown entities are refused.

use std::fmt;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// An element of an instance.
pub type NodeId = usize;

/// The most elements an instance may have.
pub const MAX_ELEMENTS: usize = 20_000;
/// How deeply elements may nest.
pub const MAX_DEPTH: usize = 32;
/// The most characters of text one element may hold.
pub const MAX_TEXT: usize = 10_000;

#[derive(Debug, Clone)]
struct Element {
    name: String,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    attributes: Vec<(String, String)>,
    text: String,
}

/// A parsed instance; the root element is node 0.
#[derive(Debug, Clone)]
pub struct Instance {
    elements: Vec<Element>,
}

/// Why a submission's XML could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the XML cannot be read: {}", self.0)
    }
}

impl std::error::Error for XmlError {}

/// An element's name without its namespace prefix.
fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

impl Instance {
    /// Reads an instance document.
    pub fn parse(xml: &str) -> Result<Instance, XmlError> {
        let mut reader = Reader::from_str(xml);
        let mut elements: Vec<Element> = Vec::new();
        let mut open: Vec<NodeId> = Vec::new();
        let mut closed_root = false;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| XmlError(format!("{e} (at byte {})", reader.error_position())))?;
            let start = |e: &quick_xml::events::BytesStart<'_>,
                         elements: &mut Vec<Element>,
                         open: &[NodeId]|
             -> Result<NodeId, XmlError> {
                if closed_root || (open.is_empty() && !elements.is_empty()) {
                    return Err(XmlError("more than one root element".into()));
                }
                if elements.len() >= MAX_ELEMENTS {
                    return Err(XmlError(format!("more than {MAX_ELEMENTS} elements")));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError(format!("nested more than {MAX_DEPTH} deep")));
                }
                let mut attributes = Vec::new();
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(|e| XmlError(e.to_string()))?;
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| XmlError(e.to_string()))?;
                    attributes.push((local(attribute.key.as_ref()), value.into_owned()));
                }
                let id = elements.len();
                let parent = open.last().copied();
                elements.push(Element {
                    name: local(e.name().as_ref()),
                    parent,
                    children: Vec::new(),
                    attributes,
                    text: String::new(),
                });
                if let Some(parent) = parent {
                    elements[parent].children.push(id);
                }
                Ok(id)
            };
            match event {
                Event::Start(e) => {
                    let id = start(&e, &mut elements, &open)?;
                    open.push(id);
                }
                Event::Empty(e) => {
                    start(&e, &mut elements, &open)?;
                    if open.is_empty() {
                        closed_root = true;
                    }
                }
                Event::End(_) => {
                    open.pop();
                    if open.is_empty() {
                        closed_root = true;
                    }
                }
                Event::Text(text) => {
                    let content = text.xml10_content();
                    push_text(&mut elements, &open, &content)?;
                }
                Event::CData(text) => {
                    let content = text.xml10_content();
                    push_text(&mut elements, &open, &content)?;
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name = reference.xml10_content();
                            resolve_predefined_entity(&name)
                                .ok_or_else(|| XmlError(format!("the entity &{name}; is unknown")))?
                                .to_owned()
                        }
                        Err(e) => return Err(XmlError(e.to_string())),
                    };
                    push_text(&mut elements, &open, &resolved)?;
                }
                Event::DocType(_) => return Err(XmlError("a DTD is not accepted".into())),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !open.is_empty() {
            return Err(XmlError("the document ends inside an element".into()));
        }
        if elements.is_empty() {
            return Err(XmlError("there is no element".into()));
        }
        for element in &mut elements {
            // Whitespace between child elements is layout, not an answer.
            if !element.children.is_empty() && element.text.trim().is_empty() {
                element.text.clear();
            }
        }
        Ok(Instance { elements })
    }

    /// An instance of one root element, for building in tests and tools.
    pub fn new(root: &str) -> Instance {
        Instance {
            elements: vec![Element {
                name: root.to_owned(),
                parent: None,
                children: Vec::new(),
                attributes: Vec::new(),
                text: String::new(),
            }],
        }
    }

    /// Adds an element under `parent`.
    pub fn add(&mut self, parent: NodeId, name: &str, text: &str) -> NodeId {
        let id = self.elements.len();
        self.elements.push(Element {
            name: name.to_owned(),
            parent: Some(parent),
            children: Vec::new(),
            attributes: Vec::new(),
            text: text.to_owned(),
        });
        self.elements[parent].children.push(id);
        id
    }

    pub const ROOT: NodeId = 0;

    pub fn name(&self, node: NodeId) -> &str {
        self.elements.get(node).map_or("", |e| e.name.as_str())
    }

    /// The element's own text (answers are leaves; a group has none).
    pub fn text(&self, node: NodeId) -> &str {
        self.elements.get(node).map_or("", |e| e.text.as_str())
    }

    pub fn attribute(&self, node: NodeId, name: &str) -> Option<&str> {
        self.elements
            .get(node)?
            .attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.elements.get(node)?.parent
    }

    pub fn children(&self, node: NodeId) -> &[NodeId] {
        self.elements
            .get(node)
            .map_or(&[], |e| e.children.as_slice())
    }

    /// The children of `node` with that name, in document order.
    pub fn children_named<'a>(
        &'a self,
        node: NodeId,
        name: &'a str,
    ) -> impl Iterator<Item = NodeId> + 'a {
        self.children(node)
            .iter()
            .copied()
            .filter(move |c| self.name(*c) == name)
    }

    /// Whether `ancestor` is `node` or one of its ancestors.
    pub fn is_ancestor_or_self(&self, ancestor: NodeId, mut node: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.parent(node) {
                Some(p) => node = p,
                None => return false,
            }
        }
    }
}

fn push_text(elements: &mut [Element], open: &[NodeId], text: &str) -> Result<(), XmlError> {
    let Some(&at) = open.last() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(XmlError("text outside the root element".into()));
    };
    let element = &mut elements[at];
    if element.text.len() + text.len() > MAX_TEXT {
        return Err(XmlError(format!(
            "the element <{}> holds more than {MAX_TEXT} bytes of text",
            element.name
        )));
    }
    element.text.push_str(text);
    Ok(())
}
