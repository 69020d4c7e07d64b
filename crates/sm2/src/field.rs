//! Arithmetic modulo the SM2 prime p = 2²⁵⁶ − 2²²⁴ − 2⁹⁶ + 2⁶⁴ − 1, in Montgomery form over four
//! 64-bit limbs (least significant first).
//!
//! Every operation runs in time independent of the values: loops have fixed bounds and the
//! final corrections select with masks, never branch. p ≡ −1 (mod 2⁶⁴), so the Montgomery
//! factor of each reduction round is the low limb itself.

/// The prime.
pub(crate) const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];

/// R² mod p with R = 2²⁵⁶: multiplying by it brings a value into Montgomery form.
const R2: [u64; 4] = [
    0x0000_0002_0000_0003,
    0x0000_0002_ffff_ffff,
    0x0000_0001_0000_0001,
    0x0000_0004_0000_0002,
];

/// An element of the field, kept in Montgomery form and fully reduced (below p).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fe(pub(crate) [u64; 4]);

/// All ones when `flag` is 1, zero when 0.
#[inline(always)]
pub(crate) fn mask(flag: u64) -> u64 {
    0u64.wrapping_sub(flag)
}

#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (t as u64, ((t >> 64) as u64) & 1)
}

#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// `value` − p when that does not go below zero (with `high` the bit above the 256), else
/// `value`: brings a value below 2p under p.
#[inline(always)]
fn reduce_once(value: [u64; 4], high: u64) -> [u64; 4] {
    let (d0, b) = sbb(value[0], P[0], 0);
    let (d1, b) = sbb(value[1], P[1], b);
    let (d2, b) = sbb(value[2], P[2], b);
    let (d3, b) = sbb(value[3], P[3], b);
    // Keep the difference unless it borrowed past the high bit.
    let (_, b) = sbb(high, 0, b);
    let keep = mask(b);
    [
        (value[0] & keep) | (d0 & !keep),
        (value[1] & keep) | (d1 & !keep),
        (value[2] & keep) | (d2 & !keep),
        (value[3] & keep) | (d3 & !keep),
    ]
}

/// The 512-bit product a · b.
#[inline(always)]
fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u64;
        for j in 0..4 {
            let (v, c) = mac(t[i + j], a[j], b[i], carry);
            t[i + j] = v;
            carry = c;
        }
        t[i + 4] = carry;
    }
    t
}

/// The 512-bit square: the six cross products once, doubled, plus the four squares.
#[inline(always)]
fn square_wide(a: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    // Cross products a_i · a_j for i < j.
    for i in 0..3 {
        let mut carry = 0u64;
        for j in i + 1..4 {
            let (v, c) = mac(t[i + j], a[i], a[j], carry);
            t[i + j] = v;
            carry = c;
        }
        t[i + 4] = carry;
    }
    // Double them.
    let mut high = 0u64;
    for limb in t.iter_mut().skip(1) {
        let next = *limb >> 63;
        *limb = (*limb << 1) | high;
        high = next;
    }
    // Add the squares on the diagonal.
    let mut carry = 0u64;
    for i in 0..4 {
        let (lo, c) = mac(t[2 * i], a[i], a[i], carry);
        t[2 * i] = lo;
        let (hi, c) = adc(t[2 * i + 1], c, 0);
        t[2 * i + 1] = hi;
        carry = c;
    }
    t
}

/// t · R⁻¹ mod p for t < p·R, one limb per round. With m the low limb (p ≡ −1 mod 2⁶⁴),
/// adding m·p clears that limb.
#[inline(always)]
fn montgomery_reduce(t: [u64; 8]) -> [u64; 4] {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    let (t1, t2, t3, t4, c) = reduce_round(t0, t1, t2, t3, t4);
    let (t5, c) = adc(t5, c, 0);
    let (t6, c) = adc(t6, c, 0);
    let (t7, high) = adc(t7, c, 0);
    let (t2, t3, t4, t5, c) = reduce_round(t1, t2, t3, t4, t5);
    let (t6, c) = adc(t6, c, 0);
    let (t7, c) = adc(t7, c, 0);
    let high = high + c;
    let (t3, t4, t5, t6, c) = reduce_round(t2, t3, t4, t5, t6);
    let (t7, c) = adc(t7, c, 0);
    let high = high + c;
    let (t4, t5, t6, t7, c) = reduce_round(t3, t4, t5, t6, t7);
    reduce_once([t4, t5, t6, t7], high + c)
}

