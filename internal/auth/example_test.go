package auth_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/sqlite"
)

// The socket layer authenticates an Engine.IO handshake with
// UserFromRequest: the handshake request carries the browser's cookies.
func ExampleAuth_UserFromRequest() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	a, err := auth.New(auth.Config{
		Users:      db.Users(),
		Sessions:   db.Sessions(),
		Secret:     []byte("at least sixteen bytes of secret"),
		BcryptCost: bcrypt.MinCost,
	})
	if err != nil {
		log.Fatal(err)
	}

	// Sign-up sets the session cookie…
	u, err := a.Register(ctx, "alice", "correct horse", "192.0.2.1")
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := a.StartSession(ctx, rec, httptest.NewRequest("POST", "/register", nil), u); err != nil {
		log.Fatal(err)
	}

	// …which the browser sends with its handshake.
	handshake := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil)
	for _, c := range rec.Result().Cookies() {
		handshake.AddCookie(c)
	}
	user, _, ok := a.UserFromRequest(handshake)
	fmt.Println(user.Username, ok)

	// Without the cookie there is no user.
	_, _, ok = a.UserFromRequest(httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
	fmt.Println(ok)
	// Output:
	// alice true
	// false
}
