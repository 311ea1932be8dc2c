package socketio_test

import (
	"testing"

	"github.com/herald-chat/herald/socketio"
	"github.com/herald-chat/herald/socketio/adaptertest"
)

// TestMemoryAdapterContract runs the adapter contract on the in-memory adapter, one server.
func TestMemoryAdapterContract(t *testing.T) {
	adaptertest.Run(t, adaptertest.Backend{
		MaxServers: 1,
		Config:     func(*testing.T, string) socketio.Config { return socketio.Config{} },
	})
}
