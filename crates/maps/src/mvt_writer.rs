//! One MVT layer written straight to bytes, feature by feature: the bytes the `mvt` crate
//! makes of the same features (its prost encoding: fields in field number order, tags and
//! geometry packed, keys and values in order of first use, values shared by equal content),
//! without its per-feature protobuf structs and value table copies, which held several times
//! a large tile's size while it was built (issue 11: the archive's peak memory). Compared with
//! the `mvt` crate in `vector_tiles`' tests.

use std::collections::HashMap;

/// A feature's attribute value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    /// A string (`string_value`).
    Str(&'a str),
    /// A number (`double_value`).
    Double(f64),
}

/// What makes two values one entry of the layer's value table (as in the `mvt` crate: the
/// string, or the number's bits with both zeros alike).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    Str(&'a str),
    Double(u64),
}

/// A layer being written: its features encoded as they come, its keys and values tables.
pub(crate) struct LayerWriter<'a> {
    name: &'a str,
    extent: u32,
    /// The layer's `features` fields (tag, length, feature), in order.
    features: Vec<u8>,
    count: usize,
    keys: Vec<&'a str>,
    /// The layer's `values` fields (tag, length, value), in table order.
    values: Vec<u8>,
    value_ids: HashMap<ValueKey<'a>, u32>,
    /// One feature's tags (key, value) as table indices, reused.
    tags: Vec<u32>,
}

/// Field keys (field number and wire type) of the MVT protobuf messages.
const TILE_LAYERS: u8 = 3 << 3 | 2;
const LAYER_VERSION: u8 = 15 << 3;
const LAYER_NAME: u8 = 1 << 3 | 2;
const LAYER_FEATURES: u8 = 2 << 3 | 2;
const LAYER_KEYS: u8 = 3 << 3 | 2;
const LAYER_VALUES: u8 = 4 << 3 | 2;
const LAYER_EXTENT: u8 = 5 << 3;
const FEATURE_ID: u8 = 1 << 3;
const FEATURE_TAGS: u8 = 2 << 3 | 2;
const FEATURE_TYPE: u8 = 3 << 3;
const FEATURE_GEOMETRY: u8 = 4 << 3 | 2;
const VALUE_STRING: u8 = 1 << 3 | 2;
const VALUE_DOUBLE: u8 = 3 << 3 | 1;
/// `GeomType::Polygon`.
const POLYGON: u8 = 3;

impl<'a> LayerWriter<'a> {
    /// An empty layer named `name` with this extent (tile units).
    pub(crate) fn new(name: &'a str, extent: u32) -> Self {
        LayerWriter {
            name,
            extent,
            features: Vec::new(),
            count: 0,
            keys: Vec::new(),
            values: Vec::new(),
            value_ids: HashMap::new(),
            tags: Vec::new(),
        }
    }

    /// Adds a polygon feature: its id, attributes (in order) and geometry (the command
    /// integers as packed varints, `tile_geometry::encode_rings_packed`).
    pub(crate) fn polygon(
        &mut self,
        id: u64,
        attributes: impl IntoIterator<Item = (&'a str, Value<'a>)>,
        geometry: &[u8],
    ) {
        self.tags.clear();
        for (key, value) in attributes {
            let k = match self.keys.iter().position(|&k| k == key) {
                Some(k) => k,
                None => {
                    self.keys.push(key);
                    self.keys.len() - 1
                }
            };
            let vkey = match value {
                Value::Str(s) => ValueKey::Str(s),
                Value::Double(x) => ValueKey::Double(if x == 0.0 { 0 } else { x.to_bits() }),
            };
            let next = self.value_ids.len() as u32;
            let v = *self.value_ids.entry(vkey).or_insert_with(|| {
                let mut body = Vec::new();
                match value {
                    Value::Str(s) => put_bytes(&mut body, VALUE_STRING, s.as_bytes()),
                    Value::Double(x) => {
                        body.push(VALUE_DOUBLE);
                        body.extend_from_slice(&x.to_le_bytes());
                    }
                }
                put_bytes(&mut self.values, LAYER_VALUES, &body);
                next
            });
            self.tags.push(k as u32);
            self.tags.push(v);
        }
        let tags_len: usize = self.tags.iter().map(|&t| varint_len(u64::from(t))).sum();
        let mut len = 1 + varint_len(id) + 2;
        if !self.tags.is_empty() {
            len += 1 + varint_len(tags_len as u64) + tags_len;
        }
        if !geometry.is_empty() {
            len += 1 + varint_len(geometry.len() as u64) + geometry.len();
        }
        let out = &mut self.features;
        out.reserve(1 + varint_len(len as u64) + len);
        out.push(LAYER_FEATURES);
        put_varint(out, len as u64);
        out.push(FEATURE_ID);
        put_varint(out, id);
        if !self.tags.is_empty() {
            out.push(FEATURE_TAGS);
            put_varint(out, tags_len as u64);
            for &t in &self.tags {
                put_varint(out, u64::from(t));
            }
        }
        out.push(FEATURE_TYPE);
        out.push(POLYGON);
        if !geometry.is_empty() {
            put_bytes(out, FEATURE_GEOMETRY, geometry);
        }
        self.count += 1;
    }

    /// The tile holding this layer, or no bytes at all when it has no feature (a tile with
    /// no layer).
    pub(crate) fn finish(self) -> Vec<u8> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut head = Vec::with_capacity(self.name.len() + 4);
        put_bytes(&mut head, LAYER_NAME, self.name.as_bytes());
        let mut tail = Vec::new();
        for key in &self.keys {
            put_bytes(&mut tail, LAYER_KEYS, key.as_bytes());
        }
        let mut end = vec![LAYER_EXTENT];
        put_varint(&mut end, u64::from(self.extent));
        end.push(LAYER_VERSION);
        put_varint(&mut end, 2);
        let len = head.len() + self.features.len() + tail.len() + self.values.len() + end.len();
        let mut out = Vec::with_capacity(1 + varint_len(len as u64) + len);
        out.push(TILE_LAYERS);
        put_varint(&mut out, len as u64);
        for part in [&head, &self.features, &tail, &self.values, &end] {
            out.extend_from_slice(part);
        }
        out
    }
}

/// Appends a length-delimited field: its key, the length, the bytes.
fn put_bytes(out: &mut Vec<u8>, key: u8, bytes: &[u8]) {
    out.push(key);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a protobuf varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The length of a protobuf varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_as_long_as_written() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn a_layer_without_features_is_no_tile() {
        assert!(LayerWriter::new("x", 4096).finish().is_empty());
    }
}
