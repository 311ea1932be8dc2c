package auth

import (
	"testing"

	"github.com/herald-chat/herald/internal/store/sqlite"
)

func TestNewRejectsBadConfig(t *testing.T) {
	db, err := sqlite.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := Config{Users: db.Users(), Sessions: db.Sessions(), Secret: make([]byte, MinSecretLen)}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	for name, tweak := range map[string]func(*Config){
		"no users":     func(c *Config) { c.Users = nil },
		"no sessions":  func(c *Config) { c.Sessions = nil },
		"short secret": func(c *Config) { c.Secret = make([]byte, MinSecretLen-1) },
		"bcrypt cost":  func(c *Config) { c.BcryptCost = 99 },
		"github URL":   func(c *Config) { c.GitHub = GitHubConfig{ClientID: "id", ClientSecret: "s", TokenURL: "::"} },
	} {
		cfg := good
		tweak(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
}
