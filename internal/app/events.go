package app

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchpoint-hub/touchpoint/internal/channel/segment"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// eventAPI is the Segment-compatible event API (/v1/...).
func eventAPI(s *Services, log *slog.Logger) *segment.Handler {
	h := &segment.Handler{Points: s.ContactPoints, Recorder: s.Interactions, Log: log}
	if s.Events != nil {
		h.Recorder = s.Events
	}
	return h
}

// journalCollector exports the ingest journal's figures as metrics.
type journalCollector struct{ j *interaction.Journaled }

var (
	journalBacklog  = prometheus.NewDesc("touchpoint_ingest_backlog_records", "Event API requests acknowledged and journaled but not stored in the database yet.", nil, nil)
	journalStored   = prometheus.NewDesc("touchpoint_ingest_journal_stored_events_total", "Events stored from the ingest journal since the start.", nil, nil)
	journalRerouted = prometheus.NewDesc("touchpoint_ingest_journal_rerouted_events_total", "Journaled events stored on another customer than they were resolved to when acknowledged (another writer linked an identifier first).", nil, nil)
	journalDropped  = prometheus.NewDesc("touchpoint_ingest_journal_dropped_events_total", "Acknowledged events the store refused when storing them (each is logged).", nil, nil)
)

func (c journalCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- journalBacklog
	ch <- journalStored
	ch <- journalRerouted
	ch <- journalDropped
}

func (c journalCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.j.Stats()
	ch <- prometheus.MustNewConstMetric(journalBacklog, prometheus.GaugeValue, float64(st.Backlog))
	ch <- prometheus.MustNewConstMetric(journalStored, prometheus.CounterValue, float64(st.Stored))
	ch <- prometheus.MustNewConstMetric(journalRerouted, prometheus.CounterValue, float64(st.Rerouted))
	ch <- prometheus.MustNewConstMetric(journalDropped, prometheus.CounterValue, float64(st.DroppedAtSave))
}
