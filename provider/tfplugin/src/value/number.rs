//! Exact cty numbers.
//!
//! Terraform parses numbers from configuration as 512-bit binary floats and sends any that
//! are neither an int64 nor exactly a float64 as decimal text, so a provider that squeezes
//! numbers into `f64` changes them, and Terraform then reports the result as inconsistent.
//! [`Number`] therefore keeps every value exactly: machine integers and floats where they
//! suffice, a decimal otherwise.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// The largest decimal exponent accepted, so that text such as `1e999999999` cannot make
/// [`Number`]'s `Display` write gigabytes of zeros.
const MAX_EXPONENT: i64 = 10_000;

/// The most negative binary exponent of an `f64` (the smallest subnormal is 2^-1074), which
/// bounds the fractional digits of any decimal that is exactly an `f64`.
const MIN_F64_EXPONENT: i64 = -1074;

/// An exact cty number.
///
/// Equality and ordering compare numeric values, so `1` equals `1.0` parsed from text. A
/// number made with [`Number::from_f64`] is that float's exact binary value: `from_f64(0.1)`
/// is not the decimal `0.1` that Terraform parses from configuration, and the two compare
/// unequal, as they do in Terraform. Keep numbers taken from a request as they are rather
/// than rebuilding them from an `f64`.
///
/// `Display` writes plain decimal text without an exponent, as Terraform does; a value made
/// from an `f64` prints as the shortest text that reads back to the same float.
#[derive(Clone)]
pub struct Number(Repr);

/// The single canonical representation of each value, so derived comparisons of the parts
/// are comparisons of values.
#[derive(Clone, Debug)]
enum Repr {
    /// Every integer within the range of `i64`.
    Int(i64),
    /// Every non-integer exactly representable as an `f64`.
    Float(f64),
    /// Every other finite value: integers beyond `i64`, and decimals no `f64` holds exactly.
    Big(Decimal),
    /// Positive or negative infinity, which cty allows and msgpack carries as a float64.
    Infinity { negative: bool },
}

/// How a number is written on the msgpack wire.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum WireNumber {
    Int(i64),
    Float(f64),
    Text(String),
}

/// The error returned when text is not a number.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseNumberError {
    reason: &'static str,
}

impl fmt::Display for ParseNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid number: {}", self.reason)
    }
}

impl std::error::Error for ParseNumberError {}

impl Number {
    /// The number zero.
    pub const ZERO: Number = Number(Repr::Int(0));

    /// A number from an `i64`.
    pub const fn from_i64(value: i64) -> Number {
        Number(Repr::Int(value))
    }

    /// A number from a `u64`.
    pub fn from_u64(value: u64) -> Number {
        match i64::try_from(value) {
            Ok(value) => Number(Repr::Int(value)),
            Err(_) => Number(Repr::Big(Decimal::new(
                false,
                value.to_string().as_bytes(),
                0,
            ))),
        }
    }

    /// The exact value of an `f64`; `None` for NaN, which is not a number in cty.
    ///
    /// Infinities are allowed, as cty has them.
    pub fn from_f64(value: f64) -> Option<Number> {
        if value.is_nan() {
            return None;
        }
        if value.is_infinite() {
            return Some(Number(Repr::Infinity {
                negative: value < 0.0,
            }));
        }
        if value.fract() != 0.0 {
            return Some(Number(Repr::Float(value)));
        }
        // Every integral f64 in [-2^63, 2^63) converts to i64 exactly.
        const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
        if (-TWO_POW_63..TWO_POW_63).contains(&value) {
            return Some(Number(Repr::Int(value as i64)));
        }
        Some(Number(Repr::Big(Decimal::from_f64(value))))
    }

    /// Parses decimal text such as `42`, `-0.5`, `1e-7` or `123456789012345678901234567890`,
    /// and `inf` / `-Inf` for the infinities.
    pub fn parse(text: &str) -> Result<Number, ParseNumberError> {
        text.parse()
    }

