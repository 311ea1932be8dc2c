// Package storetest is the contract suite of the store interfaces: every
// backend (store/sqlite, store/postgres) runs the same tests, so the rest of
// the program can rely on one behaviour whichever database it has.
//
// A backend's test calls Run with a Fresh function that creates an empty
// database and returns a way to open handles on it. Several handles on one
// database play several Herald nodes sharing it.
package storetest

import (
	"context"
	"testing"

	"github.com/herald-chat/herald/internal/store"
)

// Fresh creates an empty database for one test and returns a function that
// opens a new handle on it, closed when the test ends. Calling the returned
// function twice gives two independent handles (two "nodes") on the same
// data.
type Fresh func(t *testing.T) (open func(t *testing.T) store.DB)

// Run runs the whole contract suite against the backend behind fresh.
func Run(t *testing.T, fresh Fresh) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Fresh)
	}{
		{"UsersCreateAndLookup", testUsersCreateAndLookup},
		{"UsersCreateTakenIsCaseInsensitive", testUsersCreateTakenIsCaseInsensitive},
		{"UsersConcurrentCreateSameName", testUsersConcurrentCreateSameName},
		{"CreateGitHubUser", testCreateGitHubUser},
		{"CreateGitHubUserSuffixFitsMaxLen", testCreateGitHubUserSuffixFitsMaxLen},
		{"CreateGitHubUserConcurrentSameID", testCreateGitHubUserConcurrentSameID},
		{"CreateGitHubUserTwoNodesSameName", testCreateGitHubUserTwoNodesSameName},
		{"Sessions", testSessions},
		{"MessagesAppendAndRecent", testMessagesAppendAndRecent},
		{"MessagesAppendFillsUsernameAndChecksAuthor", testMessagesAppendFillsUsernameAndChecksAuthor},
		{"MessagesConcurrentAppend", testMessagesConcurrentAppend},
		{"MessagesUnknownAuthorAmongConcurrent", testMessagesUnknownAuthorAmongConcurrent},
		{"MessagesIDsCommitInOrderAcrossNodes", testMessagesIDsCommitInOrderAcrossNodes},
		{"Ping", testPing},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, fresh) })
	}
}

// openOne is a fresh database with a single handle on it.
func openOne(t *testing.T, fresh Fresh) store.DB {
	t.Helper()
	return fresh(t)(t)
}

func testPing(t *testing.T, fresh Fresh) {
	db := openOne(t, fresh)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
