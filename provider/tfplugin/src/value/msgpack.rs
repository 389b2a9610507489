//! The msgpack form of values (`DynamicValue.msgpack`), byte for byte as go-cty writes it.

use std::collections::BTreeMap;
use std::convert::Infallible;

use rmp::encode::{self, ByteBuf, ValueWriteError};
use rmp::Marker;

use super::number::WireNumber;
use super::{
    dedup_set, distinct, type_required, Number, PathStep, Refinements, Type, Value, ValueError,
    MAX_VALUE_DEPTH,
};

/// The extension type of an unknown value that carries refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;

/// go-cty refuses larger refinement payloads as a likely attempt to exhaust memory.
const MAX_REFINEMENTS_LEN: usize = 1024;

/// go-cty cuts string prefixes to this many bytes so refinements stay well under the limit.
const MAX_PREFIX_LEN: usize = 256;

/// An unknown value without refinements: fixext1 of type 0 with a zero byte.
const UNKNOWN: [u8; 3] = [0xd4, 0, 0];

// Refinement map keys.
const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_LOWER: i64 = 3;
const KEY_NUMBER_UPPER: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

impl Value {
    /// Decodes a `DynamicValue.msgpack` payload of type `ty`; empty input is null.
    ///
    /// Errors name the attribute where decoding failed.
    pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        let mut reader = Reader {
            bytes,
            pos: 0,
            path: Vec::new(),
            depth: 0,
        };
        let value = reader.value(ty)?;
        let trailing = bytes.len() - reader.pos;
        if trailing > 0 {
            return Err(reader.error(format!(
                "malformed msgpack: {trailing} bytes after the value"
            )));
        }
        Ok(value)
    }

    /// Encodes this value as type `ty`, exactly as Terraform would.
    ///
    /// Fails, naming the attribute, when the value does not conform to the type.
    pub fn encode_msgpack(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        let mut writer = Writer {
            buf: ByteBuf::new(),
            path: Vec::new(),
        };
        writer.value(self, ty)?;
        Ok(writer.buf.into_vec())
    }
}

