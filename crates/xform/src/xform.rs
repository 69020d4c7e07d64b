//! A [`Form`] written as an ODK XForm: the main instance (a repeat with its template and one
//! instance), a secondary instance per choice list, a bind per node, and the body's controls —
//! in the shape pyxform gives the same form, so that ODK Collect and Enketo read it as they
//! read pyxform's.

use quick_xml::escape::escape;

use crate::{ENTITIES_NAMESPACE, ENTITIES_VERSION, Form, Kind, Node, ROOT};

const NAMESPACES: &str = r#"xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms""#;

/// The form as XForm XML.
pub fn write(form: &Form) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(r#"<?xml version="1.0"?>"#);
    let entities = form.entity.is_some();
    if entities {
        out.push_str(&format!(
            r#"<h:html {NAMESPACES} xmlns:entities="{ENTITIES_NAMESPACE}"><h:head><h:title>"#
        ));
    } else {
        out.push_str(&format!("<h:html {NAMESPACES}><h:head><h:title>"));
    }
    out.push_str(&escape(form.title.as_str()));
    out.push_str(r#"</h:title><model odk:xforms-version="1.0.0""#);
    if entities {
        out.push_str(&format!(
            r#" entities:entities-version="{ENTITIES_VERSION}""#
        ));
    }
    out.push_str("><instance>");
    out.push_str(&format!(r#"<{ROOT} id="{}""#, escape(form.id.as_str())));
    if let Some(version) = &form.version {
        out.push_str(&format!(r#" version="{}""#, escape(version.as_str())));
    }
    out.push('>');
    for node in &form.children {
        instance(node, &mut out);
    }
    out.push_str("<meta>");
    if let Some(entity) = &form.entity {
        out.push_str(&format!(
            r#"<entity dataset="{}" create="1" id=""><label/></entity>"#,
            escape(entity.dataset.as_str())
        ));
    }
    out.push_str("<instanceID/>");
    if form.instance_name.is_some() {
        out.push_str("<instanceName/>");
    }
    out.push_str(&format!("</meta></{ROOT}></instance>"));
    for file in form.files() {
        if let Some(list) = crate::file_list(file) {
            out.push_str(&format!(
                r#"<instance id="{0}" src="jr://file-csv/{0}.csv"/>"#,
                escape(list)
            ));
        }
    }
    for list in &form.choices {
        out.push_str(&format!(
            r#"<instance id="{}"><root>"#,
            escape(list.name.as_str())
        ));
        for choice in &list.choices {
            out.push_str(&format!(
                "<item><name>{}</name><label>{}</label></item>",
                escape(choice.name.as_str()),
                escape(choice.label.as_str())
            ));
        }
        out.push_str("</root></instance>");
    }
    let root = format!("/{ROOT}");
    for node in &form.children {
        binds(node, &root, &mut out);
    }
    if let Some(entity) = &form.entity {
        out.push_str(&format!(
            r#"<bind nodeset="/{ROOT}/meta/entity/@id" type="string" readonly="true()"/><setvalue ref="/{ROOT}/meta/entity/@id" event="odk-instance-first-load" value="uuid()"/>"#
        ));
        out.push_str(&format!(
            r#"<bind nodeset="/{ROOT}/meta/entity/label" type="string" readonly="true()" calculate="{}"/>"#,
            escape(entity.label.as_str())
        ));
    }
    out.push_str(&format!(
        r#"<bind nodeset="/{ROOT}/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>"#
    ));
    if let Some(name) = &form.instance_name {
        out.push_str(&format!(
            r#"<bind nodeset="/{ROOT}/meta/instanceName" type="string" calculate="{}"/>"#,
            escape(name.as_str())
        ));
    }
    out.push_str("</model></h:head><h:body>");
    for node in &form.children {
        body(node, &root, &mut out);
    }
    out.push_str("</h:body></h:html>");
    out
}

fn instance(node: &Node, out: &mut String) {
    let open_close = |out: &mut String, template: bool| {
        let attribute = if template { r#" jr:template="""# } else { "" };
        if node.children.is_empty() {
            match &node.default {
                Some(value) => out.push_str(&format!(
                    "<{0}{attribute}>{1}</{0}>",
                    node.name,
                    escape(value.as_str())
                )),
                None => out.push_str(&format!("<{}{attribute}/>", node.name)),
            }
        } else {
            out.push_str(&format!("<{}{attribute}>", node.name));
            for child in &node.children {
                instance(child, out);
            }
            out.push_str(&format!("</{}>", node.name));
        }
    };
    if node.kind == Kind::Repeat {
        open_close(out, true);
    }
    open_close(out, false);
}

fn binds(node: &Node, parent: &str, out: &mut String) {
    let path = format!("{parent}/{}", node.name);
    let mut attributes: Vec<(&str, String)> = Vec::new();
    if let Some(kind) = node.kind.xform_type() {
        attributes.push(("type", kind.to_owned()));
    }
    let text = |value: &Option<String>| value.clone();
    for (name, value) in [
        ("required", text(&node.required)),
        ("jr:requiredMsg", text(&node.required_message)),
        ("constraint", text(&node.constraint)),
        ("jr:constraintMsg", text(&node.constraint_message)),
        ("relevant", text(&node.relevant)),
        ("calculate", text(&node.calculation)),
        ("entities:saveto", text(&node.save_to)),
    ] {
        if let Some(value) = value {
            attributes.push((name, value));
        }
    }
    if node.read_only || node.kind == Kind::Note {
        attributes.push(("readonly", "true()".into()));
    }
    let preload = match node.kind {
        Kind::Start => Some(("timestamp", "start")),
        Kind::End => Some(("timestamp", "end")),
        Kind::Today => Some(("date", "today")),
        Kind::DeviceId => Some(("property", "deviceid")),
        _ => None,
    };
    if let Some((preload, parameter)) = preload {
        attributes.push(("jr:preload", preload.into()));
        attributes.push(("jr:preloadParams", parameter.into()));
    }
    if !attributes.is_empty() {
        out.push_str(&format!(r#"<bind nodeset="{path}""#));
        for (name, value) in attributes {
            out.push_str(&format!(r#" {name}="{}""#, escape(value.as_str())));
        }
        out.push_str("/>");
    }
    for child in &node.children {
        binds(child, &path, out);
    }
}

fn label_and_hint(node: &Node, out: &mut String) {
    if !node.label.is_empty() {
        out.push_str(&format!("<label>{}</label>", escape(node.label.as_str())));
    }
    if !node.hint.is_empty() {
        out.push_str(&format!("<hint>{}</hint>", escape(node.hint.as_str())));
    }
}

fn appearance(node: &Node) -> String {
    node.appearance
        .as_ref()
        .map(|a| format!(r#" appearance="{}""#, escape(a.as_str())))
        .unwrap_or_default()
}

fn body(node: &Node, parent: &str, out: &mut String) {
    let path = format!("{parent}/{}", node.name);
    let control = |out: &mut String, element: &str, extra: &str| {
        out.push_str(&format!(
            r#"<{element} ref="{path}"{}{extra}>"#,
            appearance(node)
        ));
        label_and_hint(node, out);
    };
    match &node.kind {
        Kind::Calculate | Kind::Start | Kind::End | Kind::Today | Kind::DeviceId => {}
        Kind::Group => {
            out.push_str(&format!(r#"<group{} ref="{path}">"#, appearance(node)));
            label_and_hint(node, out);
            for child in &node.children {
                body(child, &path, out);
            }
            out.push_str("</group>");
        }
        Kind::Repeat => {
            out.push_str(&format!(r#"<group ref="{path}">"#));
            label_and_hint(node, out);
            out.push_str(&format!(r#"<repeat{} nodeset="{path}">"#, appearance(node)));
            for child in &node.children {
                body(child, &path, out);
            }
            out.push_str("</repeat></group>");
        }
        Kind::SelectOneFromFile(file) => {
            control(out, "select1", "");
            out.push_str(&format!(
                r#"<itemset nodeset="instance('{}')/root/item"><value ref="name"/><label ref="label"/></itemset></select1>"#,
                escape(crate::file_list(file).unwrap_or(file))
            ));
        }
        Kind::SelectOne(list) | Kind::SelectMultiple(list) => {
            let element = if matches!(node.kind, Kind::SelectOne(_)) {
                "select1"
            } else {
                "select"
            };
            control(out, element, "");
            out.push_str(&format!(
                r#"<itemset nodeset="instance('{}')/root/item"><value ref="name"/><label ref="label"/></itemset></{element}>"#,
                escape(list.as_str())
            ));
        }
        Kind::Image => {
            control(out, "upload", r#" mediatype="image/*""#);
            out.push_str("</upload>");
        }
        Kind::File => {
            control(out, "upload", r#" mediatype="application/*""#);
            out.push_str("</upload>");
        }
        Kind::Text
        | Kind::Integer
        | Kind::Decimal
        | Kind::Date
        | Kind::Time
        | Kind::DateTime
        | Kind::Note
        | Kind::Geopoint => {
            control(out, "input", "");
            out.push_str("</input>");
        }
    }
}
