package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear microsecond buckets: exact
// below 256 µs, then 128 buckets per power of two (under 1% error).
type histogram struct {
	counts [40 * 256]int64
	n      int64
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < 256 {
		return int(us)
	}
	e := bits.Len64(us) - 8
	return min(e*256+int(us>>e), 40*256-1)
}

func valueOf(i int) time.Duration {
	e, m := i/256, i%256
	return time.Duration(uint64(m)<<e) * time.Microsecond
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency at or below which the fraction q of the
// requests completed.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := int64(q * float64(h.n))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen > want {
			return valueOf(i)
		}
	}
	return h.max
}
