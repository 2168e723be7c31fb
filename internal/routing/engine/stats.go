package engine

import (
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// QueueStats is a supervisor's view of one queue.
type QueueStats struct {
	QueueID  string `json:"queue_id"`
	Open     bool   `json:"open"`
	Waiting  int    `json:"waiting"`  // not offered, including Reserved
	Reserved int    `json:"reserved"` // waiting for their preferred agent
	Offered  int    `json:"offered"`
	Assigned int    `json:"assigned"`
	// OldestWait is the longest current wait (since EnqueuedAt) of a waiting item.
	OldestWait time.Duration `json:"oldest_wait"`
	// Agents counts, by presence, the agents who could take the queue's work
	// (capacity on one of its channels, its skills, the queue allowed).
	Agents map[Presence]int `json:"agents"`
	// Answered counts first assignments, AnsweredInTarget those within the
	// target, Abandoned items that left unserved; all since the counters began.
	Answered         int64 `json:"answered"`
	AnsweredInTarget int64 `json:"answered_in_target"`
	Abandoned        int64 `json:"abandoned"`
	// ServiceLevel is AnsweredInTarget / (Answered + Abandoned), 0..1; -1
	// when nothing was answered or abandoned yet.
	ServiceLevel float64      `json:"service_level"`
	Target       ServiceLevel `json:"target"`
}

// Stats reports on a queue at now. It only reads: timers due by now have not
// fired until the next call that changes state.
func (e *Engine) Stats(queueID string, now time.Time) (QueueStats, error) {
	qs := e.queues[queueID]
	if qs == nil {
		return QueueStats{}, errs.NotFoundf("queue %q", queueID)
	}
	now = norm(now)
	st := QueueStats{QueueID: queueID, Open: qs.open, Agents: map[Presence]int{},
		Answered: qs.answered, AnsweredInTarget: qs.inTarget, Abandoned: qs.abandoned,
		ServiceLevel: -1, Target: qs.cfg.Target}
	for _, it := range qs.items {
		switch it.status {
		case StatusWaiting:
			st.Waiting++
			if it.reserved != nil {
				st.Reserved++
			}
			st.OldestWait = max(st.OldestWait, now.Sub(it.w.EnqueuedAt))
		case StatusOffered:
			st.Offered++
		case StatusAssigned:
			st.Assigned++
		}
	}
	if d := qs.answered + qs.abandoned; d > 0 {
		st.ServiceLevel = float64(qs.inTarget) / float64(d)
	}
	reqs := reqsOf(qs.cfg.Skills, nil)
	for _, a := range e.slots {
		if a == nil || (a.allow != nil && !a.allow[queueID]) {
			continue
		}
		ok := true
		for _, r := range reqs {
			if l, has := a.cfg.Skills[r.name]; !has || l < r.level {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		takes := false
		for c, n := range a.cfg.Capacity {
			if n > 0 && (len(qs.cfg.Channels) == 0 || slices.Contains(qs.cfg.Channels, c)) {
				takes = true
				break
			}
		}
		if takes {
			st.Agents[a.presence]++
		}
	}
	return st, nil
}
