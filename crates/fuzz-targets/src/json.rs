//! Structured mutations of a JSON document (GeoJSON, TopoJSON): a node chosen by its position in
//! a pre-order walk is replaced, removed, duplicated or wrapped, so the result is still JSON but
//! breaks the shape the reader expects (a ring of one position, a string where a number was, a
//! coordinate of 1e308, nesting deeper than the parser allows).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// One structural edit; `node` is taken modulo the number of nodes.
#[derive(Clone, Debug)]
pub enum JsonMutation {
    /// Replace the node with a troublesome value.
    Replace(u32, Replacement),
    /// Remove the node from its array or object.
    Remove(u32),
    /// Repeat the node in its array (or nothing, in an object).
    Duplicate(u32),
    /// Wrap the node in `depth` arrays.
    Wrap(u32, u16),
    /// Drop all but the first `keep` items of the array (or members of the object).
    Shorten(u32, u8),
}

/// A value put in place of a node.
#[derive(Clone, Debug)]
pub enum Replacement {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A finite number (huge, tiny, negative zero...).
    Number(f64),
    /// An integer beyond what a float holds exactly.
    BigInt(u64),
    /// A negative integer.
    NegInt(i64),
    /// A string.
    Text(String),
    /// An empty array.
    EmptyArray,
    /// An empty object.
    EmptyObject,
    /// A position of 1 or 3 numbers instead of 2.
    OddPosition(u8),
}

fn replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        Just(Replacement::Null),
        any::<bool>().prop_map(Replacement::Bool),
        prop_oneof![
            Just(1.797_693_134_862_315_7e308),
            Just(-1.797_693_134_862_315_7e308),
            Just(5e-324),
            Just(-0.0),
            Just(1e20),
            Just(-181.0),
            Just(91.0),
            any::<f64>().prop_filter("finite", |x| x.is_finite()),
        ]
        .prop_map(Replacement::Number),
        any::<u64>().prop_map(Replacement::BigInt),
        any::<i64>().prop_map(Replacement::NegInt),
        crate::nasty_text().prop_map(Replacement::Text),
        Just(Replacement::EmptyArray),
        Just(Replacement::EmptyObject),
        (0..4u8).prop_map(Replacement::OddPosition),
    ]
}

/// One structural edit anywhere.
pub fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    prop_oneof![
        4 => (any::<u32>(), replacement()).prop_map(|(n, r)| JsonMutation::Replace(n, r)),
        2 => any::<u32>().prop_map(JsonMutation::Remove),
        1 => any::<u32>().prop_map(JsonMutation::Duplicate),
        1 => (any::<u32>(), prop_oneof![1..8u16, Just(200u16), Just(2_000u16)])
            .prop_map(|(n, d)| JsonMutation::Wrap(n, d)),
        1 => (any::<u32>(), 0..4u8).prop_map(|(n, k)| JsonMutation::Shorten(n, k)),
    ]
}

/// Up to `max` structural edits.
pub fn json_mutations(max: usize) -> impl Strategy<Value = Vec<JsonMutation>> {
    proptest::collection::vec(json_mutation(), 0..=max)
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// The node at pre-order position `n` (0 is the root).
fn node_mut(v: &mut Value, n: usize) -> Option<&mut Value> {
    if n == 0 {
        return Some(v);
    }
    let mut n = n - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return None,
    };
    for child in children {
        let c = count(child);
        if n < c {
            return node_mut(child, n);
        }
        n -= c;
    }
    None
}

/// The parent of pre-order node `n` and the child's index (array) or key (object) in it.
fn parent_of(v: &mut Value, n: usize) -> Option<(&mut Value, Result<usize, String>)> {
    let mut n = n.checked_sub(1)?;
    let keys: Vec<Result<usize, String>> = match v {
        Value::Array(a) => (0..a.len()).map(Ok).collect(),
        Value::Object(o) => o.keys().cloned().map(Err).collect(),
        _ => return None,
    };
    let mut found = None;
    for key in keys {
        let child = match (&*v, &key) {
            (Value::Array(a), Ok(i)) => &a[*i],
            (Value::Object(o), Err(k)) => &o[k],
            _ => return None,
        };
        let c = count(child);
        if n == 0 {
            found = Some((key, None));
            break;
        }
        if n < c {
            found = Some((key, Some(n)));
            break;
        }
        n -= c;
    }
    match found? {
        (key, None) => Some((v, key)),
        (key, Some(inner)) => {
            let child = match (v, &key) {
                (Value::Array(a), Ok(i)) => &mut a[*i],
                (Value::Object(o), Err(k)) => o.get_mut(k)?,
                _ => return None,
            };
            parent_of(child, inner)
        }
    }
}

