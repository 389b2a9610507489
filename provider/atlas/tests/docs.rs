//! The registry documentation under `docs/`, rendered from the schema the provider binary
//! answers with over `GetProviderSchema` and the HCL under `examples/`.
//!
//! `docs/index.md`, `docs/resources/<name>.md` and `docs/data-sources/<name>.md` follow the
//! layout and frontmatter the Terraform registry reads. The test fails when a page differs
//! from what the schema and the examples give, names the pages, and says how to regenerate
//! them: `make docs`, which runs this test with `ATLAS_WRITE_DOCS=1` so it writes the pages
//! (and removes the pages of resources the provider no longer has) instead of comparing.

// Each test binary uses a part of the shared helpers.
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use atlas_acceptance::repo_root;
use common::Plugin;
use serde_json::Value as Json;
use tfplugin::proto::tfplugin6 as pb;

/// The variable that turns the comparison into a rewrite of `docs/`.
const WRITE_VAR: &str = "ATLAS_WRITE_DOCS";

/// The provider's name as the registry shows it.
const PROVIDER: &str = "atlas";

#[tokio::test]
async fn docs_match_the_schema_and_the_examples() {
    let root = repo_root();
    let plugin = Plugin::start();
    let mut client = plugin.provider().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema answers")
        .into_inner();
    assert!(
        schema.diagnostics.is_empty(),
        "GetProviderSchema: {:#?}",
        schema.diagnostics
    );
    assert!(
        schema.functions.is_empty() && schema.ephemeral_resource_schemas.is_empty(),
        "the provider has functions or ephemeral resources, which this generator does not \
         document yet: teach provider/atlas/tests/docs.rs their pages"
    );

    let pages = render_all(&root, &schema).unwrap_or_else(|missing| panic!("{missing}"));

    if std::env::var_os(WRITE_VAR).is_some() {
        write_pages(&root, &pages);
        return;
    }
    let problems = compare_pages(&root, &pages);
    assert!(
        problems.is_empty(),
        "docs/ does not match the provider's schema and examples/:\n  {}\n\
         Regenerate it with `make docs` (or `{WRITE_VAR}=1 cargo test -p \
         terraform-provider-atlas --test docs`) and commit the result.",
        problems.join("\n  ")
    );
}

/// What a page documents, which decides its folder, title and example file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Provider,
    Resource,
    DataSource,
}

impl Kind {
    /// The page's path under `docs/`.
    fn page(self, name: &str) -> String {
        match self {
            Kind::Provider => "index.md".to_owned(),
            Kind::Resource => format!("resources/{}.md", short_name(name)),
            Kind::DataSource => format!("data-sources/{}.md", short_name(name)),
        }
    }

    /// The example's path under `examples/`, in the layout the registry tools use.
    fn example(self, name: &str) -> String {
        match self {
            Kind::Provider => "provider/provider.tf".to_owned(),
            Kind::Resource => format!("resources/{name}/resource.tf"),
            Kind::DataSource => format!("data-sources/{name}/data-source.tf"),
        }
    }

    fn title(self, name: &str) -> String {
        match self {
            Kind::Provider => format!("{PROVIDER} Provider"),
            Kind::Resource => format!("{name} Resource - {PROVIDER}"),
            Kind::DataSource => format!("{name} Data Source - {PROVIDER}"),
        }
    }

    fn heading(self, name: &str) -> String {
        match self {
            Kind::Provider => format!("{PROVIDER} Provider"),
            Kind::Resource => format!("{name} (Resource)"),
            Kind::DataSource => format!("{name} (Data Source)"),
        }
    }
}

/// The registry names pages after the type without the provider's prefix.
fn short_name(name: &str) -> &str {
    name.strip_prefix(PROVIDER)
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(name)
}

