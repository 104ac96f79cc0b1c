package inventory

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
)

// idDigest is the fingerprint of a set of credential ids that binds a bulk
// revocation's confirmation to exactly what its preview matched: SHA-256
// over a version prefix and then every id, in ascending byte order, each
// preceded by its length (so no two sets share an input). Feeding ids one
// at a time lets a preview hash hundreds of thousands of them as the store
// streams them, without holding them.
type idDigest struct {
	h    hash.Hash
	n    int64
	last string
}

const idDigestPrefix = "keyward.bulk-revoke.ids.v1\n"

func newIDDigest() *idDigest {
	d := &idDigest{h: sha256.New()}
	d.h.Write([]byte(idDigestPrefix))
	return d
}

// add hashes the next id. Ids must come in strictly ascending byte order:
// anything else would give one set two digests, so it is an error.
func (d *idDigest) add(id string) error {
	if d.n > 0 && id <= d.last {
		return fmt.Errorf("selection digest: id %q after %q is out of order", id, d.last)
	}
	var l [binary.MaxVarintLen64]byte
	d.h.Write(l[:binary.PutUvarint(l[:], uint64(len(id)))])
	d.h.Write([]byte(id))
	d.n++
	d.last = id
	return nil
}

// sum returns the digest (hex) and how many ids it covers.
func (d *idDigest) sum() (string, int64) {
	return hex.EncodeToString(d.h.Sum(nil)), d.n
}

// digestOfIDs is the digest of ids given in any order; it sorts them (in
// place).
func digestOfIDs(ids []string) (string, int64, error) {
	slices.Sort(ids)
	d := newIDDigest()
	for _, id := range ids {
		if err := d.add(id); err != nil {
			return "", 0, err
		}
	}
	s, n := d.sum()
	return s, n, nil
}
