package token

import (
	"crypto/rand"
	"hash/crc32"
)

// alphabet holds the base62 digits in ASCII order; a digit's value is its
// index.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// rejectAbove is the largest multiple of 62 that fits in a byte (4*62):
// random bytes at or above it are discarded so that b%62 is uniform.
const rejectAbove = 248

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// randomBase62 fills dst with characters chosen uniformly from alphabet,
// using rejection sampling on bytes from crypto/rand (no modulo bias).
func randomBase62(dst []byte) error {
	var pool [64]byte
	next := len(pool)
	defer clear(pool[:])
	for i := range dst {
		for {
			if next == len(pool) {
				if _, err := rand.Read(pool[:]); err != nil {
					return err
				}
				next = 0
			}
			b := pool[next]
			next++
			if b < rejectAbove {
				dst[i] = alphabet[b%62]
				break
			}
		}
	}
	return nil
}

// checksum is the CRC-32 (IEEE) of b, the same value as
// crc32.ChecksumIEEE. It walks the table itself because the crc32 entry
// points leak their argument, which would force a heap copy of a string.
func checksum[T ~string | ~[]byte](b T) uint32 {
	tab := crc32.IEEETable
	crc := ^uint32(0)
	for i := 0; i < len(b); i++ {
		crc = tab[byte(crc)^b[i]] ^ crc>>8
	}
	return ^crc
}

// putChecksum writes v into dst as a big-endian base62 number, left-padded
// with '0' to len(dst) digits. len(dst) must be 6 to hold every uint32.
func putChecksum(dst []byte, v uint32) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = alphabet[v%62]
		v /= 62
	}
}
