package main

import (
	"testing"

	"github.com/herald-chat/herald/internal/gcheadroom"
)

// TestGCHeadroomConfig: the collector headroom comes from the flag, else GC_HEADROOM_MB, else
// the default, in MiB; a value whose bytes would overflow is an error, not a wrapped number.
func TestGCHeadroomConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	for _, c := range []struct {
		args []string
		vars map[string]string
		want uint64
	}{
		{want: gcheadroom.DefaultHeadroom},
		{vars: map[string]string{"GC_HEADROOM_MB": "0"}, want: 0},
		{vars: map[string]string{"GC_HEADROOM_MB": "16"}, want: 16 << 20},
		{args: []string{"-gc-headroom-mb", "128"}, vars: map[string]string{"GC_HEADROOM_MB": "16"}, want: 128 << 20},
	} {
		cfg, err := parseConfig(c.args, env(c.vars))
		if err != nil {
			t.Fatalf("%v %v: %v", c.args, c.vars, err)
		}
		if cfg.GCHeadroom != c.want {
			t.Errorf("%v %v: headroom %d, want %d", c.args, c.vars, cfg.GCHeadroom, c.want)
		}
	}
	for _, bad := range []map[string]string{{"GC_HEADROOM_MB": "lots"}, {"GC_HEADROOM_MB": "-1"}, {"GC_HEADROOM_MB": "17592186044416"}} {
		if _, err := parseConfig(nil, env(bad)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if _, err := parseConfig([]string{"-gc-headroom-mb", "17592186044416"}, env(nil)); err == nil {
		t.Error("a flag value past 1 TiB: no error")
	}
}