/// One round: (m, a, b, c, d) + m·p with m the first limb, which becomes zero; returns the
/// next four limbs and the carry out of the last. With q = (p + 1)/2⁶⁴ = 2¹⁹² − 2¹⁶⁰ − 2³² + 1,
/// m + m·p = m·q·2⁶⁴ (m − m cancels the first limb), so the round adds m·q to the four limbs
/// above it; m·q is m + m·2¹⁹² less m·2³² and m·2¹⁶⁰, shifts and subtractions, no
/// multiplication.
#[inline(always)]
fn reduce_round(m: u64, a: u64, b: u64, c: u64, d: u64) -> (u64, u64, u64, u64, u64) {
    let (low, high) = (m << 32, m >> 32);
    // m·2³² = low + high·2⁶⁴ and m·2¹⁶⁰ = low·2¹²⁸ + high·2¹⁹²; m·q is below 2²⁵⁶, so
    // the last borrow is zero.
    let (q0, borrow) = sbb(m, low, 0);
    let (q1, borrow) = sbb(0, high, borrow);
    let (q2, borrow) = sbb(0, low, borrow);
    let (q3, _) = sbb(m, high, borrow);
    let (a, carry) = adc(a, q0, 0);
    let (b, carry) = adc(b, q1, carry);
    let (c, carry) = adc(c, q2, carry);
    let (d, carry) = adc(d, q3, carry);
    (a, b, c, d, carry)
}

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; 4]);
    /// 1 in Montgomery form: R mod p.
    pub(crate) const ONE: Fe = Fe([
        0x0000_0000_0000_0001,
        0x0000_0000_ffff_ffff,
        0x0000_0000_0000_0000,
        0x0000_0001_0000_0000,
    ]);

    /// From 32 big-endian bytes; `None` when the value is not below p.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let limbs = limbs_from_be(bytes);
        // A value below p borrows when p is subtracted.
        let (_, b) = sbb(limbs[0], P[0], 0);
        let (_, b) = sbb(limbs[1], P[1], b);
        let (_, b) = sbb(limbs[2], P[2], b);
        let (_, b) = sbb(limbs[3], P[3], b);
        (b == 1).then(|| Fe(limbs).mul(&Fe(R2)))
    }

    /// 32 big-endian bytes of the value (out of Montgomery form).
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let plain = self.mul(&Fe([1, 0, 0, 0])).0;
        let mut out = [0u8; 32];
        for (i, limb) in plain.iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// The value out of Montgomery form, least significant limb first.
    pub(crate) fn to_limbs(self) -> [u64; 4] {
        self.mul(&Fe([1, 0, 0, 0])).0
    }

    pub(crate) fn add(&self, other: &Fe) -> Fe {
        let (s0, c) = adc(self.0[0], other.0[0], 0);
        let (s1, c) = adc(self.0[1], other.0[1], c);
        let (s2, c) = adc(self.0[2], other.0[2], c);
        let (s3, c) = adc(self.0[3], other.0[3], c);
        Fe(reduce_once([s0, s1, s2, s3], c))
    }

    pub(crate) fn sub(&self, other: &Fe) -> Fe {
        let (d0, b) = sbb(self.0[0], other.0[0], 0);
        let (d1, b) = sbb(self.0[1], other.0[1], b);
        let (d2, b) = sbb(self.0[2], other.0[2], b);
        let (d3, b) = sbb(self.0[3], other.0[3], b);
        // Add p back when it borrowed.
        let m = mask(b);
        let (d0, c) = adc(d0, P[0] & m, 0);
        let (d1, c) = adc(d1, P[1] & m, c);
        let (d2, c) = adc(d2, P[2] & m, c);
        let (d3, _) = adc(d3, P[3] & m, c);
        Fe([d0, d1, d2, d3])
    }

    pub(crate) fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    pub(crate) fn double(&self) -> Fe {
        self.add(self)
    }

    /// self · k for a small integer k (below 2¹⁶), with one reduction instead of a chain of
    /// additions. The Montgomery form is kept: (xR)·k = (xk)R. 2²⁵⁶ ≡ K (mod p) with
    /// K = 2²²⁴ + 2⁹⁶ − 2⁶⁴ + 1, so the word above the 256 bits folds back in as a multiple
    /// of K.
    #[inline]
    pub(crate) fn mul_small(&self, k: u64) -> Fe {
        debug_assert!(k < 1 << 16);
        let (l0, c) = mac(0, self.0[0], k, 0);
        let (l1, c) = mac(0, self.0[1], k, c);
        let (l2, c) = mac(0, self.0[2], k, c);
        let (l3, high) = mac(0, self.0[3], k, c);
        // high < k < 2¹⁶, so high · K's limbs fit in 64 bits each and high · K + K < 2²⁵⁶.
        let (l0, c) = adc(l0, high, 0);
        let (l1, c) = adc(l1, high * 0xffff_ffff, c);
        let (l2, c) = adc(l2, 0, c);
        let (l3, c) = adc(l3, high << 32, c);
        // A carry out leaves a value below high · K, so adding K once more cannot carry.
        let m = mask(c);
        let (l0, c) = adc(l0, 1 & m, 0);
        let (l1, c) = adc(l1, 0xffff_ffff & m, c);
        let (l2, c) = adc(l2, 0, c);
        let (l3, _) = adc(l3, (1 << 32) & m, c);
        // Any 256-bit value is below 2p.
        Fe(reduce_once([l0, l1, l2, l3], 0))
    }

    /// Montgomery multiplication: self · other · R⁻¹ mod p.
    #[inline]
    pub(crate) fn mul(&self, other: &Fe) -> Fe {
        Fe(montgomery_reduce(mul_wide(&self.0, &other.0)))
    }

    /// self² · R⁻¹ mod p, with the cross products computed once.
    #[inline]
    pub(crate) fn square(&self) -> Fe {
        Fe(montgomery_reduce(square_wide(&self.0)))
    }

    /// `self` squared `times` times.
    fn square_times(&self, times: u32) -> Fe {
        let mut x = *self;
        for _ in 0..times {
            x = x.square();
        }
        x
    }

    /// The inverse by Fermat's little theorem, x^(p−2), along a fixed addition chain (the
    /// exponent is public, so the chain is the same for every value). Zero maps to zero.
    pub(crate) fn invert(&self) -> Fe {
        // t_k = x^(2^k − 1); t_(a+b) = t_a^(2^b) · t_b.
        let t1 = *self;
        let t2 = t1.square().mul(&t1);
        let t3 = t2.square().mul(&t1);
        let t6 = t3.square_times(3).mul(&t3);
        let t12 = t6.square_times(6).mul(&t6);
        let t24 = t12.square_times(12).mul(&t12);
        let t30 = t24.square_times(6).mul(&t6);
        let t31 = t30.square().mul(&t1);
        let t32 = t31.square().mul(&t1);
        // p − 2 = 1{31} 0 1{128} 0{32} 1{62} 0 1, from the top bit down.
        let mut x = t31.square();
        for _ in 0..4 {
            x = x.square_times(32).mul(&t32);
        }
        x = x.square_times(32);
        x = x.square_times(32).mul(&t32);
        x = x.square_times(30).mul(&t30);
        x = x.square();
        x.square().mul(&t1)
    }

    /// A square root when there is one: p ≡ 3 (mod 4), so x^((p+1)/4).
    pub(crate) fn sqrt(&self) -> Option<Fe> {
        // (p + 1) / 4, by square-and-multiply over its bits from the top (a public
        // exponent; only public keys are decompressed).
        const E: [u64; 4] = [
            0x4000_0000_0000_0000,
            0xffff_ffff_c000_0000,
            0xffff_ffff_ffff_ffff,
            0x3fff_ffff_bfff_ffff,
        ];
        let mut r = Fe::ONE;
        for limb in E.iter().rev() {
            for bit in (0..64).rev() {
                r = r.square();
                if (limb >> bit) & 1 == 1 {
                    r = r.mul(self);
                }
            }
        }
        r.square().equals(self).then_some(r)
    }

    /// All ones when zero.
    pub(crate) fn is_zero_mask(&self) -> u64 {
        let any = self.0[0] | self.0[1] | self.0[2] | self.0[3];
        // any == 0 ⇔ neither any nor −any has the top bit set.
        mask(1 ^ ((any | any.wrapping_neg()) >> 63))
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.is_zero_mask() != 0
    }

    pub(crate) fn equals(&self, other: &Fe) -> bool {
        self.sub(other).is_zero()
    }

    /// `a` where `m` is all zeros, `b` where it is all ones.
    #[inline(always)]
    pub(crate) fn select(a: &Fe, b: &Fe, m: u64) -> Fe {
        Fe([
            (a.0[0] & !m) | (b.0[0] & m),
            (a.0[1] & !m) | (b.0[1] & m),
            (a.0[2] & !m) | (b.0[2] & m),
            (a.0[3] & !m) | (b.0[3] & m),
        ])
    }
}

