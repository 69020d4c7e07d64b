//! SM2 digital signatures (GB/T 32918.2, with SM3) on arithmetic specialised for the SM2
//! curve: Montgomery multiplication modulo its prime, Jacobian formulas for a = −3, a
//! precomputed table of the base point's multiples for signing (constant time), and
//! optional tables for verification keys that verify many signatures.
//!
//! Signatures are deterministic (the nonce by RFC 6979 with HMAC-SM3), so for the same key
//! and message they are the bytes RustCrypto's `sm2` crate makes; its implementation is the
//! reference this crate is tested against, and the fallback for the inputs (a handful of
//! nonces out of 2²⁵⁶) where the table's additions would meet their own operand.

mod field;
mod point;

use std::sync::OnceLock;

use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::ops::Reduce;
use sm2::{FieldBytes, Scalar, U256};
use sm3::{Digest, Sm3};
use zeroize::Zeroize;

use field::Fe;
use point::{Affine, G, Jacobian, Table};

/// The default distinguishing identifier of GB/T 35276.
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// The group order n.
const ORDER_HEX: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123";

/// p − n: an x below it has two representatives modulo n (x and x + n are both below p).
const P_MINUS_N: [u8; 32] = {
    let mut bytes = [0u8; 32];
    let high: [u8; 16] = 0x8dfc_2094_de39_fad4_ac44_0bf6_c62a_bedc_u128.to_be_bytes();
    let mut i = 0;
    while i < 16 {
        bytes[16 + i] = high[i];
        i += 1;
    }
    bytes
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Not a valid private key, public key or identifier.
    BadKey,
    /// Malformed, or does not verify.
    BadSignature,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Error::BadKey => "invalid SM2 key",
            Error::BadSignature => "SM2 signature does not verify",
        })
    }
}

impl std::error::Error for Error {}

/// The base point's table, built on first use (about a millisecond) and shared.
fn base_table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::new(&G))
}

fn scalar_bytes(scalar: &Scalar) -> [u8; 32] {
    scalar.to_repr().into()
}

fn reduce(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*bytes))
}

/// A scalar in [1, n − 1] from 32 big-endian bytes.
fn nonzero_scalar(bytes: &[u8]) -> Option<Scalar> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    let scalar = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(bytes)))?;
    (!bool::from(scalar.is_zero())).then_some(scalar)
}

/// A public key with the hash Z of the signer's identity (GB/T 32918.2, 5.5) it signs under.
#[derive(Clone)]
pub struct VerifyingKey {
    point: Affine,
    identity_hash: [u8; 32],
    table: Option<std::sync::Arc<Table>>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sm2::VerifyingKey({:02x?})", &self.to_sec1()[1..9])
    }
}

impl VerifyingKey {
    /// From a SEC1 point (uncompressed 04‖x‖y or compressed 02/03‖x) and the signer's
    /// identifier; the point must lie on the curve.
    pub fn from_sec1(bytes: &[u8], id: &[u8]) -> Result<VerifyingKey, Error> {
        let coordinate = |range: std::ops::Range<usize>| -> Result<Fe, Error> {
            let raw: [u8; 32] = bytes[range].try_into().map_err(|_| Error::BadKey)?;
            Fe::from_bytes(&raw).ok_or(Error::BadKey)
        };
        let point = match (bytes.first(), bytes.len()) {
            (Some(4), 65) => {
                let point = Affine {
                    x: coordinate(1..33)?,
                    y: coordinate(33..65)?,
                };
                if !point.is_on_curve() {
                    return Err(Error::BadKey);
                }
                point
            }
            (Some(tag @ (2 | 3)), 33) => {
                Affine::decompress(coordinate(1..33)?, *tag == 3).ok_or(Error::BadKey)?
            }
            _ => return Err(Error::BadKey),
        };
        Self::from_point(point, id)
    }