/// The head of one msgpack item; containers report their length and leave their contents
/// to be read next.
enum Head<'a> {
    Nil,
    Bool(bool),
    /// Every integer within `i64`, whichever encoding carried it.
    Int(i64),
    /// Unsigned integers beyond `i64`.
    BigUint(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(u32),
    Map(u32),
    Ext(i8, &'a [u8]),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: Vec<PathStep>,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, message: impl Into<String>) -> ValueError {
        ValueError::new(&self.path, message)
    }

    fn truncated(&self) -> ValueError {
        self.error("malformed msgpack: unexpected end of input")
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ValueError> {
        let bytes = self
            .pos
            .checked_add(len)
            .and_then(|end| self.bytes.get(self.pos..end));
        let bytes = bytes.ok_or_else(|| self.truncated())?;
        self.pos += len;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ValueError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ValueError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, ValueError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, ValueError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn len8(&mut self) -> Result<usize, ValueError> {
        Ok(usize::from(self.u8()?))
    }

    fn len16(&mut self) -> Result<usize, ValueError> {
        Ok(usize::from(self.u16()?))
    }

    fn len32(&mut self) -> Result<usize, ValueError> {
        usize::try_from(self.u32()?).map_err(|_| self.error("malformed msgpack: length too large"))
    }

    fn ext(&mut self, len: usize) -> Result<Head<'a>, ValueError> {
        let code = i8::from_be_bytes(self.array()?);
        Ok(Head::Ext(code, self.take(len)?))
    }

    fn head(&mut self) -> Result<Head<'a>, ValueError> {
        let byte = self.u8()?;
        let head = match Marker::from_u8(byte) {
            Marker::Null => Head::Nil,
            Marker::True => Head::Bool(true),
            Marker::False => Head::Bool(false),
            Marker::FixPos(n) => Head::Int(i64::from(n)),
            Marker::FixNeg(n) => Head::Int(i64::from(n)),
            Marker::U8 => Head::Int(i64::from(self.u8()?)),
            Marker::U16 => Head::Int(i64::from(self.u16()?)),
            Marker::U32 => Head::Int(i64::from(self.u32()?)),
            Marker::U64 => {
                let n = u64::from_be_bytes(self.array()?);
                i64::try_from(n).map_or(Head::BigUint(n), Head::Int)
            }
            Marker::I8 => Head::Int(i64::from(i8::from_be_bytes(self.array()?))),
            Marker::I16 => Head::Int(i64::from(i16::from_be_bytes(self.array()?))),
            Marker::I32 => Head::Int(i64::from(i32::from_be_bytes(self.array()?))),
            Marker::I64 => Head::Int(i64::from_be_bytes(self.array()?)),
            Marker::F32 => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            Marker::F64 => Head::Float(f64::from_be_bytes(self.array()?)),
            Marker::FixStr(n) => Head::Str(self.take(usize::from(n))?),
            Marker::Str8 => Head::Str({
                let len = self.len8()?;
                self.take(len)?
            }),
            Marker::Str16 => Head::Str({
                let len = self.len16()?;
                self.take(len)?
            }),
            Marker::Str32 => Head::Str({
                let len = self.len32()?;
                self.take(len)?
            }),
            Marker::Bin8 => Head::Bin({
                let len = self.len8()?;
                self.take(len)?
            }),
            Marker::Bin16 => Head::Bin({
                let len = self.len16()?;
                self.take(len)?
            }),
            Marker::Bin32 => Head::Bin({
                let len = self.len32()?;
                self.take(len)?
            }),
            Marker::FixArray(n) => Head::Array(u32::from(n)),
            Marker::Array16 => Head::Array(u32::from(self.u16()?)),
            Marker::Array32 => Head::Array(self.u32()?),
            Marker::FixMap(n) => Head::Map(u32::from(n)),
            Marker::Map16 => Head::Map(u32::from(self.u16()?)),
            Marker::Map32 => Head::Map(self.u32()?),
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let len = self.len8()?;
                self.ext(len)?
            }
            Marker::Ext16 => {
                let len = self.len16()?;
                self.ext(len)?
            }
            Marker::Ext32 => {
                let len = self.len32()?;
                self.ext(len)?
            }
            Marker::Reserved => return Err(self.error("malformed msgpack: reserved byte 0xc1")),
        };
        Ok(head)
    }

    /// A capacity for `len` elements that a lying length cannot inflate: every element
    /// takes at least one byte.
    fn capacity(&self, len: u32) -> usize {
        usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len() - self.pos)
    }

    fn enter(&mut self) -> Result<(), ValueError> {
        self.depth += 1;
        if self.depth > MAX_VALUE_DEPTH {
            return Err(self.error("value is nested too deeply"));
        }
        Ok(())
    }

    fn value(&mut self, ty: &Type) -> Result<Value, ValueError> {
        self.enter()?;
        let value = self.value_inner(ty);
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self, ty: &Type) -> Result<Value, ValueError> {
        // Each shape has its own function so that the frame on the recursive path stays
        // small: the depth limit must fit in a thread's default stack in debug builds.
        let head = self.head()?;
        match (ty, head) {
            (_, Head::Ext(code, payload)) => self.unknown(code, payload, ty),
            (_, Head::Nil) => Ok(Value::Null),
            (Type::Dynamic, head) => self.dynamic(head),
            (Type::Bool, Head::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Number, head) => self.number(head).map(Value::Number),
            (Type::String, Head::Str(bytes) | Head::Bin(bytes)) => {
                self.string(bytes).map(Value::String)
            }
            (Type::List(element), Head::Array(len)) => self.sequence(element, len).map(Value::List),
            (Type::Set(element), Head::Array(len)) => self
                .sequence(element, len)
                .map(|items| Value::Set(dedup_set(items))),
            (Type::Tuple(elements), Head::Array(len)) => self.tuple(elements, len),
            (Type::Map(element), Head::Map(len)) => self.map(element, len),
            (Type::Object(attributes), Head::Map(len)) => self.object(attributes, len),
            _ => Err(self.error(type_required(ty))),
        }
    }

    fn sequence(&mut self, element: &Type, len: u32) -> Result<Vec<Value>, ValueError> {
        let mut items = Vec::with_capacity(self.capacity(len));
        for index in 0..len {
            self.path.push(PathStep::Index(u64::from(index)));
            items.push(self.value(element)?);
            self.path.pop();
        }
        Ok(items)
    }

    fn tuple(&mut self, elements: &[Type], len: u32) -> Result<Value, ValueError> {
        if usize::try_from(len).ok() != Some(elements.len()) {
            let expected = elements.len();
            return Err(self.error(format!("a tuple of length {expected} is required")));
        }
        let mut items = Vec::with_capacity(elements.len());
        for (index, element) in (0u64..).zip(elements) {
            self.path.push(PathStep::Index(index));
            items.push(self.value(element)?);
            self.path.pop();
        }
        Ok(Value::Tuple(items))
    }

    fn map(&mut self, element: &Type, len: u32) -> Result<Value, ValueError> {
        let mut entries = BTreeMap::new();
        for _ in 0..len {
            let key = self.key("map keys must be strings")?;
            self.path.push(PathStep::Key(key));
            let value = self.value(element)?;
            if let Some(PathStep::Key(key)) = self.path.pop() {
                entries.insert(key, value);
            }
        }
        Ok(Value::Map(entries))
    }

    fn object(
        &mut self,
        attributes: &BTreeMap<String, Type>,
        len: u32,
    ) -> Result<Value, ValueError> {
        if usize::try_from(len).ok() != Some(attributes.len()) {
            let expected = attributes.len();
            return Err(self.error(format!(
                "an object with {expected} attributes is required ({len} given)"
            )));
        }
        let mut values = BTreeMap::new();
        for _ in 0..len {
            let name = self.key("object attribute names must be strings")?;
            self.path.push(PathStep::Attr(name.clone()));
            let Some(attribute_ty) = attributes.get(&name) else {
                return Err(self.error("unsupported attribute"));
            };
            if values.contains_key(&name) {
                return Err(self.error("duplicate attribute"));
            }
            let value = self.value(attribute_ty)?;
            values.insert(name, value);
            self.path.pop();
        }
        Ok(Value::Object(values))
    }

    fn key(&mut self, message: &str) -> Result<String, ValueError> {
        match self.head()? {
            Head::Str(bytes) | Head::Bin(bytes) => self.string(bytes),
            _ => Err(self.error(message)),
        }
    }

    fn string(&self, bytes: &[u8]) -> Result<String, ValueError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("string is not valid UTF-8"))
    }

    fn number(&self, head: Head<'_>) -> Result<Number, ValueError> {
        let number = match head {
            Head::Int(n) => Some(Number::from_i64(n)),
            Head::BigUint(n) => Some(Number::from_u64(n)),
            Head::Float(f) => Number::from_f64(f),
            Head::Str(bytes) | Head::Bin(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse().ok()),
            _ => None,
        };
        number.ok_or_else(|| self.error(type_required(&Type::Number)))
    }

    /// A value in a dynamic position: `[type JSON, value]`.
    fn dynamic(&mut self, head: Head<'_>) -> Result<Value, ValueError> {
        match head {
            Head::Array(2) => {}
            Head::Array(_) => {
                return Err(self.error("a dynamic value must be an array of exactly two elements"))
            }
            _ => return Err(self.error(type_required(&Type::Dynamic))),
        }
        let type_json = match self.head()? {
            Head::Str(bytes) | Head::Bin(bytes) => bytes,
            _ => return Err(self.error("the type of a dynamic value must be JSON bytes")),
        };
        let ty = Type::from_json(type_json).map_err(|e| self.error(e.to_string()))?;
        let value = self.value(&ty)?;
        Ok(Value::Dynamic(ty, Box::new(value)))
    }

    /// An unknown value; only a refined unknown (extension 12) has a payload worth reading.
    fn unknown(&self, code: i8, payload: &'a [u8], ty: &Type) -> Result<Value, ValueError> {
        if code != REFINED_UNKNOWN_EXT || payload.len() <= 1 || *ty == Type::Dynamic {
            return Ok(Value::unknown());
        }
        if payload.len() > MAX_REFINEMENTS_LEN {
            return Err(self.error("oversize unknown value refinement"));
        }
        let mut reader = Reader {
            bytes: payload,
            pos: 0,
            path: self.path.clone(),
            depth: self.depth,
        };
        reader.refinements(ty)
    }

    fn refinements(&mut self, ty: &Type) -> Result<Value, ValueError> {
        let malformed = |r: &Reader<'_>, what: &str| {
            r.error(format!("malformed unknown value refinements: {what}"))
        };
        let Head::Map(len) = self.head()? else {
            return Err(malformed(self, "not a map"));
        };
        let mut refinements = Refinements::default();
        for _ in 0..len {
            let Head::Int(key) = self.head()? else {
                return Err(malformed(self, "non-integer key"));
            };
            match key {
                KEY_NULLNESS => match self.head()? {
                    // Known to be null is simply null.
                    Head::Bool(true) => return Ok(Value::Null),
                    Head::Bool(false) => refinements.not_null = true,
                    _ => return Err(malformed(self, "nullness is not a bool")),
                },
                KEY_STRING_PREFIX => {
                    if *ty != Type::String {
                        return Err(malformed(self, "string prefix for a non-string type"));
                    }
                    let (Head::Str(bytes) | Head::Bin(bytes)) = self.head()? else {
                        return Err(malformed(self, "string prefix is not a string"));
                    };
                    refinements.string_prefix = Some(self.string(bytes)?);
                }
                KEY_NUMBER_LOWER | KEY_NUMBER_UPPER => {
                    if *ty != Type::Number {
                        return Err(malformed(self, "number bound for a non-number type"));
                    }
                    let bound_ty = Type::Tuple(vec![Type::Number, Type::Bool]);
                    let bound = match self.value(&bound_ty)? {
                        Value::Tuple(items) => match items.as_slice() {
                            [Value::Number(n), Value::Bool(inclusive)] => (n.clone(), *inclusive),
                            _ => return Err(malformed(self, "number bound is not [number, bool]")),
                        },
                        _ => return Err(malformed(self, "number bound is not [number, bool]")),
                    };
                    if key == KEY_NUMBER_LOWER {
                        refinements.number_lower = Some(bound);
                    } else {
                        refinements.number_upper = Some(bound);
                    }
                }
                KEY_LENGTH_MIN | KEY_LENGTH_MAX => {
                    if !ty.is_collection() {
                        return Err(malformed(self, "length bound for a non-collection type"));
                    }
                    let length = match self.head()? {
                        Head::Int(n) => u64::try_from(n).ok(),
                        Head::BigUint(n) => Some(n),
                        _ => None,
                    };
                    let Some(length) = length else {
                        return Err(malformed(
                            self,
                            "length bound is not a non-negative integer",
                        ));
                    };
                    if key == KEY_LENGTH_MIN {
                        refinements.length_min = Some(length).filter(|&n| n > 0);
                    } else {
                        refinements.length_max = Some(length);
                    }
                }
                // Newer Terraform versions may add refinements; skipping them only loses
                // precision, never correctness.
                _ => self.skip()?,
            }
        }
        // Anything after the map is reserved for future use, as in go-cty.
        Ok(Value::Unknown(refinements))
    }

    fn skip(&mut self) -> Result<(), ValueError> {
        self.enter()?;
        let items = match self.head()? {
            Head::Array(len) => u64::from(len),
            Head::Map(len) => 2 * u64::from(len),
            _ => 0,
        };
        for _ in 0..items {
            self.skip()?;
        }
        self.depth -= 1;
        Ok(())
    }
}