/// Four little-endian limbs from 32 big-endian bytes.
pub(crate) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[24 - 8 * i..32 - 8 * i]);
        *limb = u64::from_be_bytes(word);
    }
    limbs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain coarsely integrated Montgomery multiplication, to check the fast one against.
    fn mul_reference(a: &Fe, b: &Fe) -> Fe {
        let mut t = [0u64; 6];
        for &bi in &b.0 {
            let mut c = 0;
            for (limb, &aj) in t.iter_mut().zip(&a.0) {
                let (v, k) = mac(*limb, aj, bi, c);
                *limb = v;
                c = k;
            }
            let (v, k) = adc(t[4], c, 0);
            t[4] = v;
            t[5] = k;
            let m = t[0];
            let (_, mut c) = mac(t[0], m, P[0], 0);
            for j in 1..4 {
                let (v, k) = mac(t[j], m, P[j], c);
                t[j - 1] = v;
                c = k;
            }
            let (v, k) = adc(t[4], c, 0);
            t[3] = v;
            t[4] = t[5] + k;
        }
        Fe(reduce_once([t[0], t[1], t[2], t[3]], t[4]))
    }

    #[test]
    fn products_and_squares_agree_with_the_plain_method() {
        let mut state = 0x0123_4567_89ab_cdefu64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        // Zero, one, R mod p and p − 1 first, then random values below p (any 256-bit
        // value is below 2p, so one subtraction brings it under p).
        let edges = [
            Fe::ZERO,
            Fe([1, 0, 0, 0]),
            Fe::ONE,
            Fe([P[0] - 1, P[1], P[2], P[3]]),
        ];
        for round in 0..20_000 {
            let a = match edges.get(round) {
                Some(edge) => *edge,
                None => Fe(reduce_once([next(), next(), next(), next()], 0)),
            };
            let b = Fe(reduce_once([next(), next(), next(), next()], 0));
            assert_eq!(a.mul(&b).0, mul_reference(&a, &b).0, "{a:?} · {b:?}");
            assert_eq!(a.square().0, mul_reference(&a, &a).0, "{a:?}²");
            let k = next() % (1 << 16);
            let mut k_bytes = [0u8; 32];
            k_bytes[24..].copy_from_slice(&k.to_be_bytes());
            let k_field = Fe::from_bytes(&k_bytes).expect("small");
            assert_eq!(a.mul_small(k).0, a.mul(&k_field).0, "{a:?} · {k}");
            assert_eq!(a.mul_small(8).0, a.double().double().double().0);
        }
        // ⌊(2²⁵⁷ − 1)/3⌋ · 3 = 2²⁵⁶ + (2²⁵⁶ − 2): folding the top word back carries out,
        // the one path random values almost never take.
        let a = Fe([0xaaaa_aaaa_aaaa_aaaa; 4]);
        assert_eq!(a.mul_small(3).0, a.double().add(&a).0);
    }

    fn fe(hex: &str) -> Fe {
        let mut bytes = [0u8; 32];
        let raw = u128::from_str_radix(hex, 16).expect("hex");
        bytes[16..].copy_from_slice(&raw.to_be_bytes());
        Fe::from_bytes(&bytes).expect("below p")
    }

    #[test]
    fn small_values_multiply_and_invert_as_integers_do() {
        let a = fe("123456789abcdef");
        let b = fe("fedcba987654321");
        let product = 0x123456789abcdefu128 * 0xfedcba987654321u128;
        assert_eq!(a.mul(&b).to_bytes()[16..], product.to_be_bytes());
        assert!(a.mul(&a.invert()).equals(&Fe::ONE));
        assert_eq!(Fe::ZERO.invert().to_bytes(), [0u8; 32]);
        assert!(a.sub(&b).add(&b).equals(&a));
        assert!(a.neg().add(&a).is_zero());
        let root = a.square().sqrt().expect("a square has a root");
        assert!(root.equals(&a) || root.equals(&a.neg()));
    }

    #[test]
    fn p_minus_one_wraps_and_p_itself_is_refused() {
        let mut bytes = [0u8; 32];
        for (i, limb) in P.iter().enumerate() {
            bytes[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        assert!(Fe::from_bytes(&bytes).is_none());
        bytes[31] -= 1;
        let minus_one = Fe::from_bytes(&bytes).expect("p − 1");
        assert!(minus_one.add(&Fe::ONE).is_zero());
        assert!(minus_one.mul(&minus_one).equals(&Fe::ONE));
        assert_eq!(minus_one.to_bytes(), bytes);
    }
}
