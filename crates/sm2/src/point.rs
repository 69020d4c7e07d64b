//! Points of the SM2 curve y² = x³ − 3x + b in Jacobian coordinates (x = X/Z², y = Y/Z³), and
//! the two scalar multiplications a signature needs: by the base point through a precomputed
//! table (constant time, for the secret nonce), and by any point through width-5 NAF
//! (variable time, for public values only).

use std::sync::OnceLock;

use crate::field::{Fe, mask};

/// b of the curve equation, in Montgomery form.
const B: Fe = Fe([
    0x90d2_3063_2bc0_dd42,
    0x71cf_379a_e9b5_37ab,
    0x5279_8150_5ea5_1c3c,
    0x240f_e188_ba20_e2c8,
]);

/// b as 32 big-endian bytes, for the identity hash.
pub(crate) const B_BYTES: [u8; 32] = [
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7,
    0xf3, 0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
];

/// The base point G, in Montgomery form.
pub(crate) const G: Affine = Affine {
    x: Fe([
        0x6132_8990_f418_029e,
        0x3e79_81ed_dca6_c050,
        0xd6a1_ed99_ac24_c3c3,
        0x9116_7a5e_e1c1_3b05,
    ]),
    y: Fe([
        0xc135_4e59_3c2d_0ddd,
        0xc1f5_e578_8d32_95fa,
        0x8d4c_fb06_6e2a_48f8,
        0x63cd_65d4_81d7_35bd,
    ]),
};

/// A point other than the identity, in affine coordinates.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Affine {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
}

impl Affine {
    /// Whether (x, y) satisfies the curve equation.
    pub(crate) fn is_on_curve(&self) -> bool {
        let right = self
            .x
            .square()
            .mul(&self.x)
            .sub(&self.x.double().add(&self.x))
            .add(&B);
        self.y.square().equals(&right)
    }

    /// The point with this x and the y of the given parity, when there is one.
    pub(crate) fn decompress(x: Fe, odd: bool) -> Option<Affine> {
        let right = x.square().mul(&x).sub(&x.double().add(&x)).add(&B);
        let y = right.sqrt()?;
        let is_odd = y.to_limbs()[0] & 1 == 1;
        let y = if is_odd == odd { y } else { y.neg() };
        Some(Affine { x, y })
    }

    fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl From<&Affine> for Jacobian {
    fn from(a: &Affine) -> Jacobian {
        Jacobian {
            x: a.x,
            y: a.y,
            z: Fe::ONE,
        }
    }
}

impl Jacobian {
    pub(crate) const IDENTITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    pub(crate) fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    fn neg(&self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }

    /// 2·self ("dbl-2001-b", for a = −3, with Z3 = 2·Y·Z as a product: 4M + 4S, and the
    /// small multiples in one reduction each). The identity doubles to itself.
    pub(crate) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let alpha = self.x.sub(&delta).mul(&self.x.add(&delta)).mul_small(3);
        let beta4 = beta.mul_small(4);
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.mul(&self.z).double();
        let gamma2_8 = gamma.square().mul_small(8);
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + q by "madd-2007-bl" (with Z3 = 2·Z1·H as a product: 8M + 3S), without the
    /// special cases: the result is wrong
    /// when self is the identity or equals q. Returns the sum and the mask of the second case
    /// (H = 0 and r = 0), which the callers handle.
    fn add_affine_unchecked(&self, q: &Affine) -> (Jacobian, u64) {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let hh = h.square();
        let i = hh.mul_small(4);
        let j = h.mul(&i);
        let r = s2.sub(&self.y).double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.mul(&h).double();
        let doubling = h.is_zero_mask() & r.is_zero_mask();
        (
            Jacobian {
                x: x3,
                y: y3,
                z: z3,
            },
            doubling,
        )
    }

    /// self + q for public values: every case handled, by branching.
    pub(crate) fn add_affine_vartime(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from(q);
        }
        let (sum, doubling) = self.add_affine_unchecked(q);
        if doubling != 0 {
            return Jacobian::from(q).double();
        }
        sum
    }

    /// self + other for public values ("add-2007-bl", with Z3 = 2·Z1·Z2·H as products),
    /// every case handled.
    pub(crate) fn add_vartime(&self, other: &Jacobian) -> Jacobian {
        self.add_cached_vartime(&Cached::from(other))
    }

