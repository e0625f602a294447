//! Byte and line mutations of a seed file, as a list of [`Mutation`]s that proptest generates
//! and shrinks (a failing list shrinks to the fewest, earliest edits). Positions are taken
//! modulo the current length, so every mutation applies to every input.

use proptest::prelude::*;

/// Text that troubles readers: numbers out of range, non-numbers, markers, separators, quotes,
/// BOMs, NULs, deep nesting, very long cells.
pub const TOKENS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "99999999999999999999999999999",
    "18446744073709551616",
    "4294967296",
    "-9223372036854775809",
    "1.7976931348623157e308",
    "5e-324",
    "-0",
    "0x1F",
    "1,000",
    "12.5%",
    "..",
    "*",
    "c",
    "x",
    "-",
    ":",
    "1e",
    "1.2.3",
    "",
    " ",
    "\"",
    "\"\"",
    "'",
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\0",
    "\u{feff}",
    "\u{fffd}",
    "\u{202e}",
    "Ynys Môn",
    "null",
    "true",
    "[]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":",
    "E06000001",
    "E09000999",
    "W06000001",
    "e06000001 ",
    "../../../../etc/passwd",
    "%00",
    "%zz",
    "%ff%fe",
    "&&&",
    "==",
    "a=b=c",
    "+",
];

/// One edit of a byte string.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Cut the input at a position.
    Truncate(u32),
    /// Flip one bit of one byte.
    FlipBit(u32, u8),
    /// Overwrite one byte.
    SetByte(u32, u8),
    /// Delete up to `len` bytes from a position.
    Delete(u32, u16),
    /// Copy up to `len` bytes from a position in place (repeating them once).
    Duplicate(u32, u16),
    /// Insert one of [`TOKENS`] at a position.
    InsertToken(u32, usize),
    /// Replace the nth number in the text with one of [`TOKENS`].
    ReplaceNumber(u32, usize),
    /// Delete the nth line.
    DeleteLine(u32),
    /// Repeat the nth line.
    DuplicateLine(u32),
    /// Swap two lines.
    SwapLines(u32, u32),
    /// Replace every occurrence of one delimiter byte with another.
    SwapBytes(u8, u8),
    /// Line ends: LF to CRLF.
    Crlf,
    /// Repeat a range of bytes many times (a long cell, a long line).
    Repeat(u32, u16, u16),
}

const DELIMITERS: &[u8] = b",;\t\"'\n\r: {}[]0.-";

/// One mutation, positions anywhere.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let token = 0..TOKENS.len();
    // More than ten arms of different types: proptest's union needs them boxed.
    prop_oneof![
        1 => any::<u32>().prop_map(Mutation::Truncate).boxed(),
        2 => (any::<u32>(), 0..8u8).prop_map(|(p, b)| Mutation::FlipBit(p, b)).boxed(),
        2 => (any::<u32>(), any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)).boxed(),
        1 => (any::<u32>(), 0..64u16).prop_map(|(p, n)| Mutation::Delete(p, n)).boxed(),
        1 => (any::<u32>(), 0..64u16).prop_map(|(p, n)| Mutation::Duplicate(p, n)).boxed(),
        2 => (any::<u32>(), token.clone()).prop_map(|(p, t)| Mutation::InsertToken(p, t)).boxed(),
        3 => (any::<u32>(), token).prop_map(|(n, t)| Mutation::ReplaceNumber(n, t)).boxed(),
        1 => any::<u32>().prop_map(Mutation::DeleteLine).boxed(),
        1 => any::<u32>().prop_map(Mutation::DuplicateLine).boxed(),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)).boxed(),
        1 => (
            proptest::sample::select(DELIMITERS),
            proptest::sample::select(DELIMITERS)
        )
            .prop_map(|(a, b)| Mutation::SwapBytes(a, b))
            .boxed(),
        1 => Just(Mutation::Crlf).boxed(),
        1 => (any::<u32>(), 1..32u16, 1..2_000u16)
            .prop_map(|(p, n, k)| Mutation::Repeat(p, n, k))
            .boxed(),
    ]
}

/// Up to `max` mutations.
pub fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 0..=max)
}

/// `seed` with `edits` applied in order.
pub fn apply(seed: &[u8], edits: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in edits {
        apply_one(&mut bytes, m);
    }
    bytes
}

fn at(bytes: &[u8], p: u32) -> usize {
    p as usize % (bytes.len() + 1)
}

fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            spans.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        spans.push((start, bytes.len()));
    }
    spans
}

