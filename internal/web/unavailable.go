package web

import (
	"errors"
	"net/http"

	"github.com/herald-chat/herald/internal/store"
)

// errUnavailable is what a user sees while the database is away.
const errUnavailable = "the service is briefly unavailable, please try again in a moment"

// retryAfterSeconds is the Retry-After of a 503: a database restart or a
// fail-over takes seconds, not minutes.
const retryAfterSeconds = "5"

// failure maps a server-side error to its status and the text a user sees:
// 503 (with Retry-After) while the database cannot be reached, since the
// same request will work once it is back; 500 for anything else.
func failure(w http.ResponseWriter, err error) (status int, text string) {
	if errors.Is(err, store.ErrUnavailable) {
		w.Header().Set("Retry-After", retryAfterSeconds)
		return http.StatusServiceUnavailable, errUnavailable
	}
	return http.StatusInternalServerError, errSomethingWrong
}