    /// The value as an `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Int(value) => Some(value),
            _ => None,
        }
    }

    /// The value as a `u64`, if it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Int(value) => u64::try_from(*value).ok(),
            Repr::Big(decimal) if decimal.is_integer() && !decimal.negative => {
                decimal.to_plain_string().parse().ok()
            }
            _ => None,
        }
    }

    /// The nearest `f64`, which is infinite for values beyond its range.
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(value) => *value as f64,
            Repr::Float(value) => *value,
            Repr::Big(decimal) => decimal.to_f64(),
            Repr::Infinity { negative: true } => f64::NEG_INFINITY,
            Repr::Infinity { negative: false } => f64::INFINITY,
        }
    }

    /// Whether the value is a whole number (infinities are not).
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Int(_) => true,
            Repr::Float(_) | Repr::Infinity { .. } => false,
            Repr::Big(decimal) => decimal.is_integer(),
        }
    }

    /// Whether the value is positive or negative infinity.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::Infinity { .. })
    }

    /// The msgpack form Terraform uses for this value: an integer when it fits an int64, a
    /// float64 when one holds it exactly, decimal text otherwise.
    pub(super) fn wire(&self) -> WireNumber {
        match &self.0 {
            Repr::Int(value) => WireNumber::Int(*value),
            Repr::Float(value) => WireNumber::Float(*value),
            Repr::Infinity { negative: true } => WireNumber::Float(f64::NEG_INFINITY),
            Repr::Infinity { negative: false } => WireNumber::Float(f64::INFINITY),
            Repr::Big(decimal) => match decimal.exact_f64() {
                Some(value) => WireNumber::Float(value),
                None => WireNumber::Text(decimal.to_plain_string()),
            },
        }
    }

    fn from_decimal(decimal: Decimal) -> Number {
        if decimal.digits.is_empty() {
            return Number::ZERO;
        }
        if decimal.is_integer() {
            return match decimal.to_i64() {
                Some(value) => Number(Repr::Int(value)),
                None => Number(Repr::Big(decimal)),
            };
        }
        match decimal.exact_f64() {
            Some(value) => Number(Repr::Float(value)),
            None => Number(Repr::Big(decimal)),
        }
    }

    fn to_decimal(&self) -> Option<Decimal> {
        match &self.0 {
            Repr::Int(value) => {
                let digits = value.unsigned_abs().to_string();
                Some(Decimal::new(*value < 0, digits.as_bytes(), 0))
            }
            Repr::Float(value) => Some(Decimal::from_f64(*value)),
            Repr::Big(decimal) => Some(decimal.clone()),
            Repr::Infinity { .. } => None,
        }
    }
}

impl FromStr for Number {
    type Err = ParseNumberError;

    fn from_str(text: &str) -> Result<Number, ParseNumberError> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Ok(Number(Repr::Infinity { negative }));
        }

        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
            None => (rest, 0),
        };
        let (whole, fraction) = match mantissa.find('.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() {
            return Err(ParseNumberError {
                reason: "no digits",
            });
        }
        if !all_digits(whole) || !all_digits(fraction) {
            return Err(ParseNumberError {
                reason: "unexpected character",
            });
        }

        let mut digits = Vec::with_capacity(whole.len() + fraction.len());
        digits.extend_from_slice(whole.as_bytes());
        digits.extend_from_slice(fraction.as_bytes());
        let fraction_len = i64::try_from(fraction.len()).unwrap_or(i64::MAX);
        let decimal = Decimal::new(negative, &digits, exponent.saturating_sub(fraction_len));
        if !decimal.digits.is_empty()
            && decimal.exponent.unsigned_abs() > MAX_EXPONENT.unsigned_abs()
        {
            return Err(ParseNumberError {
                reason: "out of range",
            });
        }
        Ok(Number::from_decimal(decimal))
    }
}

fn parse_exponent(text: &str) -> Result<i64, ParseNumberError> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseNumberError {
            reason: "malformed exponent",
        });
    }
    text.parse::<i64>()
        .ok()
        .filter(|exponent| exponent.abs() <= 10 * MAX_EXPONENT)
        .ok_or(ParseNumberError {
            reason: "out of range",
        })
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Int(a), Repr::Int(b)) => a.cmp(b),
            (Repr::Float(a), Repr::Float(b)) => a.total_cmp(b),
            (Repr::Infinity { negative: a }, Repr::Infinity { negative: b }) => b.cmp(a),
            (Repr::Infinity { negative }, _) => {
                if *negative {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, Repr::Infinity { negative }) => {
                if *negative {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => match (self.to_decimal(), other.to_decimal()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => Ordering::Equal,
            },
        }
    }
}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Canonical representations make hashing the parts consistent with `Eq`.
        match &self.0 {
            Repr::Int(value) => (0u8, value).hash(state),
            Repr::Float(value) => (1u8, value.to_bits()).hash(state),
            Repr::Big(decimal) => (2u8, decimal).hash(state),
            Repr::Infinity { negative } => (3u8, negative).hash(state),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(value) => write!(f, "{value}"),
            // Rust writes the shortest text that reads back as the same float, never with
            // an exponent.
            Repr::Float(value) => write!(f, "{value}"),
            Repr::Big(decimal) => f.write_str(&decimal.to_plain_string()),
            Repr::Infinity { negative: true } => f.write_str("-Inf"),
            Repr::Infinity { negative: false } => f.write_str("+Inf"),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl Default for Number {
    fn default() -> Number {
        Number::ZERO
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(value: $t) -> Number {
                Number::from_i64(i64::from(value))
            }
        }
    )*};
}

