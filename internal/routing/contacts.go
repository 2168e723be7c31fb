package routing

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// ChannelOf is the routing channel of an interaction kind; "" when such a
// contact is not live work for an agent.
func ChannelOf(kind string) engine.Channel {
	switch kind {
	case "call", "voicemail":
		return engine.ChannelVoice
	case "chat":
		return engine.ChannelChat
	case "sms", "message", "social_post":
		return engine.ChannelMessage
	case "email":
		return engine.ChannelEmail
	case "callback":
		return engine.ChannelTask
	}
	return ""
}

// liveWindow bounds how old a contact may be and still wait for an agent:
// history being imported is not live work.
const liveWindow = 10 * time.Minute

// RouteContacts puts new inbound contacts that nobody has served yet in the
// queue that takes their channel (an interaction listener, called after
// the contacts are committed). A contact recorded with a staff member or an
// outcome was served already; one older than a few minutes is history.
// A contact the router could not take (no queue for its channel, or routing
// runs on another node) stays on its case and the timeline; the failure is
// logged.
func (s *Service) RouteContacts(ctx context.Context, stored []interaction.Recorded) {
	var queues []*Queue
	now := s.Now()
	for _, r := range stored {
		in := r.In
		ch := ChannelOf(in.Kind)
		if ch == "" || in.Direction != interaction.Inbound || in.StaffID != nil || in.StaffName != "" || in.Outcome != "" ||
			now.Sub(in.OccurredAt) > liveWindow {
			continue
		}
		if queues == nil {
			var err error
			if queues, err = s.ListQueues(ctx); err != nil {
				s.log.Warn("routing a new contact: reading queues", "err", err)
				return
			}
		}
		q := queueFor(queues, ch)
		if q == nil {
			continue
		}
		_, err := s.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: ch, CustomerID: r.CustomerID, CaseID: r.CaseID, InteractionID: r.ID})
		if err != nil && !errors.Is(err, ErrOtherNode) {
			s.log.Warn("routing a new contact", "interaction", r.ID, "queue", q.ID, "err", err)
		}
	}
}

// queueFor picks the first open queue that names the channel, else the
// first that takes any channel.
func queueFor(queues []*Queue, ch engine.Channel) *Queue {
	var any *Queue
	for _, q := range queues {
		if q.Closed {
			continue
		}
		if slices.Contains(q.Channels, ch) {
			return q
		}
		if len(q.Channels) == 0 && any == nil {
			any = q
		}
	}
	return any
}