/// Every page, by its path under `docs/`; or one message listing every missing example.
fn render_all(
    root: &Path,
    schema: &pb::get_provider_schema::Response,
) -> Result<BTreeMap<String, String>, String> {
    let mut entries = vec![(
        Kind::Provider,
        PROVIDER.to_owned(),
        schema.provider.as_ref(),
    )];
    for (name, s) in &schema.resource_schemas {
        entries.push((Kind::Resource, name.clone(), Some(s)));
    }
    for (name, s) in &schema.data_source_schemas {
        entries.push((Kind::DataSource, name.clone(), Some(s)));
    }

    let mut pages = BTreeMap::new();
    let mut missing = Vec::new();
    for (kind, name, s) in entries {
        let block = s
            .and_then(|s| s.block.as_ref())
            .unwrap_or_else(|| panic!("the schema of {name} has no block"));
        let example_path = root.join("examples").join(kind.example(&name));
        let Ok(example) = fs::read_to_string(&example_path) else {
            missing.push(format!("examples/{}", kind.example(&name)));
            continue;
        };
        let import = (kind == Kind::Resource)
            .then(|| fs::read_to_string(root.join(format!("examples/resources/{name}/import.sh"))))
            .and_then(Result::ok);
        let page = render_page(kind, &name, block, &example, import.as_deref());
        pages.insert(kind.page(&name), page);
    }
    if missing.is_empty() {
        Ok(pages)
    } else {
        Err(format!(
            "every page needs its example HCL, and these are missing:\n  {}",
            missing.join("\n  ")
        ))
    }
}

/// One page: frontmatter, description, example, schema, and import for a resource.
fn render_page(
    kind: Kind,
    name: &str,
    block: &pb::schema::Block,
    example: &str,
    import: Option<&str>,
) -> String {
    let description = block.description.trim();
    let mut page = String::new();
    page.push_str("---\n");
    let _ = writeln!(page, "page_title: {:?}", kind.title(name));
    page.push_str("subcategory: \"\"\n");
    page.push_str("description: |-\n");
    for line in description.lines() {
        let _ = writeln!(page, "  {line}");
    }
    page.push_str("---\n\n");
    let _ = writeln!(page, "# {}\n", kind.heading(name));
    if !description.is_empty() {
        let _ = writeln!(page, "{description}\n");
    }
    if block.deprecated {
        let _ = writeln!(
            page,
            "~> **Deprecated:** this {} is deprecated.\n",
            kind_noun(kind)
        );
    }

    page.push_str("## Example Usage\n\n```terraform\n");
    page.push_str(example.trim_end());
    page.push_str("\n```\n\n");

    page.push_str("## Schema\n");
    let mut nested = Vec::new();
    render_block(&mut page, block, "", &mut nested);
    // Nested sections may add their own nested sections; render them in order of discovery.
    let mut i = 0;
    while i < nested.len() {
        let section = nested[i].clone();
        render_section(&mut page, &section, &mut nested);
        i += 1;
    }

    if let Some(import) = import {
        page.push_str("\n## Import\n\nImport is supported using the following syntax:\n\n");
        page.push_str("```shell\n");
        page.push_str(import.trim_end());
        page.push_str("\n```\n");
    }
    page
}

fn kind_noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Provider => "provider",
        Kind::Resource => "resource",
        Kind::DataSource => "data source",
    }
}

/// A part of the schema that gets a section of its own below the top-level listing.
#[derive(Debug, Clone)]
enum Section {
    /// A nested block, with its dotted path.
    Block(String, pb::schema::Block),
    /// Nested attributes, with their dotted path.
    Attributes(String, Vec<pb::schema::Attribute>),
    /// The attributes of an object type, with their dotted path.
    Object(String, serde_json::Map<String, Json>),
}

impl Section {
    fn path(&self) -> &str {
        match self {
            Section::Block(path, _) | Section::Attributes(path, _) | Section::Object(path, _) => {
                path
            }
        }
    }

    fn anchor(&self) -> String {
        let prefix = match self {
            Section::Block(..) => "nestedblock",
            Section::Attributes(..) => "nestedatt",
            Section::Object(..) => "nestedobjatt",
        };
        format!("{prefix}--{}", self.path().replace('.', "--"))
    }
}

