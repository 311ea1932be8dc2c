package chatredis

import "context"

// Crash stops the presence's renewals without leaving Redis: as if its server were killed.
func (p *Presence) Crash() {
	p.stop()
	<-p.done
}

// Tick runs one renewal at once.
func (p *Presence) Tick() { p.tick(context.Background()) }
