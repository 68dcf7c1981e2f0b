package dpbeam

import (
	"strconv"
	"strings"
)

// joinKey encodes two strings, each of any content, as one partition key:
// the length of a, a colon, a, then b. splitKey inverts it.
func joinKey(a, b string) string {
	return strconv.Itoa(len(a)) + ":" + a + b
}

// splitKey decodes what joinKey encodes, reporting false for anything
// else.
func splitKey(k string) (a, b string, ok bool) {
	i := strings.IndexByte(k, ':')
	if i < 1 {
		return "", "", false
	}
	n, err := strconv.Atoi(k[:i])
	if err != nil || n < 0 || n > len(k)-i-1 || strconv.Itoa(n) != k[:i] {
		return "", "", false
	}
	return k[i+1 : i+1+n], k[i+1+n:], true
}