fn render_section(page: &mut String, section: &Section, nested: &mut Vec<Section>) {
    let _ = writeln!(page, "\n<a id=\"{}\"></a>", section.anchor());
    let _ = writeln!(page, "### Nested Schema for `{}`", section.path());
    match section {
        Section::Block(path, block) => render_block(page, block, path, nested),
        Section::Attributes(path, attributes) => {
            render_attributes(page, attributes, &[], path, nested)
        }
        Section::Object(path, fields) => {
            page.push_str("\nRead-Only:\n\n");
            for (field, ty) in fields {
                let child = format!("{path}.{field}");
                let (text, section) = type_text(ty, &child);
                let _ = write!(page, "- `{field}` ({text})");
                if let Some(section) = section {
                    let _ = write!(
                        page,
                        " (see [below for nested schema](#{}))",
                        section.anchor()
                    );
                    nested.push(section);
                }
                page.push('\n');
            }
        }
    }
}

/// A block's attributes and nested blocks, grouped as Required, Optional and Read-Only.
fn render_block(
    page: &mut String,
    block: &pb::schema::Block,
    path: &str,
    nested: &mut Vec<Section>,
) {
    render_attributes(page, &block.attributes, &block.block_types, path, nested);
}

fn render_attributes(
    page: &mut String,
    attributes: &[pb::schema::Attribute],
    blocks: &[pb::schema::NestedBlock],
    path: &str,
    nested: &mut Vec<Section>,
) {
    let mut groups: [(&str, Vec<String>); 3] = [
        ("Required", Vec::new()),
        ("Optional", Vec::new()),
        ("Read-Only", Vec::new()),
    ];
    let mut sorted: Vec<&pb::schema::Attribute> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for attribute in sorted {
        let child = join(path, &attribute.name);
        let (text, section) = match &attribute.nested_type {
            Some(object) => {
                let section = Section::Attributes(child, object.attributes.clone());
                (nested_attributes_text(object), Some(section))
            }
            None => {
                let ty: Json = serde_json::from_slice(&attribute.r#type).unwrap_or_else(|e| {
                    panic!(
                        "attribute {} has a type that is not JSON: {e}",
                        attribute.name
                    )
                });
                type_text(&ty, &child)
            }
        };
        let mut flags = vec![text];
        if attribute.sensitive {
            flags.push("Sensitive".to_owned());
        }
        if attribute.write_only {
            flags.push("Write-only".to_owned());
        }
        if attribute.deprecated {
            flags.push("Deprecated".to_owned());
        }
        let line = item(
            &attribute.name,
            &flags,
            &attribute.description,
            section,
            nested,
        );
        let group = if attribute.required {
            0
        } else if attribute.optional {
            1
        } else {
            2
        };
        groups[group].1.push(line);
    }
    let mut sorted: Vec<&pb::schema::NestedBlock> = blocks.iter().collect();
    sorted.sort_by(|a, b| a.type_name.cmp(&b.type_name));
    for block in sorted {
        let inner = block
            .block
            .clone()
            .unwrap_or_else(|| panic!("nested block {} has no block", block.type_name));
        let description = inner.description.clone();
        let section = Section::Block(join(path, &block.type_name), inner);
        let line = item(
            &block.type_name,
            &[nested_block_text(block)],
            &description,
            Some(section),
            nested,
        );
        groups[if block.min_items > 0 { 0 } else { 1 }].1.push(line);
    }
    for (title, lines) in groups {
        if lines.is_empty() {
            continue;
        }
        if path.is_empty() {
            let _ = writeln!(page, "\n### {title}\n");
        } else {
            let _ = writeln!(page, "\n{title}:\n");
        }
        for line in lines {
            page.push_str(&line);
            page.push('\n');
        }
    }
}