from_integer!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Number {
    fn from(value: u64) -> Number {
        Number::from_u64(value)
    }
}

impl From<usize> for Number {
    fn from(value: usize) -> Number {
        Number::from_u64(value as u64)
    }
}

/// An exact decimal: `(-1)^negative * digits * 10^exponent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Decimal {
    negative: bool,
    /// ASCII significant digits with neither leading nor trailing zeros; empty for zero.
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// Normalises ASCII `digits` into canonical form.
    fn new(negative: bool, digits: &[u8], exponent: i64) -> Decimal {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        let digits = &digits[start..];
        let end = digits
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |at| at + 1);
        if end == 0 {
            return Decimal {
                negative: false,
                digits: Vec::new(),
                exponent: 0,
            };
        }
        let trailing = i64::try_from(digits.len() - end).unwrap_or(i64::MAX);
        Decimal {
            negative,
            digits: digits[..end].to_vec(),
            exponent: exponent.saturating_add(trailing),
        }
    }

    /// The exact decimal value of a finite `f64`.
    fn from_f64(value: f64) -> Decimal {
        let bits = value.to_bits();
        let negative = bits >> 63 == 1;
        let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let fraction = bits & ((1 << 52) - 1);
        let (mut mantissa, mut exponent) = if biased == 0 {
            (fraction, MIN_F64_EXPONENT)
        } else {
            (fraction | (1 << 52), biased - 1075)
        };
        if mantissa == 0 {
            return Decimal::new(false, b"0", 0);
        }
        while mantissa % 2 == 0 && exponent < 0 {
            mantissa /= 2;
            exponent += 1;
        }

        // m * 2^e is m * 2^e for e >= 0, and m * 5^-e * 10^e otherwise.
        let mut big = BigUint::from_u64(mantissa);
        let (factor, count, decimal_exponent) = if exponent >= 0 {
            (2, exponent, 0)
        } else {
            (5, -exponent, exponent)
        };
        big.mul_pow(factor, count);
        Decimal::new(negative, big.to_string().as_bytes(), decimal_exponent)
    }

    fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    fn to_i64(&self) -> Option<i64> {
        if !self.is_integer() || self.digits.len() as i64 + self.exponent > 19 {
            return None;
        }
        let text = self.to_plain_string();
        text.parse().ok()
    }

    fn to_f64(&self) -> f64 {
        if self.digits.is_empty() {
            return 0.0;
        }
        let sign = if self.negative { "-" } else { "" };
        let digits = String::from_utf8_lossy(&self.digits);
        format!("{sign}{digits}e{}", self.exponent)
            .parse()
            .unwrap_or(0.0)
    }

    /// The `f64` equal to this value, if there is one.
    fn exact_f64(&self) -> Option<f64> {
        if self.exponent < 0 {
            // A non-integer is a binary fraction only if its digits are a multiple of
            // 5^-exponent, which needs a last digit of 5; nor can a float have more
            // fractional digits than its smallest power of two.
            if self.digits.last() != Some(&b'5') || self.exponent < MIN_F64_EXPONENT {
                return None;
            }
        }
        let value = self.to_f64();
        (value.is_finite() && Decimal::from_f64(value) == *self).then_some(value)
    }

    fn to_plain_string(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let digits = String::from_utf8_lossy(&self.digits);
        let mut out = String::with_capacity(self.digits.len() + 2);
        if self.negative {
            out.push('-');
        }
        let len = self.digits.len() as i64;
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else if -self.exponent >= len {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-self.exponent - len) as usize));
            out.push_str(&digits);
        } else {
            let point = (len + self.exponent) as usize;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
        out
    }

    fn signum(&self) -> i8 {
        match (self.digits.is_empty(), self.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let sign = self.signum().cmp(&other.signum());
        if sign != Ordering::Equal || self.signum() == 0 {
            return sign;
        }
        // Same sign: compare magnitudes by the position of the leading digit, then by the
        // digits themselves (neither has trailing zeros, so a longer run is larger).
        let lead = |d: &Decimal| d.digits.len() as i64 + d.exponent;
        let magnitude = lead(self)
            .cmp(&lead(other))
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

/// Just enough of an unsigned big integer to write out the exact value of an `f64`.
struct BigUint {
    /// Base 10^9 limbs, least significant first.
    limbs: Vec<u32>,
}

impl BigUint {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut value: u64) -> BigUint {
        let mut limbs = Vec::new();
        while value > 0 {
            limbs.push((value % Self::BASE) as u32);
            value /= Self::BASE;
        }
        BigUint { limbs }
    }

    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % Self::BASE) as u32;
            carry = product / Self::BASE;
        }
        while carry > 0 {
            self.limbs.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    /// Multiplies by `base^count` for a base of 2 or 5, in chunks that fit a `u32`.
    fn mul_pow(&mut self, base: u32, mut count: i64) {
        let chunk: u32 = if base == 2 { 29 } else { 13 };
        while count > 0 {
            let step = count.min(i64::from(chunk)) as u32;
            self.mul_small(base.pow(step));
            count -= i64::from(step);
        }
    }
}

