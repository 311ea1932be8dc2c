package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateUsername(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
	}{
		{"", ErrUsernameRequired},
		{"ab", ErrUsernameLength},
		{"abc", nil},
		{"Alice_B-2", nil},
		{strings.Repeat("a", 32), nil},
		{strings.Repeat("a", 33), ErrUsernameLength},
		{"al ice", ErrUsernameChars},
		{"<script>", ErrUsernameChars},
		{"alice!", ErrUsernameChars},
		{"ålice", ErrUsernameChars}, // non-ASCII letters refused
		{"аlice", ErrUsernameChars}, // Cyrillic а look-alike
		{"a\x00b", ErrUsernameChars},
	} {
		if err := ValidateUsername(tc.name); !errors.Is(err, tc.want) {
			t.Errorf("ValidateUsername(%q) = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestGitHubUsername(t *testing.T) {
	for _, tc := range []struct{ login, want string }{
		{"octocat", "octocat"},
		{"Octo-Cat", "Octo-Cat"},
		{"a", "gh-a"},
		{"ab", "gh-ab"},
		{"", "github-user"},
		{"___", "github-user"},
		{"a.b", "a_b"},
		{strings.Repeat("x", 39), strings.Repeat("x", 32)},
	} {
		got := gitHubUsername(tc.login)
		if got != tc.want {
			t.Errorf("gitHubUsername(%q) = %q, want %q", tc.login, got, tc.want)
		}
		if err := ValidateUsername(got); err != nil {
			t.Errorf("gitHubUsername(%q) = %q is not a valid username: %v", tc.login, got, err)
		}
	}
}
