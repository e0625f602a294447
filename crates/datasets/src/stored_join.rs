//! Each stored version keeps its join with its layer (values per district and the join
//! summary), so start-up decodes it instead of joining every stored table again: 100 stored
//! versions of a 6,527-row table then cost a decode on the preload thread, not 100 joins after
//! the layers load (issue 16; BENCHMARKS.md section 11). A stored join is tied to the layer's
//! codes and names and to the program that made it: after a changed boundary file or a new
//! placemap the table is joined again, and the new join stored in place of the old.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detect::KnownLayer;
use crate::join::{JoinSummary, Joined};

/// First bytes of an encoded join (format and version).
const MAGIC: &[u8] = b"placemap-join-1\n";

/// A version's join, as stored beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredJoin {
    /// [`layer_key`] of the layer it was made against.
    pub layer_key: String,
    /// Each indicator aligned with the layer's districts.
    pub joined: Vec<Joined>,
    /// How the table met the layer.
    pub summary: JoinSummary,
}

/// SHA-256 (32 hex digits) of the program, the layer id and its codes and names in order:
/// what a join's output depends on besides the table. `None` when the running program
/// cannot be identified.
pub fn layer_key(layer: &KnownLayer) -> Option<String> {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(districts::prepared::program_identity()?);
    h.update(layer.id.as_bytes());
    for (code, name) in layer.codes.iter().zip(&layer.names) {
        h.update([0]);
        h.update(code.as_bytes());
        h.update([1]);
        h.update(name.as_bytes());
    }
    let digest = h.finalize();
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// [`StoredJoin`] borrowed: the same encoding, without copying the joined values.
#[derive(Serialize)]
struct StoredJoinRef<'a> {
    layer_key: &'a str,
    joined: &'a [Joined],
    summary: &'a JoinSummary,
}

impl StoredJoin {
    /// The bytes to store for a join made against `layer` (`None` when the layer has no key).
    pub fn encode_for(
        layer: &KnownLayer,
        joined: &[Joined],
        summary: &JoinSummary,
    ) -> Option<Vec<u8>> {
        Some(encode_ref(&StoredJoinRef {
            layer_key: layer.join_key()?,
            joined,
            summary,
        }))
    }

    /// The bytes stored in the database.
    pub fn encode(&self) -> Vec<u8> {
        encode_ref(&StoredJoinRef {
            layer_key: &self.layer_key,
            joined: &self.joined,
            summary: &self.summary,
        })
    }

    /// Reads [`StoredJoin::encode`]'s bytes; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<StoredJoin, String> {
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| "not a stored join of this format".to_string())?;
        postcard::from_bytes(body).map_err(|e| e.to_string())
    }

    /// Whether it was made against `layer` as loaded now (same codes, names and program).
    pub fn fits(&self, layer: &KnownLayer) -> bool {
        layer.join_key() == Some(self.layer_key.as_str())
    }
}

fn encode_ref(join: &StoredJoinRef<'_>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    // Serialising owned strings and numbers into a Vec cannot fail.
    out.extend(postcard::to_stdvec(join).unwrap_or_default());
    out
}
