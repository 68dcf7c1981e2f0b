package dp

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bounding in batches (add, flushed every batch records and by every
// reader) keeps exactly the records, counts, values and dropped count that
// bounding each record as it arrives keeps, drawing the same randomness:
// over many random streams and bounds, with readers and a merge that come
// while records are still queued on both sides, the encoded states are
// byte for byte the same.
func TestBatchedBoundingMatchesOneAtATime(t *testing.T) {
	for c := range 300 {
		r := rand.New(rand.NewPCG(uint64(c), 11))
		l0, linf := 1+r.IntN(6), 1+r.IntN(4)
		values := r.IntN(4) > 0
		persons, parts := 1+r.IntN(40), 1+r.IntN(15)
		hint := []int{0, persons, 1000}[r.IntN(3)]
		salt := r.Uint64()
		seed := r.Uint64()
		// Two bounders each way, the second merged into the first; the
		// same partitions (same keys) in all four.
		mk := func(stream uint64) *bounder[int64] {
			b := newBounder[int64](l0, linf, values, salt, rand.New(rand.NewPCG(seed, stream)), hint)
			for k := range parts {
				b.addPartition(hashString(salt^hashK2, "key-"+strconv.Itoa(k)))
			}
			return b
		}
		batched, one := mk(1), mk(1)
		obatched, oone := mk(2), mk(2)
		feed := func(bat, ref *bounder[int64], n int) {
			for range n {
				person := "p" + strconv.Itoa(r.IntN(persons))
				pid, v := int32(r.IntN(parts)), r.Int64N(100)
				bat.add(person, pid, v)
				ref.bound(ref.pseudonym(person), pid, v)
				if r.IntN(50) == 0 { // a reader in the middle of a batch
					require.Equal(t, ref.personsPerPartition(), bat.personsPerPartition(), "case %d", c)
				}
			}
		}
		feed(batched, one, r.IntN(400))
		feed(obatched, oone, r.IntN(400))
		ident := make([]int32, parts)
		for k := range ident {
			ident[k] = int32(k)
		}
		batched.mergeFrom(obatched, ident)
		one.mergeFrom(oone, ident)
		feed(batched, one, r.IntN(100))

		var wb, wo writer
		encodeBounder(&wb, batched)
		encodeBounder(&wo, one)
		require.Equal(t, wo.buf, wb.buf, "case %d: l0=%d linf=%d values=%v", c, l0, linf, values)
		require.Equal(t, one.dropped, batched.dropped, "case %d", c)
		require.Empty(t, batched.queue, "case %d: encoding flushes", c)
	}
}

// tableSize sizes the table so that n persons fit without growing.
func TestTableSizeHoldsHint(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 64, 1000, 1 << 20, 1_000_000, maxExpectedPersons} {
		size := tableSize(n)
		require.GreaterOrEqual(t, size, 2*n, "n=%d", n)
		require.Equal(t, 0, size&(size-1), "n=%d: a power of two", n)
		require.LessOrEqual(t, size, max(64, 4*n), "n=%d", n)
		require.LessOrEqual(t, size, 1<<31, "n=%d: indexable by int32", n)
	}
}
