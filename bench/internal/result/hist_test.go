package result

import (
	"encoding/json"
	"math"
	"testing"
)

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 1e6, 123456789, 5e9, 1 << 45} {
		lo, w := bucketRange(bucketOf(v))
		if v < lo || v >= lo+w {
			t.Errorf("value %d: bucket [%d, %d) does not hold it", v, lo, lo+w)
		}
		if v >= subCount && float64(w)/float64(lo) > 1.0/subCount+1e-9 {
			t.Errorf("value %d: bucket width %d too coarse for %d", v, w, lo)
		}
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("negative sample: bucket %d, want 0", got)
	}
	if got := bucketOf(math.MaxInt64); got != numBuckets-1 {
		t.Errorf("huge sample: bucket %d, want the last", got)
	}
}

func TestQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := int64(1); i <= 10000; i++ {
		h.Record(i * 1000) // 1 µs … 10 ms
	}
	if h.Count() != 10000 || h.Max() != 10000*1000 {
		t.Fatalf("count %d max %d", h.Count(), h.Max())
	}
	for _, c := range []struct {
		q    float64
		want float64
	}{{0.5, 5e6}, {0.99, 9.9e6}, {1, 1e7}} {
		got := float64(h.Quantile(c.q))
		if math.Abs(got-c.want)/c.want > 0.01 {
			t.Errorf("q%.2f = %.0f, want %.0f ± 1%%", c.q, got, c.want)
		}
	}
	if NewHistogram().Quantile(0.5) != 0 {
		t.Error("empty histogram: quantile not 0")
	}
}

func TestMergeThroughJSON(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := range int64(100) {
		a.Record(i * 10)
		b.Record(1e6 + i)
	}
	js, err := json.Marshal(b.Sparse())
	if err != nil {
		t.Fatal(err)
	}
	var s Sparse
	if err := json.Unmarshal(js, &s); err != nil {
		t.Fatal(err)
	}
	a.Merge(s)
	if a.Count() != 200 || a.Max() != 1e6+99 {
		t.Fatalf("after merge: count %d max %d", a.Count(), a.Max())
	}
	if q := a.Quantile(0.25); q > 1000 {
		t.Errorf("q0.25 = %d, want a value from the first histogram", q)
	}
	if q := a.Quantile(0.75); q < 1e6 {
		t.Errorf("q0.75 = %d, want a value from the second histogram", q)
	}
}