    fn from_point(point: Affine, id: &[u8]) -> Result<VerifyingKey, Error> {
        let bits = id.len().checked_mul(8).ok_or(Error::BadKey)?;
        let entl = u16::try_from(bits).map_err(|_| Error::BadKey)?;
        const A: [u8; 32] = {
            let mut a = [0xffu8; 32];
            a[3] = 0xfe;
            a[20] = 0;
            a[21] = 0;
            a[22] = 0;
            a[23] = 0;
            a[31] = 0xfc;
            a
        };
        let mut hasher = Sm3::new();
        hasher.update(entl.to_be_bytes());
        hasher.update(id);
        hasher.update(A);
        hasher.update(point::B_BYTES);
        hasher.update(G.x.to_bytes());
        hasher.update(G.y.to_bytes());
        hasher.update(point.x.to_bytes());
        hasher.update(point.y.to_bytes());
        Ok(VerifyingKey {
            point,
            identity_hash: hasher.finalize().into(),
            table: None,
        })
    }

    /// The uncompressed SEC1 encoding, 04‖x‖y.
    pub fn to_sec1(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 4;
        out[1..33].copy_from_slice(&self.point.x.to_bytes());
        out[33..].copy_from_slice(&self.point.y.to_bytes());
        out
    }

    /// Precomputes this key's multiples (about a millisecond and 90 KiB), after which each
    /// verification under it costs about a third of one without: for the few keys that
    /// verify most codes.
    pub fn with_table(mut self) -> VerifyingKey {
        self.table = Some(std::sync::Arc::new(Table::new(&self.point)));
        self
    }

    /// e = SM3(Z ‖ message), reduced modulo n.
    fn digest(&self, message: &[u8]) -> Scalar {
        let mut hasher = Sm3::new();
        hasher.update(self.identity_hash);
        hasher.update(message);
        let e: [u8; 32] = hasher.finalize().into();
        reduce(&e)
    }

    /// Checks a 64-byte signature r‖s over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if signature.len() != 64 {
            return Err(Error::BadSignature);
        }
        let r = nonzero_scalar(&signature[..32]).ok_or(Error::BadSignature)?;
        let s = nonzero_scalar(&signature[32..]).ok_or(Error::BadSignature)?;
        let t = r + s;
        if bool::from(t.is_zero()) {
            return Err(Error::BadSignature);
        }
        let e = self.digest(message);
        // (x1, y1) = s·G + t·P; the signature holds when (e + x1) mod n = r.
        let (t_bytes, s_bytes) = (scalar_bytes(&t), scalar_bytes(&s));
        let sum = match &self.table {
            Some(table) => {
                base_table().mul_vartime(&s_bytes, table.mul_vartime(&t_bytes, Jacobian::IDENTITY))
            }
            None => point::mul_add_base_vartime(&self.point, &t_bytes, &s_bytes),
        };
        if sum.is_identity() {
            return Err(Error::BadSignature);
        }
        // x1 ≡ r − e (mod n): x1 is that value c, or c + n when that is still below p.
        let c = scalar_bytes(&(r - e));
        let c_field = Fe::from_bytes(&c).ok_or(Error::BadSignature)?;
        if sum.has_x(&c_field) {
            return Ok(());
        }
        if c < P_MINUS_N {
            let x1 = sum.to_affine().ok_or(Error::BadSignature)?.x.to_bytes();
            if reduce(&x1) == r - e {
                return Ok(());
            }
        }
        Err(Error::BadSignature)
    }
}

/// What one nonce gave.
enum Nonce {
    Signed([u8; 64]),
    /// r or s came out zero: draw the next nonce.
    Unsuitable,
    /// The table's additions met their own operand: sign by the reference implementation.
    Exceptional,
}

/// A private key, with (1 + d)⁻¹ kept beside it: every signature needs it.
pub struct SigningKey {
    secret: Scalar,
    inverse_one_plus_d: Scalar,
    public: VerifyingKey,
    /// RustCrypto's key, for the nonces where the table cannot be used.
    reference: sm2::dsa::SigningKey,
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.secret.zeroize();
        self.inverse_one_plus_d.zeroize();
    }
}

