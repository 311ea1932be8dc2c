package auth

import (
	"context"
	"time"
)

// bcryptSlots bounds how many bcrypt computations run at once. Each takes tens of milliseconds
// of one core; without a bound, a burst of sign-ups or logins occupies every core and every other
// request (pages, sockets) waits behind it. A request that cannot get a slot within its wait is
// refused with ErrBusy rather than queueing without end.
type bcryptSlots struct {
	slots chan struct{}
	wait  time.Duration
	// held, when a test sets it, runs while a slot is held, before the computation.
	held func()
}

func newBcryptSlots(n int, wait time.Duration) *bcryptSlots {
	return &bcryptSlots{slots: make(chan struct{}, n), wait: wait}
}

// do runs f in a slot, waiting for one at most s.wait and as long as ctx lasts.
func (s *bcryptSlots) do(ctx context.Context, f func()) error {
	timer := time.NewTimer(s.wait)
	defer timer.Stop()
	select {
	case s.slots <- struct{}{}:
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
	defer func() { <-s.slots }()
	if s.held != nil {
		s.held()
	}
	f()
	return nil
}