/// One list item: name, type and flags, description, and a link to a nested section.
fn item(
    name: &str,
    flags: &[String],
    description: &str,
    section: Option<Section>,
    nested: &mut Vec<Section>,
) -> String {
    let mut line = format!("- `{name}` ({})", flags.join(", "));
    let description = description.trim();
    if !description.is_empty() {
        line.push(' ');
        // A list item holds one paragraph; later lines are indented to stay in it.
        line.push_str(&description.replace('\n', "\n  "));
    }
    if let Some(section) = section {
        let _ = write!(
            line,
            " (see [below for nested schema](#{}))",
            section.anchor()
        );
        nested.push(section);
    }
    line
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The type as the registry pages spell it, and a section for object attributes in it.
fn type_text(ty: &Json, path: &str) -> (String, Option<Section>) {
    match ty {
        Json::String(primitive) => (
            match primitive.as_str() {
                "string" => "String",
                "number" => "Number",
                "bool" => "Boolean",
                "dynamic" => "Dynamic",
                other => panic!("unknown primitive type {other:?} at {path}"),
            }
            .to_owned(),
            None,
        ),
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some(kind @ ("list" | "set" | "map")), Some(element)) => {
                let (inner, section) = type_text(element, path);
                let kind = match kind {
                    "list" => "List",
                    "set" => "Set",
                    _ => "Map",
                };
                (format!("{kind} of {inner}"), section)
            }
            (Some("object"), Some(Json::Object(fields))) => (
                "Object".to_owned(),
                Some(Section::Object(path.to_owned(), fields.clone())),
            ),
            (Some("tuple"), _) => ("Tuple".to_owned(), None),
            _ => panic!("unknown type {ty} at {path}"),
        },
        _ => panic!("unknown type {ty} at {path}"),
    }
}

fn nested_attributes_text(object: &pb::schema::Object) -> String {
    use pb::schema::object::NestingMode;

    match NestingMode::try_from(object.nesting) {
        Ok(NestingMode::Single) => "Attributes",
        Ok(NestingMode::List) => "Attributes List",
        Ok(NestingMode::Set) => "Attributes Set",
        Ok(NestingMode::Map) => "Attributes Map",
        other => panic!("nested attributes with nesting {other:?}"),
    }
    .to_owned()
}

fn nested_block_text(block: &pb::schema::NestedBlock) -> String {
    use pb::schema::nested_block::NestingMode;

    let mode = match NestingMode::try_from(block.nesting) {
        Ok(NestingMode::Single | NestingMode::Group) => return "Block".to_owned(),
        Ok(NestingMode::List) => "Block List",
        Ok(NestingMode::Set) => "Block Set",
        Ok(NestingMode::Map) => "Block Map",
        other => panic!("block {} has nesting {other:?}", block.type_name),
    };
    let mut text = mode.to_owned();
    if block.min_items > 0 {
        let _ = write!(text, ", Min: {}", block.min_items);
    }
    if block.max_items > 0 {
        let _ = write!(text, ", Max: {}", block.max_items);
    }
    text
}

/// The generated pages' folders, whose other `.md` files are stale.
const PAGE_DIRS: [&str; 2] = ["resources", "data-sources"];

/// Every difference between `docs/` and `pages`, one line each.
fn compare_pages(root: &Path, pages: &BTreeMap<String, String>) -> Vec<String> {
    let docs = root.join("docs");
    let mut problems = Vec::new();
    for (path, expected) in pages {
        match fs::read_to_string(docs.join(path)) {
            Err(_) => problems.push(format!("docs/{path} is missing")),
            Ok(actual) if actual != *expected => {
                let line = actual
                    .lines()
                    .zip(expected.lines())
                    .position(|(a, e)| a != e)
                    .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
                problems.push(format!(
                    "docs/{path} differs from line {}: expected {:?}",
                    line + 1,
                    expected.lines().nth(line).unwrap_or("<end of page>")
                ));
            }
            Ok(_) => {}
        }
    }
    for path in existing_pages(&docs) {
        if !pages.contains_key(&path) {
            problems.push(format!("docs/{path} documents nothing the provider has"));
        }
    }
    problems
}

/// The `.md` files in the generated folders of `docs/`, as paths under it.
fn existing_pages(docs: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for dir in PAGE_DIRS {
        let Ok(entries) = fs::read_dir(docs.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    found
}

fn write_pages(root: &Path, pages: &BTreeMap<String, String>) {
    let docs = root.join("docs");
    for path in existing_pages(&docs) {
        if !pages.contains_key(&path) {
            fs::remove_file(docs.join(&path)).expect("remove a stale page");
            eprintln!("removed docs/{path}");
        }
    }
    for (path, page) in pages {
        let target = docs.join(path);
        fs::create_dir_all(target.parent().expect("a page has a folder"))
            .expect("create the docs folders");
        fs::write(&target, page).unwrap_or_else(|e| panic!("write {}: {e}", target.display()));
        eprintln!("wrote docs/{path}");
    }
}
