// Package worker runs the polling loops of the durable queues (the outbox
// of replies, the webhook deliveries): a pass at once, then one every poll
// or when woken, and at once again while passes come back full.
package worker

import (
	"context"
	"time"
)

// Wake is a doorbell: Ring never blocks, and rings that come while one is
// pending merge into it.
type Wake chan struct{}

// NewWake returns a doorbell.
func NewWake() Wake { return make(Wake, 1) }

// Ring asks the loop for a pass soon.
func (w Wake) Ring() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// Poll calls pass until ctx ends. pass returns how many rows it handled; a
// full batch means more may be due, so the next pass runs at once. A ring
// comes from inside the ringer's transaction, so the loop waits a moment
// for that transaction to commit before it looks.
func Poll(ctx context.Context, every time.Duration, wake Wake, batch int, pass func(context.Context) (int, error), failed func(error)) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		n, err := pass(ctx)
		if err != nil && ctx.Err() == nil {
			failed(err)
		}
		next := every
		if n >= batch {
			next = 0
		}
		t.Reset(next)
	}
}