fn value_of(r: &Replacement) -> Value {
    match r {
        Replacement::Null => Value::Null,
        Replacement::Bool(b) => Value::Bool(*b),
        Replacement::Number(x) => json!(x),
        Replacement::BigInt(n) => json!(n),
        Replacement::NegInt(n) => json!(n),
        Replacement::Text(s) => Value::String(s.clone()),
        Replacement::EmptyArray => Value::Array(vec![]),
        Replacement::EmptyObject => Value::Object(Map::new()),
        Replacement::OddPosition(k) => Value::Array((0..*k).map(|i| json!(f64::from(i))).collect()),
    }
}

/// `doc` with `edits` applied in order.
pub fn apply(doc: &Value, edits: &[JsonMutation]) -> Value {
    let mut doc = doc.clone();
    for e in edits {
        let total = count(&doc);
        match e {
            JsonMutation::Replace(n, r) => {
                if let Some(node) = node_mut(&mut doc, *n as usize % total) {
                    *node = value_of(r);
                }
            }
            JsonMutation::Remove(n) => {
                if let Some((parent, key)) = parent_of(&mut doc, *n as usize % total) {
                    match (parent, key) {
                        (Value::Array(a), Ok(i)) => {
                            a.remove(i);
                        }
                        (Value::Object(o), Err(k)) => {
                            o.remove(&k);
                        }
                        _ => {}
                    }
                }
            }
            JsonMutation::Duplicate(n) => {
                if let Some((Value::Array(a), Ok(i))) = parent_of(&mut doc, *n as usize % total) {
                    let copy = a[i].clone();
                    a.insert(i, copy);
                }
            }
            JsonMutation::Wrap(n, depth) => {
                if let Some(node) = node_mut(&mut doc, *n as usize % total) {
                    let mut v = node.take();
                    for _ in 0..*depth {
                        v = Value::Array(vec![v]);
                    }
                    *node = v;
                }
            }
            JsonMutation::Shorten(n, keep) => match node_mut(&mut doc, *n as usize % total) {
                Some(Value::Array(a)) => a.truncate(usize::from(*keep)),
                Some(Value::Object(o)) => {
                    let keys: Vec<String> = o.keys().skip(usize::from(*keep)).cloned().collect();
                    for k in keys {
                        o.remove(&k);
                    }
                }
                _ => {}
            },
        }
    }
    doc
}

/// JSON text of a value nested deeper than serde's recursion limit, written without recursion
/// (serde_json would overflow the stack serialising it).
pub fn to_text(v: &Value) -> Vec<u8> {
    // Peel off single-element array wrappers: write them as brackets around the inner value.
    let mut depth = 0usize;
    let mut inner = v;
    while let Value::Array(a) = inner {
        if a.len() != 1 || depth > 100_000 {
            break;
        }
        depth += 1;
        inner = &a[0];
    }
    let mut out = vec![b'['; depth];
    out.extend(serde_json::to_vec(inner).unwrap_or_default());
    out.extend(std::iter::repeat_n(b']', depth));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_numbered_in_pre_order() {
        let doc = json!({"a": [1, 2], "b": {"c": 3}});
        // 0 root, 1 a, 2 a[0], 3 a[1], 4 b, 5 c
        assert_eq!(
            apply(&doc, &[JsonMutation::Replace(3, Replacement::Null)]),
            json!({"a": [1, null], "b": {"c": 3}})
        );
        assert_eq!(
            apply(&doc, &[JsonMutation::Remove(2)]),
            json!({"a": [2], "b": {"c": 3}})
        );
        assert_eq!(
            apply(&doc, &[JsonMutation::Remove(5)]),
            json!({"a": [1, 2], "b": {}})
        );
        assert_eq!(
            apply(&doc, &[JsonMutation::Duplicate(2)]),
            json!({"a": [1, 1, 2], "b": {"c": 3}})
        );
        assert_eq!(
            apply(&doc, &[JsonMutation::Wrap(5, 2)]),
            json!({"a": [1, 2], "b": {"c": [[3]]}})
        );
        assert_eq!(to_text(&json!([[[1]]])), b"[[[1]]]");
    }
}
