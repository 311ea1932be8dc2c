// Package result holds what the load generator measures and hands to the
// suite runner: a mergeable latency histogram and the JSON result of one run.
package result

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a reported value is within 1/2^subBits (0.8%) of the
// true one.
const subBits = 7

const (
	subCount = 1 << subBits
	// maxExp covers values up to 2^(maxExp+subBits) ns, about 39 hours.
	maxExp     = 40
	numBuckets = (maxExp + 1) * subCount
)

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < subCount {
		return int(u)
	}
	e := bits.Len64(u) - subBits - 1 // u>>e is in [subCount, 2*subCount)
	if e > maxExp-1 {
		return numBuckets - 1
	}
	return (e+1)*subCount + int(u>>uint(e)) - subCount
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (lo, width int64) {
	if i < subCount {
		return int64(i), 1
	}
	e := i/subCount - 1
	m := int64(i%subCount + subCount)
	return m << uint(e), int64(1) << uint(e)
}

// Histogram counts non-negative int64 samples (nanoseconds in this harness)
// in log-linear buckets. Record and Max are safe for concurrent use; Merge,
// Quantile and Sparse must not run concurrently with Record.
// The zero value is not usable: call NewHistogram.
type Histogram struct {
	counts []atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]atomic.Uint64, numBuckets)}
}

// Record adds one sample. Negative samples count as zero.
func (h *Histogram) Record(v int64) {
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest sample recorded, exactly.
func (h *Histogram) Max() int64 { return h.max.Load() }

// Quantile returns an estimate of the q-quantile (0 ≤ q ≤ 1), the middle of
// the bucket holding it, or 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, w := bucketRange(i)
			v := lo + w/2
			if m := h.max.Load(); v > m {
				v = m
			}
			return v
		}
	}
	return h.max.Load()
}

// Sparse is a histogram in a compact, JSON-friendly form: pairs of
// [bucket index, count] for the non-empty buckets, and the exact maximum.
type Sparse struct {
	Buckets [][2]uint64 `json:"buckets"`
	Max     int64       `json:"max"`
}

// Sparse returns the histogram's compact form.
func (h *Histogram) Sparse() Sparse {
	s := Sparse{Max: h.max.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return s
}

// Merge adds the samples of a compact histogram to h. Bucket indexes out of
// range are ignored.
func (h *Histogram) Merge(s Sparse) {
	for _, b := range s.Buckets {
		if b[0] >= numBuckets {
			continue
		}
		h.counts[b[0]].Add(b[1])
		h.total.Add(b[1])
	}
	if s.Max > h.max.Load() {
		h.max.Store(s.Max)
	}
}