    /// self + other with other's Z² and Z³ at hand (10M + 3S).
    fn add_cached_vartime(&self, other: &Cached) -> Jacobian {
        let Cached {
            point: other,
            zz: z2z2,
            zzz: z2z2z2,
        } = other;
        if self.is_identity() {
            return *other;
        }
        if other.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let u1 = self.x.mul(z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(z2z2z2);
        let s2 = other.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.mul(&other.z).mul(&h).double();
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// The affine point, `None` for the identity.
    pub(crate) fn to_affine(self) -> Option<Affine> {
        if self.is_identity() {
            return None;
        }
        let zinv = self.z.invert();
        let zinv2 = zinv.square();
        Some(Affine {
            x: self.x.mul(&zinv2),
            y: self.y.mul(&zinv2).mul(&zinv),
        })
    }

    /// Whether the affine x of this point is `x` (a plain integer below p), without inverting
    /// Z: X = x·Z².
    pub(crate) fn has_x(&self, x: &Fe) -> bool {
        !self.is_identity() && self.x.equals(&x.mul(&self.z.square()))
    }
}

/// A point with its Z² and Z³, for the multiples a verification adds again and again.
#[derive(Clone, Copy)]
struct Cached {
    point: Jacobian,
    zz: Fe,
    zzz: Fe,
}

impl From<&Jacobian> for Cached {
    fn from(point: &Jacobian) -> Cached {
        let zz = point.z.square();
        Cached {
            point: *point,
            zz,
            zzz: zz.mul(&point.z),
        }
    }
}

impl Cached {
    fn neg(&self) -> Cached {
        Cached {
            point: self.point.neg(),
            ..*self
        }
    }
}

/// Bits per window of the fixed-base tables, and the number of windows over a 256-bit scalar
/// with signed digits (the last window takes the final carry).
const WINDOW: usize = 6;
const WINDOWS: usize = 256 / WINDOW + 1;
const HALF: usize = 1 << (WINDOW - 1);

/// A scalar (32 big-endian bytes, below the group order) as signed base-2⁶ digits in
/// [−32, 32], least significant first, computed without branches.
fn signed_digits(scalar: &[u8; 32]) -> [i8; WINDOWS] {
    let bit = |i: usize| -> u32 {
        if i >= 256 {
            0
        } else {
            ((scalar[31 - i / 8] >> (i % 8)) & 1) as u32
        }
    };
    let mut digits = [0i8; WINDOWS];
    let mut carry = 0u32;
    for (w, digit) in digits.iter_mut().enumerate() {
        let mut value = carry;
        for b in 0..WINDOW {
            value += bit(w * WINDOW + b) << b;
        }
        // value ∈ [0, 64]: above 32 it becomes value − 64 with a carry into the next window.
        carry = (32u32.wrapping_sub(value) >> 31) & 1;
        *digit = (value as i32 - ((carry as i32) << WINDOW)) as i8;
    }
    digits
}

/// The multiples 1·2^(6i)·P … 32·2^(6i)·P of a point for every window i, in affine form: the
/// base point's table serves every signature; a verification key's table makes repeated
/// verifications under it nearly as cheap as signing.
pub(crate) struct Table {
    windows: Vec<[Affine; HALF]>,
}

impl Table {
    pub(crate) fn new(point: &Affine) -> Table {
        let mut jacobian = Vec::with_capacity(WINDOWS * HALF);
        let mut base = Jacobian::from(point);
        for _ in 0..WINDOWS {
            let mut multiple = base;
            for j in 0..HALF {
                jacobian.push(multiple);
                if j + 1 < HALF {
                    multiple = multiple.add_vartime(&base);
                }
            }
            for _ in 0..WINDOW {
                base = base.double();
            }
        }
        let affine = batch_to_affine(&jacobian);
        let windows = affine
            .chunks_exact(HALF)
            .map(|chunk| {
                let mut window = [Affine::default(); HALF];
                window.copy_from_slice(chunk);
                window
            })
            .collect();
        Table { windows }
    }

    /// scalar·P in constant time. The second value is the mask of an addition that met its
    /// own operand (possible only for a handful of scalars out of 2²⁵⁶), when the result is
    /// wrong and the caller must compute another way.
    pub(crate) fn mul_ct(&self, scalar: &[u8; 32]) -> (Jacobian, u64) {
        let digits = signed_digits(scalar);
        let mut acc = Jacobian::IDENTITY;
        let mut exceptional = 0u64;
        for (window, &digit) in self.windows.iter().zip(digits.iter()) {
            let negative = mask(((digit as u8) >> 7) as u64);
            let magnitude = (digit as i32).unsigned_abs() as u64;
            let mut entry = Affine::default();
            for (j, candidate) in window.iter().enumerate() {
                let hit = eq_mask(magnitude, j as u64 + 1);
                entry.x = Fe::select(&entry.x, &candidate.x, hit);
                entry.y = Fe::select(&entry.y, &candidate.y, hit);
            }
            entry.y = Fe::select(&entry.y, &entry.y.neg(), negative);

            let (sum, doubling) = acc.add_affine_unchecked(&entry);
            let acc_is_identity = acc.z.is_zero_mask();
            let zero_digit = eq_mask(magnitude, 0);
            let from_entry = Jacobian::from(&entry);
            let mut next = select_point(&sum, &from_entry, acc_is_identity);
            next = select_point(&next, &acc, zero_digit);
            exceptional |= doubling & !acc_is_identity & !zero_digit;
            acc = next;
        }
        (acc, exceptional)
    }

    /// scalar·P for a public scalar: the same digits, each entry looked up directly.
    pub(crate) fn mul_vartime(&self, scalar: &[u8; 32], mut acc: Jacobian) -> Jacobian {
        let digits = signed_digits(scalar);
        for (window, &digit) in self.windows.iter().zip(digits.iter()) {
            if digit == 0 {
                continue;
            }
            let entry = &window[digit.unsigned_abs() as usize - 1];
            acc = if digit < 0 {
                acc.add_affine_vartime(&entry.neg())
            } else {
                acc.add_affine_vartime(entry)
            };
        }
        acc
    }
}

/// All ones when a = b.
#[inline(always)]
fn eq_mask(a: u64, b: u64) -> u64 {
    let d = a ^ b;
    mask(1 ^ ((d | d.wrapping_neg()) >> 63))
}

fn select_point(a: &Jacobian, b: &Jacobian, m: u64) -> Jacobian {
    Jacobian {
        x: Fe::select(&a.x, &b.x, m),
        y: Fe::select(&a.y, &b.y, m),
        z: Fe::select(&a.z, &b.z, m),
    }
}

/// Many points to affine with one inversion (Montgomery's trick). None may be the identity.
fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut running = Fe::ONE;
    for point in points {
        prefix.push(running);
        running = running.mul(&point.z);
    }
    let mut inverse = running.invert();
    let mut out = vec![Affine::default(); points.len()];
    for (i, point) in points.iter().enumerate().rev() {
        let zinv = inverse.mul(&prefix[i]);
        inverse = inverse.mul(&point.z);
        let zinv2 = zinv.square();
        out[i] = Affine {
            x: point.x.mul(&zinv2),
            y: point.y.mul(&zinv2).mul(&zinv),
        };
    }
    out
}

/// NAF widths for a·P + b·G: the key's eight odd multiples are made for each call, the
/// base point's 1,024 once for the process (64 KiB), so its additions come every 13 bits
/// instead of every 6.
const KEY_WIDTH: u32 = 5;
const BASE_WIDTH: u32 = 12;

/// P, 3P, 5P, … — `count` odd multiples of a point.
fn odd_multiples(point: &Jacobian, count: usize) -> Vec<Jacobian> {
    let twice = point.double();
    let mut odd = Vec::with_capacity(count);
    odd.push(*point);
    for i in 1..count {
        odd.push(odd[i - 1].add_vartime(&twice));
    }
    odd
}

/// G, 3G, …, (2¹¹ − 1)G in affine form, made on first use (about a millisecond).
fn base_odd_multiples() -> &'static [Affine] {
    static MULTIPLES: OnceLock<Vec<Affine>> = OnceLock::new();
    MULTIPLES
        .get_or_init(|| batch_to_affine(&odd_multiples(&Jacobian::from(&G), 1 << (BASE_WIDTH - 2))))
}

