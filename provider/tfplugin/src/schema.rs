//! Schemas: what a provider, resource or data source accepts and returns.
//!
//! A schema is declared once with small builders and carries everything the runtime needs
//! besides the wire form: defaults, plan behaviour and validators. Resources never build
//! protocol messages themselves.

use std::fmt;
use std::sync::Arc;

use crate::proto::tfplugin6 as pb;
use crate::validate::Validator;
use crate::value::{Type, Value};

/// The schema of a provider, resource or data source.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The version of the state layout; bump it and add an upgrader when it changes.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Set when the whole block is deprecated.
    pub deprecated: bool,
}

/// Decides whether a change from the first value (prior) to the second (planned)
/// replaces the object.
pub type ReplaceIf = fn(&Value, &Value) -> bool;

/// How an attribute behaves when Terraform plans a change.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanBehaviour {
    /// A change of this attribute replaces the object.
    pub requires_replace: bool,
    /// A change replaces the object when this returns true.
    pub replace_if: Option<ReplaceIf>,
    /// A computed value that is unknown in the plan keeps its prior value.
    pub use_state_for_unknown: bool,
}

/// How the elements of a nested attribute or block are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// One object, null when absent.
    Single,
    /// One object that is never null.
    Group,
    /// An ordered list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects keyed by label.
    Map,
}

/// One attribute.
#[derive(Clone)]
pub struct Attribute {
    /// The attribute name (`[a-z0-9_]+`).
    pub name: String,
    /// The value type, unless the attribute is nested.
    pub ty: Type,
    /// Nested attributes, for a nested attribute.
    pub nested: Option<(Nesting, Vec<Attribute>)>,
    /// Markdown description.
    pub description: String,
    /// The user must set it.
    pub required: bool,
    /// The user may set it.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in plans and output.
    pub sensitive: bool,
    /// Never stored in plan or state (protocol 6.8).
    pub write_only: bool,
    /// A deprecation message, if deprecated.
    pub deprecated: Option<String>,
    /// The value used when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// Plan behaviour.
    pub plan: PlanBehaviour,
    /// Validators run at validate time on known, non-null values.
    pub validators: Vec<Arc<dyn Validator>>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_owned(),
            ty,
            nested: None,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: None,
            default: None,
            plan: PlanBehaviour::default(),
            validators: Vec::new(),
        }
    }

    /// An attribute the user must set.
    pub fn required(name: &str, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Self::new(name, ty)
        }
    }

    /// An attribute the user may set.
    pub fn optional(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Self::new(name, ty)
        }
    }

    /// An attribute the user may set, else the provider does.
    pub fn optional_computed(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Self::new(name, ty)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &str, ty: Type) -> Self {
        Attribute {
            computed: true,
            ..Self::new(name, ty)
        }
    }

    /// A nested attribute (`nested_type` on the wire).
    pub fn nested(mut self, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        let object = Type::Object(
            attributes
                .iter()
                .map(|a| (a.name.clone(), a.value_type()))
                .collect(),
        );
        self.ty = match nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::List(Box::new(object)),
            Nesting::Set => Type::Set(Box::new(object)),
            Nesting::Map => Type::Map(Box::new(object)),
        };
        self.nested = Some((nesting, attributes));
        self
    }

    /// Sets the Markdown description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }

    /// Marks the attribute sensitive.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute write-only.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Marks the attribute deprecated with a message saying what to use instead.
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecated = Some(message.to_owned());
        self
    }

    /// Sets the default used when the configuration is null; makes it optional and computed.
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional = true;
        self.computed = true;
        self.required = false;
        self
    }

    /// A change of this attribute replaces the object.
    pub fn requires_replace(mut self) -> Self {
        self.plan.requires_replace = true;
        self
    }

    /// A change of this attribute replaces the object when `decide(prior, planned)` is
    /// true; other changes update it in place.
    pub fn requires_replace_if(mut self, decide: ReplaceIf) -> Self {
        self.plan.replace_if = Some(decide);
        self
    }

    /// Keeps the prior value of a computed attribute instead of planning it unknown.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan.use_state_for_unknown = true;
        self
    }

    /// Adds a validator.
    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// The cty type of the attribute's value.
    pub fn value_type(&self) -> Type {
        self.ty.clone()
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.nested {
            Some((nesting, attrs)) => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attrs.iter().map(Attribute::to_proto).collect(),
                    nesting: object_nesting(*nesting) as i32,
                    ..Default::default()
                }),
            ),
            None => (self.ty.to_json(), None),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated.is_some(),
            write_only: self.write_only,
        }
    }
}

fn object_nesting(nesting: Nesting) -> pb::schema::object::NestingMode {
    use pb::schema::object::NestingMode as M;
    match nesting {
        Nesting::Single | Nesting::Group => M::Single,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
    }
}

/// A nested block.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block type name.
    pub name: String,
    /// How its instances are collected.
    pub nesting: Nesting,
    /// Its content.
    pub block: Block,
    /// The fewest instances allowed (list and set only).
    pub min_items: i64,
    /// The most instances allowed (list and set only; 0 means no limit).
    pub max_items: i64,
}

impl NestedBlock {
    /// A block that appears at most once.
    pub fn single(name: &str, block: Block) -> Self {
        NestedBlock {
            name: name.to_owned(),
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    /// A block that may repeat.
    pub fn list(name: &str, block: Block, min_items: i64, max_items: i64) -> Self {
        NestedBlock {
            name: name.to_owned(),
            nesting: Nesting::List,
            block,
            min_items,
            max_items,
        }
    }

    /// The cty type of the block's value.
    pub fn value_type(&self) -> Type {
        let object = self.block.value_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::List(Box::new(object)),
            Nesting::Set => Type::Set(Box::new(object)),
            Nesting::Map => Type::Map(Box::new(object)),
        }
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode as M;
        let nesting = match self.nesting {
            Nesting::Single => M::Single,
            Nesting::Group => M::Group,
            Nesting::List => M::List,
            Nesting::Set => M::Set,
            Nesting::Map => M::Map,
        };
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(self.block.to_proto(0)),
            nesting: nesting as i32,
            min_items: self.min_items,
            max_items: self.max_items,
        }
    }
}

impl Block {
    /// A block with these attributes.
    pub fn new(attributes: Vec<Attribute>) -> Self {
        Block {
            attributes,
            ..Default::default()
        }
    }

    /// Adds a nested block.
    pub fn with_block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Sets the Markdown description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }

    /// The cty object type of the block's value.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.value_type()))
                .chain(self.blocks.iter().map(|b| (b.name.clone(), b.value_type())))
                .collect(),
        )
    }

    /// The attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block with this name.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
        }
    }
}

impl Schema {
    /// A schema at version 0 for this block.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    /// Sets the state version.
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The cty type of a whole object of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    /// The wire form.
    pub(crate) fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}