/// Makes an infallible rmp result plain: writing to a `ByteBuf` cannot fail.
fn written<T>(result: Result<T, ValueWriteError<Infallible>>) -> T {
    match result {
        Ok(value) => value,
        Err(ValueWriteError::InvalidMarkerWrite(never))
        | Err(ValueWriteError::InvalidDataWrite(never)) => match never {},
    }
}

struct Writer {
    buf: ByteBuf,
    path: Vec<PathStep>,
}

impl Writer {
    fn error(&self, message: impl Into<String>) -> ValueError {
        ValueError::new(&self.path, message)
    }

    fn len(&self, len: usize) -> Result<u32, ValueError> {
        u32::try_from(len).map_err(|_| self.error("too large to encode in msgpack"))
    }

    fn str(&mut self, s: &str) -> Result<(), ValueError> {
        self.len(s.len())?;
        written(encode::write_str(&mut self.buf, s));
        Ok(())
    }

    fn array_len(&mut self, len: usize) -> Result<(), ValueError> {
        let len = self.len(len)?;
        written(encode::write_array_len(&mut self.buf, len));
        Ok(())
    }

    fn map_len(&mut self, len: usize) -> Result<(), ValueError> {
        let len = self.len(len)?;
        written(encode::write_map_len(&mut self.buf, len));
        Ok(())
    }

