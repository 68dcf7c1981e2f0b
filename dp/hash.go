package dp

import "math/bits"

// Keyed, non-cryptographic 64-bit hashing. It pseudonymizes person ids
// inside the partial state and draws the priorities of contribution
// bounding; both only need the values to look random to anyone who does not
// know the salt, and to be reproducible across shards that share the salt.

const (
	hashK1 = 0xa0761d6478bd642f
	hashK2 = 0xe7037ed1a0b428db
	hashK3 = 0x8ebc6af09c88c6e3
)

// hashMix is wyhash's multiply-mix with the inputs folded back into the
// result (wyhash's "condom"). Without them, a block equal to hashK2 zeroes
// the product and erases everything mixed before it, the salt included:
// any two ids of equal length that share such a block and what follows it
// would get the same pseudonym under every salt, and two persons would be
// bounded as one.
func hashMix(a, b uint64) uint64 {
	a, b = a^hashK1, b^hashK2
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo ^ a ^ b
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hashString returns a keyed hash of s.
func hashString(salt uint64, s string) uint64 {
	h := hashMix(salt, uint64(len(s))^hashK3)
	for len(s) >= 8 {
		h = hashMix(h, le64(s))
		s = s[8:]
	}
	var t uint64
	for i := 0; i < len(s); i++ {
		t |= uint64(s[i]) << (8 * i)
	}
	return fmix(hashMix(h, t))
}

// fmix is the splitmix64 finalizer.
func fmix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// priority of partition (hash q) for person (pseudonym p).
func priority(p, q uint64) uint64 { return fmix(p ^ q*hashK3) }
