package tcf

import (
	"errors"
	"testing"

	"github.com/prebid/go-gpp/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSafelyRecovers checks the API boundary: a panic in a decoding library
// becomes an ErrMalformed error naming the part, never a crash.
func TestSafelyRecovers(t *testing.T) {
	v, err := safely("core", func() (*TCString, error) {
		panic("index out of range [3] with length 1") // as a library bug would

	})
	assert.Nil(t, v)
	require.ErrorIs(t, err, ErrMalformed)
	var pe *ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "core", pe.Part)
	assert.Contains(t, err.Error(), "decoder panicked")
	assert.Contains(t, err.Error(), "index out of range")
}

func TestSafelyPassesResults(t *testing.T) {
	v, err := safely("x", func() (int, error) { return 7, nil })
	assert.Equal(t, 7, v)
	assert.NoError(t, err)
}

func TestReadFibMatchesGoGPP(t *testing.T) {
	// Code words as go-gpp writes them, read back by readFib.
	for n := uint16(1); n < 1597; n++ {
		bs := util.NewBitStreamForWrite()
		require.NoError(t, bs.WriteFibonacciInt(n))
		r, err := util.NewBitStreamFromBase64(string(bs.Base64Encode()))
		require.NoError(t, err)
		got, err := readFib(r)
		require.NoError(t, err, "n=%d", n)
		require.Equal(t, int(n), got)
	}
}