    fn number(&mut self, number: &Number) {
        match number.wire() {
            WireNumber::Int(n) => {
                written(encode::write_sint(&mut self.buf, n));
            }
            WireNumber::Float(f) => written(encode::write_f64(&mut self.buf, f)),
            // Decimal text is ASCII and short, far below the u32 length limit.
            WireNumber::Text(text) => written(encode::write_str(&mut self.buf, &text)),
        }
    }

    fn value(&mut self, value: &Value, ty: &Type) -> Result<(), ValueError> {
        match (ty, value) {
            (_, Value::Null) => {
                let Ok(()) = encode::write_nil(&mut self.buf);
            }
            // A wholly unknown dynamic value cannot be refined: its type is unknown too.
            (Type::Dynamic, Value::Unknown(_)) => self.buf.as_mut_vec().extend_from_slice(&UNKNOWN),
            (Type::Dynamic, Value::Dynamic(inner_ty, inner)) => {
                self.array_len(2)?;
                written(encode::write_bin(&mut self.buf, &inner_ty.to_json()));
                self.value(inner, inner_ty)?;
            }
            (Type::Dynamic, _) => return Err(self.error(type_required(ty))),
            (_, Value::Unknown(refinements)) => self.unknown(refinements, ty)?,
            (Type::Bool, Value::Bool(b)) => {
                let Ok(()) = encode::write_bool(&mut self.buf, *b);
            }
            (Type::Number, Value::Number(n)) => self.number(n),
            (Type::String, Value::String(s)) => self.str(s)?,
            (Type::List(element), Value::List(items)) => {
                self.array_len(items.len())?;
                self.elements(items.iter(), element)?;
            }
            (Type::Set(element), Value::Set(items)) => {
                let items = distinct(items);
                self.array_len(items.len())?;
                self.elements(items.into_iter(), element)?;
            }
            (Type::Tuple(elements), Value::Tuple(items)) => {
                if elements.len() != items.len() {
                    let expected = elements.len();
                    return Err(self.error(format!("a tuple of length {expected} is required")));
                }
                self.array_len(items.len())?;
                for ((index, item), element) in (0u64..).zip(items).zip(elements) {
                    self.path.push(PathStep::Index(index));
                    self.value(item, element)?;
                    self.path.pop();
                }
            }
            (Type::Map(element), Value::Map(entries)) => {
                self.map_len(entries.len())?;
                for (key, item) in entries {
                    self.path.push(PathStep::Key(key.clone()));
                    self.str(key)?;
                    self.value(item, element)?;
                    self.path.pop();
                }
            }
            (Type::Object(attributes), Value::Object(values)) => {
                if let Some(extra) = values.keys().find(|name| !attributes.contains_key(*name)) {
                    self.path.push(PathStep::Attr(extra.clone()));
                    return Err(self.error("unsupported attribute"));
                }
                self.map_len(attributes.len())?;
                for (name, attribute_ty) in attributes {
                    self.path.push(PathStep::Attr(name.clone()));
                    let Some(item) = values.get(name) else {
                        return Err(self.error("attribute is required (null when unset)"));
                    };
                    self.str(name)?;
                    self.value(item, attribute_ty)?;
                    self.path.pop();
                }
            }
            _ => return Err(self.error(type_required(ty))),
        }
        Ok(())
    }