/// Spans of number-like runs: an optional sign, a digit, then digits, `.`, `e`, `E`, signs.
fn number_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let signed =
            matches!(bytes[i], b'-' | b'+') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if bytes[i].is_ascii_digit() || signed {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || b".eE+-".contains(&bytes[i])) {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn apply_one(bytes: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Truncate(p) => {
            let n = at(bytes, p);
            bytes.truncate(n);
        }
        Mutation::FlipBit(p, bit) => {
            if !bytes.is_empty() {
                let i = p as usize % bytes.len();
                bytes[i] ^= 1 << (bit % 8);
            }
        }
        Mutation::SetByte(p, v) => {
            if !bytes.is_empty() {
                let i = p as usize % bytes.len();
                bytes[i] = v;
            }
        }
        Mutation::Delete(p, n) => {
            let i = at(bytes, p);
            let j = (i + usize::from(n)).min(bytes.len());
            bytes.drain(i..j);
        }
        Mutation::Duplicate(p, n) => {
            let i = at(bytes, p);
            let j = (i + usize::from(n)).min(bytes.len());
            let copy = bytes[i..j].to_vec();
            bytes.splice(j..j, copy);
        }
        Mutation::InsertToken(p, t) => {
            let i = at(bytes, p);
            let token = TOKENS[t % TOKENS.len()].as_bytes();
            bytes.splice(i..i, token.iter().copied());
        }
        Mutation::ReplaceNumber(n, t) => {
            let spans = number_spans(bytes);
            if !spans.is_empty() {
                let (i, j) = spans[n as usize % spans.len()];
                let token = TOKENS[t % TOKENS.len()].as_bytes();
                bytes.splice(i..j, token.iter().copied());
            }
        }
        Mutation::DeleteLine(n) => {
            let spans = line_spans(bytes);
            if !spans.is_empty() {
                let (i, j) = spans[n as usize % spans.len()];
                bytes.drain(i..j);
            }
        }
        Mutation::DuplicateLine(n) => {
            let spans = line_spans(bytes);
            if !spans.is_empty() {
                let (i, j) = spans[n as usize % spans.len()];
                let copy = bytes[i..j].to_vec();
                bytes.splice(j..j, copy);
            }
        }
        Mutation::SwapLines(a, b) => {
            let spans = line_spans(bytes);
            if spans.len() >= 2 {
                let (a, b) = (a as usize % spans.len(), b as usize % spans.len());
                let (a, b) = (a.min(b), a.max(b));
                if a != b {
                    let (ai, aj) = spans[a];
                    let (bi, bj) = spans[b];
                    let mut out = bytes[..ai].to_vec();
                    out.extend_from_slice(&bytes[bi..bj]);
                    out.extend_from_slice(&bytes[aj..bi]);
                    out.extend_from_slice(&bytes[ai..aj]);
                    out.extend_from_slice(&bytes[bj..]);
                    *bytes = out;
                }
            }
        }
        Mutation::SwapBytes(from, to) => {
            for b in bytes.iter_mut() {
                if *b == from {
                    *b = to;
                }
            }
        }
        Mutation::Crlf => {
            let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
            for &b in bytes.iter() {
                if b == b'\n' {
                    out.push(b'\r');
                }
                out.push(b);
            }
            *bytes = out;
        }
        Mutation::Repeat(p, n, k) => {
            let i = at(bytes, p);
            let j = (i + usize::from(n)).min(bytes.len());
            let piece = bytes[i..j].to_vec();
            let repeated: Vec<u8> = piece
                .iter()
                .copied()
                .cycle()
                .take(piece.len() * usize::from(k))
                .collect();
            bytes.splice(j..j, repeated);
        }
    }
}

/// The first `lines` lines of a text file (the header and some records): a small seed.
pub fn head_lines(bytes: &[u8], lines: usize) -> Vec<u8> {
    let end = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(lines.saturating_sub(1))
        .map_or(bytes.len(), |(i, _)| i + 1);
    bytes[..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_where_they_say() {
        let seed = b"code,value\nE1,12.5\nE2,3\n";
        assert_eq!(apply(seed, &[Mutation::Truncate(4)]), b"code");
        assert_eq!(
            apply(seed, &[Mutation::ReplaceNumber(1, 0)]),
            b"code,value\nE1,1e400\nE2,3\n"
        );
        assert_eq!(
            apply(seed, &[Mutation::DeleteLine(1)]),
            b"code,value\nE2,3\n"
        );
        assert_eq!(
            apply(seed, &[Mutation::SwapLines(0, 2)]),
            b"E2,3\nE1,12.5\ncode,value\n"
        );
        assert_eq!(apply(b"a\nb", &[Mutation::Crlf]), b"a\r\nb");
        assert_eq!(head_lines(seed, 2), b"code,value\nE1,12.5\n");
        assert_eq!(apply(b"ab", &[Mutation::Repeat(0, 1, 3)]), b"aaaab");
    }
}