impl SigningKey {
    /// From 32 big-endian bytes d ∈ [1, n − 2] (d = n − 1 has no inverse of 1 + d).
    pub fn from_bytes(secret: &[u8], id: &[u8]) -> Result<SigningKey, Error> {
        let d = nonzero_scalar(secret).ok_or(Error::BadKey)?;
        let inverse = Option::<Scalar>::from((d + Scalar::ONE).invert()).ok_or(Error::BadKey)?;
        let (public, _) = base_table().mul_ct(&scalar_bytes(&d));
        let public = public.to_affine().ok_or(Error::BadKey)?;
        let distid = std::str::from_utf8(id).map_err(|_| Error::BadKey)?;
        let reference =
            sm2::dsa::SigningKey::from_slice(distid, secret).map_err(|_| Error::BadKey)?;
        Ok(SigningKey {
            secret: d,
            inverse_one_plus_d: inverse,
            public: VerifyingKey::from_point(public, id)?,
            reference,
        })
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Signs `message`: 64 bytes r‖s.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let e = self.public.digest(message);
        let e_bytes = scalar_bytes(&e);
        let order = U256::from_be_hex(ORDER_HEX);
        let mut secret = scalar_bytes(&self.secret);
        let mut nonces = rfc6979::KGenerator::<Sm3, U256>::new(&secret, &e_bytes, &[], &order);
        secret.zeroize();
        loop {
            let mut k_bytes = [0u8; 32];
            nonces.fill_next_k(&mut k_bytes);
            let outcome = self.sign_with_nonce(&e, &k_bytes);
            k_bytes.zeroize();
            match outcome {
                Nonce::Signed(signature) => return signature,
                Nonce::Exceptional => return self.sign_by_reference(message),
                Nonce::Unsuitable => continue,
            }
        }
    }

    /// Steps A4–A7 of GB/T 32918.2 for a digest e and a nonce k.
    fn sign_with_nonce(&self, e: &Scalar, k_bytes: &[u8; 32]) -> Nonce {
        let Some(k) = nonzero_scalar(k_bytes) else {
            return Nonce::Unsuitable;
        };
        let (point, exceptional) = base_table().mul_ct(k_bytes);
        if exceptional != 0 {
            return Nonce::Exceptional;
        }
        let Some(point) = point.to_affine() else {
            return Nonce::Unsuitable;
        };
        let r = *e + reduce(&point.x.to_bytes());
        if bool::from(r.is_zero() | (r + k).is_zero()) {
            return Nonce::Unsuitable;
        }
        let s = self.inverse_one_plus_d * (k - r * self.secret);
        if bool::from(s.is_zero()) {
            return Nonce::Unsuitable;
        }
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&scalar_bytes(&r));
        out[32..].copy_from_slice(&scalar_bytes(&s));
        Nonce::Signed(out)
    }

    fn sign_by_reference(&self, message: &[u8]) -> [u8; 64] {
        use sm2::dsa::signature::Signer as _;
        let signature: sm2::dsa::Signature = self.reference.sign(message);
        signature.to_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes32(hex: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    /// The example of GB/T 32918.5-2017 Annex A (also GM/T 0003.5-2012): the recommended
    /// curve, the default identifier 1234567812345678, message "message digest", a fixed nonce.
    #[test]
    fn the_standards_example_signs_and_verifies_to_its_published_values() {
        let id = DEFAULT_ID;
        let d = bytes32("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
        let key = SigningKey::from_bytes(&d, id).expect("key");
        let public = key.verifying_key().to_sec1();
        assert_eq!(
            public[1..33],
            bytes32("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020")
        );
        assert_eq!(
            public[33..],
            bytes32("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
        );
        let k = bytes32("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21");
        let e = key.verifying_key().digest(b"message digest");
        let Nonce::Signed(signature) = key.sign_with_nonce(&e, &k) else {
            panic!("the example's nonce signs");
        };
        assert_eq!(
            signature[..32],
            bytes32("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
        );
        assert_eq!(
            signature[32..],
            bytes32("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
        );
        let verifying = VerifyingKey::from_sec1(&public, id).expect("public key");
        assert_eq!(verifying.verify(b"message digest", &signature), Ok(()));
        assert_eq!(
            verifying
                .clone()
                .with_table()
                .verify(b"message digest", &signature),
            Ok(())
        );
        assert_eq!(
            verifying.verify(b"message digesT", &signature),
            Err(Error::BadSignature)
        );
        assert_eq!(
            key.verifying_key().identity_hash,
            bytes32("B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3")
        );
        // The same key under another identifier is another key.
        let other = VerifyingKey::from_sec1(&public, b"ALICE123@YAHOO.COM").expect("public key");
        assert!(other.verify(b"message digest", &signature).is_err());
    }
}
