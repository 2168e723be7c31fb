package routing

import (
	"context"
	"slices"

	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// AgentsReady tells whether a contact on channel ch would find someone now:
// a queue takes the channel and an agent who may work that queue is
// available (or busy, i.e. ready but working) with capacity for the
// channel. It reads the stored rows, so it answers on every node; the chat
// widget asks it to decide whether to offer to answer by email instead.
func (s *Service) AgentsReady(ctx context.Context, ch engine.Channel) (bool, error) {
	queues, err := s.ListQueues(ctx)
	if err != nil {
		return false, err
	}
	q := queueFor(queues, ch)
	if q == nil {
		return false, nil
	}
	agents, err := s.ListAgents(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range agents {
		if a.Presence != engine.Available && a.Presence != engine.Busy {
			continue
		}
		if a.Capacity[ch] <= 0 {
			continue
		}
		if len(a.Queues) == 0 || slices.Contains(a.Queues, q.ID) {
			return true, nil
		}
	}
	return false, nil
}
