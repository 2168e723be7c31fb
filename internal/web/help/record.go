package help

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// recorder writes page views in batches on one goroutine: a view costs the
// page a channel send, and views that arrive while a batch is written go
// into the next one (one transaction for many views under load).
type recorder struct {
	interactions *interaction.Service
	log          *slog.Logger
	queue        chan interaction.Input
	pending      sync.WaitGroup
	start        sync.Once
}

// recorderQueue is two batches: enough to keep the writer busy, and small
// enough not to count in an idle node's memory (4,096 inputs were 1.9 MB).
const recorderQueue = 512

func newRecorder(s *interaction.Service, log *slog.Logger) *recorder {
	return &recorder{interactions: s, log: log, queue: make(chan interaction.Input, recorderQueue)}
}

// add queues a view; when the queue is full it waits (back-pressure rather
// than a lost view) until ctx ends.
func (rc *recorder) add(ctx context.Context, in interaction.Input) {
	rc.start.Do(func() { go rc.run() })
	rc.pending.Add(1)
	select {
	case rc.queue <- in:
	case <-ctx.Done():
		rc.pending.Done()
	}
}

func (rc *recorder) flush() { rc.pending.Wait() }

func (rc *recorder) run() {
	batch := make([]interaction.Input, 0, 256)
	for in := range rc.queue {
		batch = append(batch[:0], in)
	more:
		for len(batch) < 256 {
			select {
			case in := <-rc.queue:
				batch = append(batch, in)
			default:
				break more
			}
		}
		rc.write(batch)
		for range batch {
			rc.pending.Done()
		}
	}
}

// write stores a batch; if the batch is refused (one bad view), each view
// is tried alone so that the others are kept.
func (rc *recorder) write(batch []interaction.Input) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := rc.interactions.Record(ctx, batch); err == nil {
		return
	} else if len(batch) == 1 {
		rc.log.Warn("help: recording a page view failed", "err", err)
		return
	}
	for i := range batch {
		if _, err := rc.interactions.Record(ctx, batch[i:i+1]); err != nil {
			rc.log.Warn("help: recording a page view failed", "err", err)
		}
	}
}
