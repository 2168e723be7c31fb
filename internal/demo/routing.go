package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// demoQueues are the contact center's queues: live contacts of these
// channels wait in them for an agent (the demo's arrivals among them).
var demoQueues = []struct {
	name     string
	channels []engine.Channel
	target   time.Duration
	maxWait  time.Duration
}{
	{"Calls", []engine.Channel{engine.ChannelVoice}, 20 * time.Second, 10 * time.Minute},
	{"Chats & messages", []engine.Channel{engine.ChannelChat, engine.ChannelMessage}, 60 * time.Second, 30 * time.Minute},
	{"Email", []engine.Channel{engine.ChannelEmail}, 4 * time.Hour, 24 * time.Hour},
}

// routedSignIns are the demo users who take routed work, all offline until
// they go available in the desk.
var routedSignIns = []string{"agent@demo.example", "agent2@demo.example", "agent3@demo.example", "supervisor@demo.example"}

// setUpRouting makes the queues (found again by name) and the agents'
// routing profiles.
func setUpRouting(ctx context.Context, s *app.Services, users map[string]id.ID) error {
	have, err := s.Routing.ListQueues(ctx)
	if err != nil {
		return err
	}
	byName := map[string]bool{}
	for _, q := range have {
		byName[q.Name] = true
	}
	for _, dq := range demoQueues {
		if byName[dq.name] {
			continue
		}
		q := engine.Queue{Channels: dq.channels, Target: engine.ServiceLevel{Percent: 80, Within: dq.target}, MaxWait: dq.maxWait}
		if _, err := s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: dq.name, Queue: q}); err != nil {
			return fmt.Errorf("demo queue %q: %w", dq.name, err)
		}
	}
	for _, email := range routedSignIns {
		uid, ok := users[email]
		if !ok {
			continue
		}
		// Tasks: callbacks and the store's walk-ins (demo kiosk).
		p := routing.AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelVoice: 1, engine.ChannelChat: 3, engine.ChannelMessage: 3, engine.ChannelEmail: 5, engine.ChannelTask: 2}}
		if _, err := s.Routing.SetAgentProfile(ctx, uid, p); err != nil {
			return fmt.Errorf("routing profile of %s: %w", email, err)
		}
	}
	return nil
}