/// a·P + b·G for public values (a verification): one chain of doublings for both scalars,
/// each in its width's NAF.
pub(crate) fn mul_add_base_vartime(point: &Affine, a: &[u8; 32], b: &[u8; 32]) -> Jacobian {
    let key: Vec<Cached> = odd_multiples(&Jacobian::from(point), 1 << (KEY_WIDTH - 2))
        .iter()
        .map(Cached::from)
        .collect();
    let base = base_odd_multiples();
    let key_digits = wnaf(a, KEY_WIDTH);
    let base_digits = wnaf(b, BASE_WIDTH);
    let Some(top) = (0..key_digits.len())
        .rev()
        .find(|&i| key_digits[i] != 0 || base_digits[i] != 0)
    else {
        return Jacobian::IDENTITY;
    };
    let mut acc = Jacobian::IDENTITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        let digit = key_digits[i];
        if digit != 0 {
            let entry = &key[(digit.unsigned_abs() / 2) as usize];
            acc = if digit > 0 {
                acc.add_cached_vartime(entry)
            } else {
                acc.add_cached_vartime(&entry.neg())
            };
        }
        let digit = base_digits[i];
        if digit != 0 {
            let entry = &base[(digit.unsigned_abs() / 2) as usize];
            acc = if digit > 0 {
                acc.add_affine_vartime(entry)
            } else {
                acc.add_affine_vartime(&entry.neg())
            };
        }
    }
    acc
}