    fn elements<'v>(
        &mut self,
        items: impl Iterator<Item = &'v Value>,
        element: &Type,
    ) -> Result<(), ValueError> {
        for (index, item) in (0u64..).zip(items) {
            self.path.push(PathStep::Index(index));
            self.value(item, element)?;
            self.path.pop();
        }
        Ok(())
    }

    fn unknown(&mut self, refinements: &Refinements, ty: &Type) -> Result<(), ValueError> {
        let mut payload = Writer {
            buf: ByteBuf::new(),
            path: self.path.clone(),
        };
        let mut count = 0u32;
        let mut entry = |payload: &mut Writer, key: i64| {
            count += 1;
            written(encode::write_sint(&mut payload.buf, key));
        };

        if refinements.not_null {
            entry(&mut payload, KEY_NULLNESS);
            let Ok(()) = encode::write_bool(&mut payload.buf, false);
        }
        if let Some(prefix) = refinements
            .string_prefix
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            if *ty != Type::String {
                return Err(self.error("a string prefix refinement needs a string type"));
            }
            entry(&mut payload, KEY_STRING_PREFIX);
            payload.str(truncate_prefix(prefix))?;
        }
        let bounds = [
            (KEY_NUMBER_LOWER, &refinements.number_lower, true),
            (KEY_NUMBER_UPPER, &refinements.number_upper, false),
        ];
        for (key, bound, lower) in bounds {
            let Some((number, inclusive)) = bound else {
                continue;
            };
            if *ty != Type::Number {
                return Err(self.error("a number bound refinement needs a number type"));
            }
            // An infinite bound on the open side bounds nothing.
            if number.is_infinite() && (number.as_f64() < 0.0) == lower {
                continue;
            }
            entry(&mut payload, key);
            payload.array_len(2)?;
            payload.number(number);
            let Ok(()) = encode::write_bool(&mut payload.buf, *inclusive);
        }
        let lengths = [
            (KEY_LENGTH_MIN, refinements.length_min.filter(|&n| n > 0)),
            (KEY_LENGTH_MAX, refinements.length_max),
        ];
        for (key, length) in lengths {
            let Some(length) = length else { continue };
            if !ty.is_collection() {
                return Err(self.error("a length refinement needs a list, set or map type"));
            }
            // go-cty treats the largest int as no bound and cannot read anything larger.
            let Some(length) = i64::try_from(length).ok().filter(|&n| n < i64::MAX) else {
                continue;
            };
            entry(&mut payload, key);
            written(encode::write_sint(&mut payload.buf, length));
        }

        if count == 0 {
            self.buf.as_mut_vec().extend_from_slice(&UNKNOWN);
            return Ok(());
        }
        let mut map = ByteBuf::new();
        written(encode::write_map_len(&mut map, count));
        let payload = payload.buf.into_vec();
        let len = self.len(map.as_slice().len() + payload.len())?;
        written(encode::write_ext_meta(
            &mut self.buf,
            len,
            REFINED_UNKNOWN_EXT,
        ));
        self.buf.as_mut_vec().extend_from_slice(map.as_slice());
        self.buf.as_mut_vec().extend_from_slice(&payload);
        Ok(())
    }
}

/// The longest prefix of `prefix` within [`MAX_PREFIX_LEN`] bytes that ends on a character
/// boundary; a shorter prefix is still a true refinement.
fn truncate_prefix(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_LEN {
        return prefix;
    }
    let mut end = MAX_PREFIX_LEN - 1;
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    &prefix[..end]
}

#[cfg(test)]
mod tests {
    use super::super::strategies;
    use super::super::AttributePath;
    use super::*;
    use proptest::prelude::*;

    fn decode(bytes: &[u8], ty: &Type) -> Value {
        Value::decode_msgpack(bytes, ty).unwrap()
    }

    fn encode(value: &Value, ty: &Type) -> Vec<u8> {
        value.encode_msgpack(ty).unwrap()
    }

    fn decode_err(bytes: &[u8], ty: &Type) -> String {
        Value::decode_msgpack(bytes, ty).unwrap_err().to_string()
    }

    fn n(text: &str) -> Number {
        text.parse().unwrap()
    }

    #[test]
    fn empty_input_and_nil_are_null() {
        assert_eq!(decode(b"", &Type::String), Value::Null);
        assert_eq!(decode(&[0xc0], &Type::list(Type::String)), Value::Null);
        assert_eq!(decode(&[0xc0], &Type::Dynamic), Value::Null);
        assert_eq!(encode(&Value::Null, &Type::Dynamic), [0xc0]);
    }

    #[test]
    fn unknown_is_fixext_zero() {
        assert_eq!(encode(&Value::unknown(), &Type::String), UNKNOWN);
        assert_eq!(encode(&Value::unknown(), &Type::Dynamic), UNKNOWN);
        assert_eq!(decode(&UNKNOWN, &Type::String), Value::unknown());
    }

