package engineio

import (
	"net/url"
	"strings"
	"testing"
)

// queryCases are the seeds: real clients' queries and the corners of url.ParseQuery's rules.
var queryCases = []string{
	"EIO=4&transport=polling&t=Pabc123",
	"EIO=4&transport=polling&t=Pabc123&sid=AbCdEfGhIjKlMnOpQrSt",
	"EIO=4&transport=websocket&sid=x-y_z",
	"",
	"EIO=3&EIO=4",
	"EIO&transport=",
	"E%49O=4&transport=poll%69ng&sid=a%2Bb+c",
	"EIO=4;transport=polling",
	"EIO=%zz&EIO=4",
	"sid=%&sid=ok",
	"&&EIO=4&&",
	"=4&EIO==4",
	"EIO=4&transport=polling&sid=%E2%9C%93",
}

// TestParseParamsMatchesParseQuery: the routing parameters are what url.ParseQuery would give.
func TestParseParamsMatchesParseQuery(t *testing.T) {
	for _, raw := range queryCases {
		checkParams(t, raw)
	}
}

// TestParseParamsAllocatesNothingForAPoll: the point of parseParams.
func TestParseParamsAllocatesNothingForAPoll(t *testing.T) {
	raw := "EIO=4&transport=polling&t=Pabc123&sid=AbCdEfGhIjKlMnOpQrSt"
	if n := testing.AllocsPerRun(100, func() { _ = parseParams(raw) }); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

// FuzzParseParams holds parseParams to url.ParseQuery on any query.
func FuzzParseParams(f *testing.F) {
	for _, raw := range queryCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.Count(raw, "&") > 1000 {
			t.Skip("url.ParseQuery caps the number of pairs")
		}
		checkParams(t, raw)
	})
}

func checkParams(t *testing.T, raw string) {
	t.Helper()
	q, _ := url.ParseQuery(raw)
	want := requestParams{eio: q.Get("EIO"), transport: q.Get("transport"), sid: q.Get("sid")}
	if got := parseParams(raw); got != want {
		t.Errorf("parseParams(%q) = %+v, url.ParseQuery gives %+v", raw, got, want)
	}
}