/// The width-w non-adjacent form of a 256-bit scalar, least significant digit first: odd
/// digits below 2^(w−1) in magnitude, any two nonzero ones at least w positions apart. The
/// window is read from the limbs at each nonzero digit, with a carry for a negative one.
fn wnaf(scalar: &[u8; 32], width: u32) -> [i16; 257] {
    debug_assert!((2..=14).contains(&width));
    let limbs = crate::field::limbs_from_be(scalar);
    let limbs = [limbs[0], limbs[1], limbs[2], limbs[3], 0, 0];
    let full = 1u64 << width;
    let mut digits = [0i16; 257];
    let mut carry = 0u64;
    let mut position = 0usize;
    while position < digits.len() {
        let (index, shift) = (position / 64, position % 64);
        let mut bits = limbs[index] >> shift;
        if shift != 0 {
            bits |= limbs[index + 1] << (64 - shift);
        }
        let window = carry + (bits & (full - 1));
        if window & 1 == 0 {
            // A zero digit here; a carry waits for the next set bit.
            position += 1;
            continue;
        }
        if window < full / 2 {
            carry = 0;
            digits[position] = window as i16;
        } else {
            carry = 1;
            digits[position] = window as i16 - full as i16;
        }
        position += width as usize;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_from_u64(value: u64) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&value.to_be_bytes());
        bytes
    }

    fn same(a: &Jacobian, b: &Jacobian) -> bool {
        match (a.to_affine(), b.to_affine()) {
            (None, None) => true,
            (Some(a), Some(b)) => a.x.equals(&b.x) && a.y.equals(&b.y),
            _ => false,
        }
    }

    #[test]
    fn the_base_point_is_on_the_curve_and_its_multiples_agree_by_every_route() {
        assert!(G.is_on_curve());
        let g = Jacobian::from(&G);
        let table = Table::new(&G);
        let mut expected = Jacobian::IDENTITY;
        for k in 0..200u64 {
            let scalar = scalar_from_u64(k);
            let (ct, exceptional) = table.mul_ct(&scalar);
            assert_eq!(exceptional, 0);
            assert!(same(&ct, &expected), "table, k = {k}");
            let zero = [0u8; 32];
            assert!(
                same(&mul_add_base_vartime(&G, &scalar, &zero), &expected),
                "wNAF of a key, k = {k}"
            );
            assert!(
                same(&mul_add_base_vartime(&G, &zero, &scalar), &expected),
                "wNAF of the base, k = {k}"
            );
            assert!(
                same(&table.mul_vartime(&scalar, Jacobian::IDENTITY), &expected),
                "table vartime, k = {k}"
            );
            if let Some(affine) = expected.to_affine() {
                assert!(affine.is_on_curve());
            }
            expected = expected.add_vartime(&g);
        }
    }

    #[test]
    fn digits_recombine_to_the_scalar() {
        let scalar = [0xa5u8; 32];
        let digits = signed_digits(&scalar);
        // Recombine in 128-bit halves is awkward; check through the points instead.
        let table = Table::new(&G);
        let via_digits = table.mul_ct(&scalar).0;
        assert!(same(
            &via_digits,
            &mul_add_base_vartime(&G, &scalar, &[0u8; 32])
        ));
        assert!(digits.iter().all(|d| (-32..=32).contains(d)));
        for width in [KEY_WIDTH, BASE_WIDTH] {
            for scalar in [[0xa5u8; 32], [0xffu8; 32], [0x01u8; 32]] {
                let naf = wnaf(&scalar, width);
                let limit = 1i16 << (width - 1);
                assert!(
                    naf.iter()
                        .all(|d| *d == 0 || (d % 2 != 0 && d.abs() < limit))
                );
                let nonzero: Vec<usize> = (0..naf.len()).filter(|&i| naf[i] != 0).collect();
                assert!(nonzero.windows(2).all(|w| w[1] - w[0] >= width as usize));
            }
        }
        // a·P + b·G against the two products made apart, for unrelated scalars.
        let p = mul_add_base_vartime(&G, &[0x3cu8; 32], &[0u8; 32])
            .to_affine()
            .expect("not the identity");
        let (a, b) = ([0x5au8; 32], [0xc3u8; 32]);
        let apart = table
            .mul_vartime(&b, Jacobian::IDENTITY)
            .add_vartime(&Table::new(&p).mul_vartime(&a, Jacobian::IDENTITY));
        assert!(same(&mul_add_base_vartime(&p, &a, &b), &apart));
    }
}