    #[test]
    fn any_extension_is_unknown() {
        for bytes in [
            &[0xd5, 0x05, 1, 2][..],
            &[0xc7, 0x00, 0x03],
            &[0xd6, 0x7f, 1, 2, 3, 4],
        ] {
            assert_eq!(decode(bytes, &Type::Number), Value::unknown());
            assert_eq!(decode(bytes, &Type::Dynamic), Value::unknown());
        }
    }

    #[test]
    fn refined_unknown_string_with_prefix() {
        let bytes = [
            0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa4, b'p', b'f', b'x', b'-',
        ];
        let value = Value::Unknown(Refinements {
            not_null: true,
            string_prefix: Some("pfx-".to_owned()),
            ..Refinements::default()
        });
        assert_eq!(decode(&bytes, &Type::String), value);
        assert_eq!(encode(&value, &Type::String), bytes);
    }

    #[test]
    fn refined_unknown_not_null_uses_fixext() {
        // A three-byte payload is not a fixext size, a four-byte one is.
        let value = Value::Unknown(Refinements::not_null());
        assert_eq!(
            encode(&value, &Type::Bool),
            [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]
        );
        let value = Value::Unknown(Refinements {
            length_min: Some(200),
            ..Default::default()
        });
        let bytes = encode(&value, &Type::list(Type::String));
        assert_eq!(bytes, [0xd6, 0x0c, 0x81, 0x05, 0xcc, 200]);
        assert_eq!(decode(&bytes, &Type::list(Type::String)), value);
    }

    #[test]
    fn refined_unknown_number_bounds_and_lengths() {
        let value = Value::Unknown(Refinements {
            number_lower: Some((Number::from_i64(0), true)),
            number_upper: Some((n("0.1"), false)),
            ..Refinements::default()
        });
        let bytes = encode(&value, &Type::Number);
        assert_eq!(
            bytes,
            [
                0xc7, 0x0c, 0x0c, 0x82, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0xa3, b'0', b'.', b'1',
                0xc2
            ]
        );
        assert_eq!(decode(&bytes, &Type::Number), value);

        let value = Value::Unknown(Refinements {
            not_null: true,
            length_min: Some(1),
            length_max: Some(3),
            ..Refinements::default()
        });
        let ty = Type::set(Type::String);
        assert_eq!(decode(&encode(&value, &ty), &ty), value);
    }

    #[test]
    fn refinements_without_meaning_are_left_out() {
        // An empty prefix, a zero minimum length and infinite bounds refine nothing, and an
        // empty refinement map is never sent.
        let cases = [
            (
                Type::String,
                Refinements {
                    string_prefix: Some(String::new()),
                    ..Default::default()
                },
            ),
            (
                Type::list(Type::Bool),
                Refinements {
                    length_min: Some(0),
                    ..Default::default()
                },
            ),
            (
                Type::Number,
                Refinements {
                    number_lower: Some((Number::from_f64(f64::NEG_INFINITY).unwrap(), false)),
                    number_upper: Some((Number::from_f64(f64::INFINITY).unwrap(), false)),
                    ..Default::default()
                },
            ),
        ];
        for (ty, refinements) in cases {
            assert_eq!(encode(&Value::Unknown(refinements), &ty), UNKNOWN, "{ty}");
        }
        let dynamic = Value::Unknown(Refinements::not_null());
        assert_eq!(encode(&dynamic, &Type::Dynamic), UNKNOWN);
    }

