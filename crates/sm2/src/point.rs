//! Points of the SM2 curve y² = x³ − 3x + b in Jacobian coordinates (x = X/Z², y = Y/Z³), and
//! the two scalar multiplications a signature needs: by the base point through a precomputed
//! table (constant time, for the secret nonce), and by any point through width-5 NAF
//! (variable time, for public values only).

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

    /// 2·self ("dbl-2001-b", for a = −3: 3M + 5S). The identity doubles to itself.
    pub(crate) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + q by "madd-2007-bl" (7M + 4S), without the special cases: the result is wrong
    /// when self is the identity or equals q. Returns the sum and the mask of the second case
    /// (H = 0 and r = 0), which the callers handle.
    fn add_affine_unchecked(&self, q: &Affine) -> (Jacobian, u64) {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let r = s2.sub(&self.y).double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
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

    /// self + other for public values ("add-2007-bl", 11M + 5S), every case handled.
    pub(crate) fn add_vartime(&self, other: &Jacobian) -> Jacobian {
        if self.is_identity() {
            return *other;
        }
        if other.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&other.z).mul(&z2z2);
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
        let z3 = self.z.add(&other.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
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

/// scalar·P for public values, by width-5 NAF over the odd multiples P, 3P, …, 15P.
pub(crate) fn mul_vartime(point: &Affine, scalar: &[u8; 32]) -> Jacobian {
    let base = Jacobian::from(point);
    let twice = base.double();
    let mut odd = [base; 8];
    for i in 1..8 {
        odd[i] = odd[i - 1].add_vartime(&twice);
    }
    let naf = wnaf(scalar);
    let mut acc = Jacobian::IDENTITY;
    for &digit in naf.iter().rev() {
        acc = acc.double();
        if digit > 0 {
            acc = acc.add_vartime(&odd[(digit as usize) / 2]);
        } else if digit < 0 {
            acc = acc.add_vartime(&odd[(digit.unsigned_abs() as usize) / 2].neg());
        }
    }
    acc
}

/// The width-5 non-adjacent form of a 256-bit scalar, least significant digit first.
fn wnaf(scalar: &[u8; 32]) -> [i8; 257] {
    let mut limbs = crate::field::limbs_from_be(scalar);
    let mut carry_out = 0u64;
    let mut digits = [0i8; 257];
    for digit in digits.iter_mut() {
        if limbs[0] & 1 == 1 {
            let low = (limbs[0] & 31) as i64;
            let d = if low >= 16 { low - 32 } else { low };
            *digit = d as i8;
            // Subtract d (adding when negative) from the 257-bit number.
            if d > 0 {
                sub_small(&mut limbs, d as u64);
            } else {
                carry_out += add_small(&mut limbs, (-d) as u64);
            }
        }
        // Shift right by one, bringing the carry in at the top.
        for i in 0..3 {
            limbs[i] = (limbs[i] >> 1) | (limbs[i + 1] << 63);
        }
        limbs[3] = (limbs[3] >> 1) | (carry_out << 63);
        carry_out = 0;
    }
    digits
}

fn sub_small(limbs: &mut [u64; 4], value: u64) {
    let mut borrow = value;
    for limb in limbs.iter_mut() {
        let (v, b) = limb.overflowing_sub(borrow);
        *limb = v;
        borrow = b as u64;
    }
}

fn add_small(limbs: &mut [u64; 4], value: u64) -> u64 {
    let mut carry = value;
    for limb in limbs.iter_mut() {
        let (v, c) = limb.overflowing_add(carry);
        *limb = v;
        carry = c as u64;
    }
    carry
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
            assert!(same(&mul_vartime(&G, &scalar), &expected), "wNAF, k = {k}");
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
        assert!(same(&via_digits, &mul_vartime(&G, &scalar)));
        assert!(digits.iter().all(|d| (-32..=32).contains(d)));
        let naf = wnaf(&scalar);
        assert!(
            naf.iter()
                .all(|d| *d == 0 || (d % 2 != 0 && (-15..=15).contains(d)))
        );
    }
}
