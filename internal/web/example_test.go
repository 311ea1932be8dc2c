package web_test

import (
	"context"
	"log"
	"net/http"

	"github.com/herald-chat/herald/internal/auth"
	"github.com/herald-chat/herald/internal/store/sqlite"
	"github.com/herald-chat/herald/internal/web"
)

// Main mounts the pages and puts the socket endpoint and metrics beside
// them on one mux.
func ExampleHandler_Mount() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	a, err := auth.New(auth.Config{Users: db.Users(), Sessions: db.Sessions(), Secret: []byte("at least sixteen bytes of secret")})
	if err != nil {
		log.Fatal(err)
	}
	pages, err := web.New(web.Config{HealthCheck: db.Ping}, a)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	pages.Mount(mux)
	mux.Handle("/socket.io/", http.NotFoundHandler())  // the Socket.IO server
	mux.Handle("GET /metrics", http.NotFoundHandler()) // Prometheus
	_ = &http.Server{Addr: ":3000", Handler: mux}
	// Output:
}
