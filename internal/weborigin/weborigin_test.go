package weborigin

import "testing"

func TestNormal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"https://Chat.Example:8443", "https://chat.example:8443", true},
		{"http://chat.example:80", "http://chat.example", true},
		{"https://chat.example:443/path?q=1", "https://chat.example", true},
		{"https://chat.example:80", "https://chat.example:80", true},
		{"http://[::1]:80", "http://[::1]", true},
		{"http://[::1]:3000", "http://[::1]:3000", true},
		{"null", "", false},
		{"ftp://chat.example", "", false},
		{"chat.example", "", false},
		{"http://%zz", "", false},
	} {
		got, ok := Normal(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Normal(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