    #[test]
    fn refinement_payloads() {
        // Unknown keys are skipped, including nested ones.
        let bytes = [
            0xc7, 0x09, 0x0c, 0x82, 0x09, 0x92, 0x01, 0x81, 0x01, 0x02, 0x01, 0xc2,
        ];
        assert_eq!(
            decode(&bytes, &Type::Bool),
            Value::Unknown(Refinements::not_null())
        );
        // Definitely null is just null.
        assert_eq!(
            decode(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3], &Type::Bool),
            Value::Null
        );
        // Refinements that cannot apply to the type are refused, as go-cty does.
        let prefix_on_number = [0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'x'];
        assert!(decode_err(&prefix_on_number, &Type::Number).contains("non-string type"));
        // Dynamic values ignore refinements altogether.
        assert_eq!(decode(&prefix_on_number, &Type::Dynamic), Value::unknown());
        // Payloads that are not maps, or claim more than they hold, are errors.
        assert!(Value::decode_msgpack(&[0xc7, 0x02, 0x0c, 0x01, 0x02], &Type::Bool).is_err());
        assert!(Value::decode_msgpack(&[0xc7, 0x02, 0x0c, 0x82, 0x01], &Type::Bool).is_err());
    }

    #[test]
    fn long_prefixes_are_cut_on_a_character_boundary() {
        let prefix = "é".repeat(200);
        let value = Value::Unknown(Refinements {
            string_prefix: Some(prefix.clone()),
            ..Refinements::default()
        });
        let decoded = decode(&encode(&value, &Type::String), &Type::String);
        let sent = decoded
            .refinements()
            .unwrap()
            .string_prefix
            .clone()
            .unwrap();
        assert_eq!(sent.len(), 254);
        assert!(prefix.starts_with(&sent));
    }

    #[test]
    fn numbers_use_the_smallest_exact_form() {
        let cases: [(Number, &[u8]); 9] = [
            (Number::from_i64(1), &[0x01]),
            (Number::from_i64(-1), &[0xff]),
            (Number::from_i64(200), &[0xcc, 200]),
            (Number::from_i64(-200), &[0xd1, 0xff, 0x38]),
            (Number::from_i64(70_000), &[0xce, 0x00, 0x01, 0x11, 0x70]),
            (n("1.0"), &[0x01]),
            (
                Number::from_f64(0.1).unwrap(),
                &[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
            ),
            (n("0.5"), &[0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]),
            (
                Number::from_f64(f64::INFINITY).unwrap(),
                &[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
            ),
        ];
        for (number, bytes) in cases {
            let value = Value::Number(number);
            assert_eq!(encode(&value, &Type::Number), bytes, "{value:?}");
            assert_eq!(decode(bytes, &Type::Number), value);
        }
    }

    #[test]
    fn float64_point_one_round_trips() {
        let bytes = [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
        let value = decode(&bytes, &Type::Number);
        assert_eq!(value.as_number().unwrap().as_f64(), 0.1);
        assert_eq!(encode(&value, &Type::Number), bytes);
    }

    #[test]
    fn big_integer_arrives_as_string() {
        let text = "123456789012345678901234567890";
        let mut bytes = vec![0xbe];
        bytes.extend_from_slice(text.as_bytes());
        let value = decode(&bytes, &Type::Number);
        assert_eq!(value, Value::Number(n(text)));
        assert_eq!(value.as_number().unwrap().to_string(), text);
        assert_eq!(encode(&value, &Type::Number), bytes);
    }

    #[test]
    fn decimal_that_no_float_holds_is_sent_as_text() {
        let value = Value::Number(n("0.1"));
        assert_eq!(encode(&value, &Type::Number), [0xa3, b'0', b'.', b'1']);
    }

    #[test]
    fn numbers_accept_every_msgpack_number() {
        let one = Value::number(1);
        for bytes in [
            &[0x01][..],
            &[0xcc, 1],
            &[0xcd, 0, 1],
            &[0xcf, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xd0, 1],
            &[0xd3, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xca, 0x3f, 0x80, 0, 0],
            &[0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
            &[0xa1, b'1'],
        ] {
            assert_eq!(decode(bytes, &Type::Number), one, "{bytes:x?}");
        }
        let max = decode(
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &Type::Number,
        );
        assert_eq!(max, Value::Number(Number::from_u64(u64::MAX)));
        assert!(
            decode_err(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1], &Type::Number)
                .contains("number is required")
        );
        assert!(decode_err(&[0xa2, b'x', b'1'], &Type::Number).contains("number is required"));
    }

    #[test]
    fn objects_need_exactly_their_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let one = [0x81, 0xa1, b'a', 0xa1, b'x'];
        assert_eq!(
            decode_err(&one, &ty),
            "an object with 2 attributes is required (1 given)"
        );
        let extra = [0x82, 0xa1, b'a', 0xc0, 0xa1, b'c', 0xc0];
        assert_eq!(decode_err(&extra, &ty), "c: unsupported attribute");
        let twice = [0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0];
        assert_eq!(decode_err(&twice, &ty), "a: duplicate attribute");

        let value = Value::object([("b", Value::number(2)), ("a", Value::Null)]);
        let bytes = encode(&value, &ty);
        assert_eq!(bytes, [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0x02]);
        assert_eq!(decode(&bytes, &ty), value);

        let missing = Value::object([("a", Value::Null)]);
        let err = missing.encode_msgpack(&ty).unwrap_err();
        assert_eq!(err.path, AttributePath::new().attr("b"));
        let extra = Value::object([("a", Value::Null), ("b", Value::Null), ("z", Value::Null)]);
        assert_eq!(
            extra.encode_msgpack(&ty).unwrap_err().to_string(),
            "z: unsupported attribute"
        );
    }

    #[test]
    fn errors_name_the_attribute() {
        let ty = Type::object([
            ("tags", Type::map(Type::String)),
            ("public_subnet_cidrs", Type::list(Type::String)),
        ]);
        let bad_tag = [
            0x82, 0xb3, b'p', b'u', b'b', b'l', b'i', b'c', b'_', b's', b'u', b'b', b'n', b'e',
            b't', b'_', b'c', b'i', b'd', b'r', b's', 0x90, 0xa4, b't', b'a', b'g', b's', 0x81,
            0xa1, b'a', 0x05,
        ];
        assert_eq!(
            decode_err(&bad_tag, &ty),
            r#"tags["a"]: string is required"#
        );

        let value = Value::object([
            ("tags", Value::Map(BTreeMap::new())),
            (
                "public_subnet_cidrs",
                Value::List(vec![Value::string("x"), Value::Bool(true)]),
            ),
        ]);
        let err = value.encode_msgpack(&ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "public_subnet_cidrs[1]: string is required"
        );
        assert_eq!(
            err.path,
            AttributePath::new().attr("public_subnet_cidrs").index(1)
        );
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert_eq!(decode_err(&[0x01], &Type::String), "string is required");
        assert_eq!(decode_err(&[0xa1, b'x'], &Type::Bool), "bool is required");
        assert_eq!(
            decode_err(&[0x80], &Type::list(Type::String)),
            "a list is required"
        );
        assert_eq!(
            decode_err(&[0x90], &Type::map(Type::String)),
            "a map is required"
        );
        assert_eq!(
            decode_err(&[0x91, 0x01], &Type::tuple([Type::Number, Type::Number])),
            "a tuple of length 2 is required"
        );
        assert_eq!(
            decode_err(&[0x81, 0x01, 0x01], &Type::map(Type::Number)),
            "map keys must be strings"
        );
        assert!(decode_err(&[0xa2, 0xff, 0xfe], &Type::String).contains("UTF-8"));
    }

    #[test]
    fn truncated_and_trailing_input_are_errors() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let bytes = encode(&Value::object([("a", Value::strings(["x", "yz"]))]), &ty);
        for len in 1..bytes.len() {
            let err = decode_err(&bytes[..len], &ty);
            assert!(err.contains("unexpected end of input"), "{len}: {err}");
        }
        let mut longer = bytes.clone();
        longer.push(0xc0);
        assert!(decode_err(&longer, &ty).contains("1 bytes after the value"));
        assert!(decode_err(&[0xc1], &Type::String).contains("reserved"));
        assert!(
            decode_err(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool))
                .contains("unexpected end of input")
        );
    }

    #[test]
    fn sets_drop_repeated_known_elements() {
        let ty = Type::set(Type::String);
        let bytes = [0x93, 0xa1, b'a', 0xa1, b'a', 0xd4, 0, 0];
        let value = decode(&bytes, &ty);
        assert_eq!(value.as_list().unwrap().len(), 2);
        let repeats = Value::Set(vec![Value::string("a"), Value::string("a")]);
        assert_eq!(encode(&repeats, &ty), [0x91, 0xa1, b'a']);
        let unknowns = Value::Set(vec![Value::unknown(), Value::unknown()]);
        assert_eq!(encode(&unknowns, &ty), [0x92, 0xd4, 0, 0, 0xd4, 0, 0]);
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let value = Value::Dynamic(Type::list(Type::String), Box::new(Value::strings(["a"])));
        let bytes = encode(&value, &Type::Dynamic);
        let mut expected = vec![0x92, 0xc4, 17];
        expected.extend_from_slice(br#"["list","string"]"#);
        expected.extend_from_slice(&[0x91, 0xa1, b'a']);
        assert_eq!(bytes, expected);
        assert_eq!(decode(&bytes, &Type::Dynamic), value);

        // Terraform may send the type as a str rather than a bin.
        let as_str = [
            0x92, 0xa8, b'"', b's', b't', b'r', b'i', b'n', b'g', b'"', 0xa1, b'x',
        ];
        assert_eq!(
            decode(&as_str, &Type::Dynamic),
            Value::Dynamic(Type::String, Box::new(Value::string("x")))
        );
        let typed_unknown = Value::Dynamic(Type::Bool, Box::new(Value::unknown()));
        assert_eq!(
            decode(&encode(&typed_unknown, &Type::Dynamic), &Type::Dynamic),
            typed_unknown
        );

        assert!(decode_err(&[0x91, 0xc0], &Type::Dynamic).contains("exactly two elements"));
        assert!(
            decode_err(&[0x92, 0xa3, b'"', b'x', b'"', 0xc0], &Type::Dynamic)
                .contains("invalid type")
        );
        assert!(Value::string("x").encode_msgpack(&Type::Dynamic).is_err());
    }

    #[test]
    fn nested_dynamic_types_cannot_exhaust_the_stack() {
        let mut bytes = Vec::new();
        for _ in 0..100_000 {
            bytes.extend_from_slice(&[0x92, 0xa9]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        bytes.push(0xc0);
        assert!(decode_err(&bytes, &Type::Dynamic).contains("nested too deeply"));
    }

    proptest! {
        #[test]
        fn encode_decode_encode_is_stable((ty, value) in strategies::typed_value(true)) {
            let bytes = value.encode_msgpack(&ty).unwrap();
            let decoded = Value::decode_msgpack(&bytes, &ty).unwrap();
            prop_assert_eq!(&decoded, &value);
            prop_assert_eq!(decoded.encode_msgpack(&ty).unwrap(), bytes);
            prop_assert!(ty.conforms(&value));
        }

        #[test]
        fn random_bytes_never_panic(
            ty in strategies::ty(),
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let _ = Value::decode_msgpack(&bytes, &ty);
        }

        #[test]
        fn damaged_encodings_never_panic(
            (ty, value) in strategies::typed_value(true),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = value.encode_msgpack(&ty).unwrap();
            for (at, byte) in edits {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            let _ = Value::decode_msgpack(&bytes, &ty);
            let _ = Value::decode_msgpack(&bytes[..cut.index(bytes.len())], &ty);
        }
    }
}