impl fmt::Display for BigUint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut limbs = self.limbs.iter().rev();
        match limbs.next() {
            Some(first) => write!(f, "{first}")?,
            None => return f.write_str("0"),
        }
        for limb in limbs {
            write!(f, "{limb:09}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        text.parse().unwrap()
    }

    #[test]
    fn integer_and_decimal_text_compare_by_value() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), n("10e-1"));
        assert_eq!(n("-0"), Number::ZERO);
        assert_eq!(n("1.50"), Number::from_f64(1.5).unwrap());
        assert!(n("0.1") < n("0.11"));
        assert!(n("-2") < n("-1.5"));
        assert!(n("123456789012345678901234567890") > Number::from_i64(i64::MAX));
        assert!(n("-inf") < n("-123456789012345678901234567890"));
    }

    #[test]
    fn f64_values_are_exact_binary_values() {
        let tenth = Number::from_f64(0.1).unwrap();
        assert_ne!(tenth, n("0.1"));
        assert_eq!(tenth.to_string(), "0.1");
        assert_eq!(tenth.as_f64(), 0.1);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert!(Number::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn display_is_plain_decimal() {
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("-1.25e-3").to_string(), "-0.00125");
        assert_eq!(
            n("123456789012345678901234567890").to_string(),
            "123456789012345678901234567890"
        );
        assert_eq!(
            Number::from_f64(1e21).unwrap().to_string(),
            "1000000000000000000000"
        );
        assert_eq!(
            Number::from_f64(f64::NEG_INFINITY).unwrap().to_string(),
            "-Inf"
        );
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("1.5").as_i64(), None);
        assert!(n("1e30").is_integer());
    }

    #[test]
    fn wire_form_follows_terraform() {
        assert_eq!(n("42").wire(), WireNumber::Int(42));
        assert_eq!(n("0.5").wire(), WireNumber::Float(0.5));
        assert_eq!(n("0.1").wire(), WireNumber::Text("0.1".into()));
        assert_eq!(
            n("18446744073709551616").wire(),
            WireNumber::Float(18446744073709551616.0)
        );
        assert_eq!(
            n("18446744073709551615").wire(),
            WireNumber::Text("18446744073709551615".into())
        );
    }

    #[test]
    fn rejects_malformed_text() {
        for text in [
            "",
            "-",
            ".",
            "1e",
            "1e+",
            "abc",
            "1.2.3",
            "0x10",
            "NaN",
            "1e99999999",
        ] {
            assert!(text.parse::<Number>().is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn exact_f64_expansion() {
        let decimal = Decimal::from_f64(0.1);
        assert_eq!(
            decimal.to_plain_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Decimal::from_f64(5e-324).exact_f64(), Some(5e-324));
        assert_eq!(Decimal::from_f64(f64::MAX).exact_f64(), Some(f64::MAX));
    }
}
